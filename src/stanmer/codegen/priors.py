"""Prior statements whose hyperparameters are data.

Each prior block `<target>` with distribution D gets one data variable per
argument of D, named `<target>_prior_<argument>`, so the numbers can change
without a new program. The distribution itself is structure.
"""

from __future__ import annotations

from ..errors import PriorError
from ..priors import Prior, distribution_params
from ..stan_text import decl
from .blocks import Program


def common_distribution(priors: list[Prior], target: str) -> str:
    """The one distribution a vectorised block of priors shares."""
    names = sorted({p.distribution for p in priors})
    if len(names) != 1:
        listed = ", ".join(f"{p.coef or p.cls}: {p}" for p in priors)
        raise PriorError(
            f"the priors on {target} mix distributions ({listed}); within one parameter block "
            "use one distribution and vary only its numbers per coefficient"
        )
    return names[0]


def add_prior(
    program: Program, target: str, parameter: str, priors: list[Prior], size: str | None, comment: str
) -> None:
    """Declare the hyperparameter data of `target` and the `target +=` line
    on the Stan `parameter` that represents it.

    `size` is None for a scalar parameter, else the Stan size expression of
    the vector parameter (one hyperparameter per element).
    """
    distribution = common_distribution(priors, target)
    arguments = []
    for arg in distribution_params(distribution):
        name = f"{target}_prior_{arg}"
        kind = "real" if size is None else f"vector[{size}]"
        if arg != "mu":
            kind = kind.replace("real", "real<lower=0>").replace("vector[", "vector<lower=0>[")
        program.prior_data.append(decl(f"{kind} {name};", f"{arg} of the {distribution} prior on {comment}"))
        arguments.append(name)
    if distribution == "lkj":
        statement = f"target += lkj_corr_cholesky_lpdf({parameter} | {arguments[0]});"
    else:
        statement = f"target += {distribution}_lpdf({parameter} | {', '.join(arguments)});"
    program.add("model", statement)
