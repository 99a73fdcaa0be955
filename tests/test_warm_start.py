"""Warm-started refits (stanmer.fit(..., warm_start=fit), Fit.update): the
earlier fit's metric, step size and last draws are mapped onto the new
program's parameters, and the refit reaches the cold fit's posterior."""

import numpy as np
import pandas as pd
import pytest
import stanli

import stanmer
from stanmer.codegen import executable_text
from stanmer.errors import OptionError
from stanmer.parametrisation import parametrise
from stanmer.warm_start import WARMUP_OTHER_DATA, WARMUP_SAME_DATA, parameter_blocks

QUICK = dict(engine="stanli", chains=2, warmup=300, draws=300, progress=False)


def simulate(seed: int, groups: int, rows: int = 12) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(groups), rows)
    x = rng.normal(size=g.size)
    effects = rng.normal(scale=[0.8, 0.4], size=(groups, 2))
    y = 1.0 + 0.5 * x + effects[g, 0] + effects[g, 1] * x + rng.normal(scale=0.7, size=g.size)
    return pd.DataFrame({"y": y, "x": x, "g": g.astype(str)})


@pytest.fixture(scope="module")
def slopes_fit():
    return stanmer.fit("y ~ x + (1 + x | g)", simulate(1, 30), seed=3, **QUICK)


@pytest.mark.parametrize(
    "formula, family",
    [
        ("y ~ x + (1 + x | g)", "gaussian"),
        ("y ~ x + (1 | g) + (0 + x | g)", "gaussian"),
        ("count ~ x + (1 | g)", "zero_inflated_poisson"),
        ("level ~ x + (1 | g)", "cumulative"),
    ],
)
def test_parameter_blocks_cover_stans_unconstrained_vector(formula, family):
    data = simulate(2, 10)
    data["count"] = np.random.default_rng(0).poisson(1.0, len(data))
    data["level"] = pd.cut(data["y"], 4, labels=False) + 1
    fit = stanmer.fit(formula, data, family, seed=1, engine="stanli", chains=1, warmup=50, draws=5, progress=False)
    program = executable_text(fit.stan_code)
    model = stanli.Model(stan_code=program, data=fit.stan_data)
    unconstrained = model.unconstrain(fit.adaptation.last_draws[0])
    blocks = parameter_blocks(program, fit.stan_data)
    assert sum(block.unconstrained_size for block in blocks) == unconstrained.size == fit.adaptation.inv_metric.size


def test_a_refit_of_the_same_data_keeps_the_metric(slopes_fit):
    refit = slopes_fit.update(priors=[stanmer.prior("normal(0, 2)", "b")], seed=4)
    assert refit.adaptation.warmup == WARMUP_SAME_DATA
    # under 150 warmup iterations Stan adapts the step size only: the metric given is the metric kept
    np.testing.assert_allclose(refit.adaptation.inv_metric, slopes_fit.adaptation.inv_metric, rtol=1e-12)
    assert refit.priors.set_index("class").loc["b", "prior"] == "normal(0, 2)"


def test_update_to_new_data_reaches_the_cold_posterior(slopes_fit):
    new_data = simulate(5, 30)
    warm = slopes_fit.update(new_data, seed=4, draws=1000)
    assert warm.adaptation.warmup == WARMUP_OTHER_DATA  # other data: the metric is adapted again
    cold = stanmer.fit("y ~ x + (1 + x | g)", new_data, seed=4, **(QUICK | dict(warmup=1000, draws=1000)))
    assert warm.diagnostics.max_rhat < 1.02 and warm.diagnostics.divergences == 0
    ours, theirs = warm.summary(), cold.summary()
    gaps = ((ours["mean"] - theirs["mean"]) / theirs["sd"]).abs()
    assert gaps.max() < 0.2, gaps.sort_values().tail()


def test_a_member_with_more_groups_starts_from_the_matching_parameters(slopes_fit):
    bigger = simulate(6, 45)
    # the rule alone would sample these data non-centred, the earlier fit centred
    assert not parametrise(stanmer.design("y ~ x + (1 + x | g)", bigger)).spec.group_terms[0].centred
    warm = stanmer.fit("y ~ x + (1 + x | g)", bigger, seed=5, warm_start=slopes_fit, **(QUICK | dict(warmup=None)))
    assert [t.centred for t in warm.spec.group_terms] == [t.centred for t in slopes_fit.spec.group_terms] == [True]
    assert warm.adaptation.inv_metric.size == slopes_fit.adaptation.inv_metric.size + 2 * 15
    assert warm.adaptation.warmup == WARMUP_OTHER_DATA
    assert warm.diagnostics.max_rhat < 1.05
    assert warm.summary().loc["b[x]", "mean"] == pytest.approx(0.5, abs=0.3)


def test_warm_start_refuses_another_structure_and_other_methods(slopes_fit):
    data = simulate(1, 30)
    with pytest.raises(OptionError, match="same model structure"):
        stanmer.fit("y ~ x + (1 | g)", data, warm_start=slopes_fit, **QUICK)
    point = stanmer.fit("y ~ x + (1 | g)", data, method="optimize", engine="stanli", progress=False)
    with pytest.raises(OptionError, match="made by NUTS"):
        stanmer.fit("y ~ x + (1 | g)", data, warm_start=point, **QUICK)
    with pytest.raises(OptionError, match="needs method='sample'"):
        stanmer.fit("y ~ x + (1 + x | g)", data, warm_start=slopes_fit, method="optimize", engine="stanli")


def test_update_asks_for_weights_of_new_data():
    data = simulate(1, 10).assign(w=1.0)
    weighted = stanmer.fit("y ~ x + (1 | g)", data, weights="w", seed=1, **QUICK)
    with pytest.raises(OptionError, match="weights="):
        weighted.update(simulate(2, 10))


def test_a_saved_fit_warm_starts_its_refit(slopes_fit, tmp_path):
    slopes_fit.save(tmp_path / "fit")
    loaded = stanmer.load(tmp_path / "fit")
    np.testing.assert_array_equal(loaded.adaptation.inv_metric, slopes_fit.adaptation.inv_metric)
    for saved, kept in zip(loaded.adaptation.last_draws, slopes_fit.adaptation.last_draws):
        assert saved.keys() == kept.keys()
        for name in kept:
            np.testing.assert_array_equal(saved[name], kept[name])
    refit = loaded.update(seed=2)
    np.testing.assert_allclose(refit.adaptation.inv_metric, slopes_fit.adaptation.inv_metric, rtol=1e-12)


def test_update_keeps_the_formulas_of_auxiliary_parameters():
    data = simulate(3, 20)
    first = stanmer.fit(stanmer.bf("y ~ x + (1 | g)", sigma="~ x"), data, seed=1, **QUICK)
    refit = first.update(priors=[stanmer.prior("normal(0, 0.5)", "b", dpar="sigma")], seed=2)
    assert refit.adaptation.warmup == WARMUP_SAME_DATA
    assert [part.name for part in refit.spec.aux_parts] == ["sigma"] and "b[sigma_x]" in refit.summary().index
