"""Group effects are stored once: the program keeps sd, z (and L), and the
results stage rebuilds r exactly as the program computes it."""

import numpy as np
import pandas as pd
import pytest

import stanmer

stanli = pytest.importorskip("stanli")


def test_effects_rebuilt_from_the_draws_equal_the_programs():
    rng = np.random.default_rng(5)
    n = 90
    frame = pd.DataFrame({"y": rng.normal(size=n), "x": rng.normal(size=n), "w": rng.normal(size=n),
                          "g": rng.integers(0, 6, n), "h": rng.integers(0, 4, n)})
    formula = "y ~ x + (1 + x + w | g) + (1 | h) + (0 + w | h)"
    design = stanmer.design(formula, frame)
    program = stanmer.stan_code(formula, frame)
    assert "transformed parameters" not in program
    # the program's own effect statements, copied into generated quantities to be stored for this check
    statements = [term.kind.effects(t, term).split("  //")[0] for t, term in enumerate(design.spec.group_terms, 1)]
    checked = program.rstrip().rstrip("}") + "\n".join(f"  {s}" for s in statements) + "\n}\n"
    model = stanli.Model(stan_code=checked, data=stanmer.stan_data(formula, frame))
    fit = model.sample(chains=2, warmup=30, samples=10, seed=3, refresh=0)
    variables = {name: np.asarray(fit.draws(name)) for name in fit.variables}
    for t, term in enumerate(design.spec.group_terms, 1):
        rebuilt = term.kind.effect_draws(t, variables)
        stored = variables[f"r_{t}"]
        np.testing.assert_allclose(rebuilt, stored if stored.ndim == 4 else stored[..., None], rtol=1e-12, atol=1e-12)
