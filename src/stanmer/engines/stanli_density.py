"""stanli's log density as a `LogDensity`, through the BridgeStan model
stanli builds on its own runtime (no compiler, nothing written to disk)."""

from __future__ import annotations

import importlib.util
from typing import Any, Mapping

from stanmer.engines.stanli import _DATA_HINT, _classify, _load_or_compile
from stanmer.errors import EngineError
from stanmer.methods.density import LogDensity


def stanli_log_density(program: str, data: Mapping[str, Any], mir: str | None = None) -> LogDensity:
    """The density of `program` on `data`; `mir` is its compiled form when already at hand."""
    if importlib.util.find_spec("bridgestan") is None:
        raise EngineError(
            "optimize and laplace on stanli need the bridgestan package: `pip install bridgestan` "
            "(pure Python; stanli supplies the compiled model, so no C++ compiler is needed)."
        )
    import stanli

    if mir is None:
        mir, _ = _load_or_compile(program)
    try:
        model = stanli.bridgestan_model(mir=mir, data=dict(data))
    except RuntimeError as error:
        raise _classify(error, "read the data into the program", _DATA_HINT) from error
    return LogDensity(model, program)
