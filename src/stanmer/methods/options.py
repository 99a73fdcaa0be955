"""Which inference method a fit runs, and its settings, checked before any work."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from stanmer.errors import OptionError

METHOD_NAMES = ("sample", "optimize", "laplace", "pathfinder", "variational")
APPROXIMATE = ("laplace", "pathfinder", "variational")  # draws from an approximation
VARIATIONAL_ALGORITHMS = ("meanfield", "fullrank")


class MethodOptionError(OptionError):
    """An unknown method, or an option the method does not take or cannot use."""


# Options each method takes beyond the NUTS settings, with their defaults.
# optimize: jacobian=False is the penalised maximum likelihood (CmdStan's,
# brms's and rstanarm's `optimizing` default); True is the posterior mode on
# the unconstrained scale. laplace centres on the jacobian=True mode, as
# CmdStan's `laplace` does. iter caps the optimiser / Pathfinder / ADVI.
_DEFAULTS: dict[str, dict[str, Any]] = {
    "sample": {},
    "optimize": {"jacobian": False, "iter": 2000},
    "laplace": {"jacobian": True, "iter": 2000},
    "pathfinder": {"num_paths": 4, "iter": 1000},
    "variational": {"algorithm": "meanfield", "iter": 10000},
}


@dataclass(frozen=True)
class MethodOptions:
    """A method and its settings; `draws` is the number of approximate draws."""

    method: str = "sample"
    draws: int = 1000
    settings: Mapping[str, Any] = field(default_factory=dict)

    @property
    def approximate(self) -> bool:
        return self.method in APPROXIMATE

    def __getitem__(self, name: str) -> Any:
        return self.settings[name]


def method_options(method: str, draws: int = 1000, **given: Any) -> MethodOptions:
    """The validated options of `method`: unknown names and bad values raise
    MethodOptionError naming the option and what it accepts."""
    if method not in METHOD_NAMES:
        raise MethodOptionError(f"unknown method {method!r}; choose one of: {', '.join(METHOD_NAMES)}")
    allowed = _DEFAULTS[method]
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        takes = ", ".join(sorted(allowed)) or "no options beyond the sampler settings"
        raise MethodOptionError(
            f"method={method!r} does not take {', '.join(unknown)}; it takes: {takes}."
        )
    settings = {**allowed, **{k: v for k, v in given.items() if v is not None}}
    _check(method, settings)
    if int(draws) < 1:
        raise MethodOptionError(f"draws must be at least 1, got {draws}")
    return MethodOptions(method, int(draws), settings)


def _check(method: str, settings: dict[str, Any]) -> None:
    if "jacobian" in settings and not isinstance(settings["jacobian"], bool):
        raise MethodOptionError(f"jacobian must be True or False, got {settings['jacobian']!r}")
    for name in ("iter", "num_paths"):
        if name in settings and (not _is_count(settings[name]) or settings[name] < 1):
            raise MethodOptionError(f"{name} must be a whole number of at least 1, got {settings[name]!r}")
    if settings.get("algorithm", "meanfield") not in VARIATIONAL_ALGORITHMS:
        raise MethodOptionError(
            f"algorithm must be one of {', '.join(VARIATIONAL_ALGORITHMS)}, got {settings['algorithm']!r}"
        )
    if method == "laplace" and settings["jacobian"] is False:
        raise MethodOptionError(
            "method='laplace' needs jacobian=True: the normal approximation lives on the "
            "unconstrained scale, where the density includes the Jacobian."
        )


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
