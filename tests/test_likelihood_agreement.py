"""The numpy log-likelihood (what loo and prediction use) agrees with the
Stan program it stands for, for every family × link, with and without
weights, offsets and trials, censoring and known standard errors.

At parameter values drawn by a short stanli run, the program's log density
with the likelihood on minus the same with it off (prior_only) is the
likelihood's sum; the numpy pointwise log-likelihood must sum to it. The
program is evaluated with full densities (_lpdf for _lupdf), since _lupdf
leaves out constants the numpy side keeps.
"""

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import stanmer
from stanmer.engines import get_engine
from stanmer.families import FAMILIES
from stanmer.pipeline import build_model
from stanmer.results.fit import Fit
from stanmer.results.idata import to_inference_data
from stanmer.sampling import SamplerOptions

stanli = pytest.importorskip("stanli")

ROOT = Path(__file__).resolve().parents[1]

RESPONSES = {
    "gaussian": "y_gaussian", "student": "y_student", "lognormal": "y_lognormal", "bernoulli": "y_bernoulli",
    "binomial": "y_successes | trials(trials)", "poisson": "y_poisson", "negbinomial": "y_negbinomial",
    "gamma": "y_gamma", "beta": "y_beta", "exponential": "y_gamma", "weibull": "y_gamma",
    "zero_inflated_poisson": "y_poisson", "zero_inflated_negbinomial": "y_negbinomial",
    "hurdle_poisson": "y_poisson", "hurdle_negbinomial": "y_negbinomial", "hurdle_lognormal": "y_semicontinuous",
    "cumulative": "y_cumulative",
}
RIGHT_SIDES = {
    # the GLM functions where a family has one; a correlated group term
    "plain": ("x + (1 + x | g)", None),
    # row-by-row weighted likelihood, an offset, a group slope without correlation
    "weights+offset": ("x + offset(0.3 * exposure) + (1 | g) + (0 + x | g)", "exposure"),
    # no Intercept_c: the GLM's intercept argument is the group effects alone
    "no intercept": ("0 + x + (1 | g)", None),
}
FAMILY_LINKS = [(name, link) for name, definition in FAMILIES.items() for link in definition.links]
CENSORABLE = [name for name, definition in FAMILIES.items() if definition.censorable]


@pytest.fixture(scope="module")
def rows():
    data = pd.read_csv(ROOT / "examples" / "families" / "families.csv").head(120).copy()
    kinds = np.array(["none", "left", "right", "interval"])
    data["censored"] = kinds[np.arange(len(data)) % 4]
    data["se"] = 0.2 + data["exposure"] / 3
    data["y_semicontinuous"] = np.where(data["y_bernoulli"] == 0, 0.0, data["y_gamma"])
    return data


def parameter_names(program: str) -> list[str]:
    block = re.search(r"\nparameters \{\n(.*?)\n\}", program, re.S).group(1)
    return [re.search(r"(\w+);", line).group(1) for line in block.splitlines() if ";" in line]


def positive_start(model) -> dict:
    """Starting values with a positive linear predictor (the inverse link
    needs one; random starts rarely give it): the intercept 1 / mean(y),
    effects 0, sds and family parameters 1."""
    data, start = model.standata, {}
    for name in parameter_names(model.program):
        t = name.rpartition("_")[2]
        if name == "Intercept_c":
            start[name] = 1 / np.mean(model.design.y)
        elif name == "b":
            start[name] = np.zeros(data["K"])
        elif name.startswith("sd_"):
            start[name] = np.ones(data[f"M_{t}"]) if f"M_{t}" in data else 1.0
        elif name.startswith("z_"):
            start[name] = np.zeros((data[f"M_{t}"], data[f"J_{t}"]) if f"M_{t}" in data else data[f"J_{t}"])
        elif name.startswith("L_"):
            start[name] = np.eye(data[f"M_{t}"])
        else:
            start[name] = 1.0
    return start


def stan_minus_numpy(formula: str, data: pd.DataFrame, family, weights=None) -> np.ndarray:
    """Per draw: (Stan's log-likelihood sum, numpy's)."""
    model = build_model(stanmer.design(formula, data, family, weights=weights))
    inits = positive_start(model) if model.design.spec.family.link == "inverse" else None
    options = SamplerOptions(chains=1, warmup=30, draws=4, seed=5, inits=inits, show_progress=False)
    draws = get_engine("stanli").compile(model.executable, False).sample(model.standata, options)
    spec = model.design.spec
    fit = Fit(spec, to_inference_data(spec, draws, model.design.y), model.program, model.standata, model.design)
    numpy_sums = fit.log_likelihood().values.reshape(draws.n_draws, -1).sum(axis=1)

    full = re.sub(r"_lup([dm])f\(", r"_lp\1f(", model.executable)
    on = stanli.Model(stan_code=full, data={**model.standata, "prior_only": 0})
    off = stanli.Model(stan_code=full, data={**model.standata, "prior_only": 1})
    stan_sums = []
    for d in range(draws.n_draws):
        # engines drop zero-length variables (b_nu of a formula `~ 1`)
        values = {
            name: draws.variables[name][0, d] if name in draws.variables else np.empty(0)
            for name in parameter_names(model.program)
        }
        q = on.unconstrain(values)
        stan_sums.append(on.log_prob_grad(q)[0] - off.log_prob_grad(q)[0])
    return np.array(stan_sums), numpy_sums


def assert_agree(stan_sums, numpy_sums):
    assert np.all(np.isfinite(stan_sums))
    np.testing.assert_allclose(numpy_sums, stan_sums, rtol=1e-8, atol=1e-8)


# an inverse link without an intercept has no positive linear predictor over x of both signs;
# ordinal families keep their intercept (the thresholds)
CASES = [(name, link, variant) for name, link in FAMILY_LINKS for variant in sorted(RIGHT_SIDES)
         if not ((link == "inverse" or FAMILIES[name].ordinal) and variant == "no intercept")]


@pytest.mark.parametrize("name, link, variant", CASES)
def test_numpy_log_likelihood_is_the_programs(name, link, variant, rows):
    rhs, weights = RIGHT_SIDES[variant]
    assert_agree(*stan_minus_numpy(f"{RESPONSES[name]} ~ {rhs}", rows, stanmer.family(name, link), weights))


@pytest.mark.parametrize("name", CENSORABLE)
@pytest.mark.parametrize("weights", [None, "exposure"])
def test_censored_log_likelihood_is_the_programs(name, weights, rows):
    response = RESPONSES[name]
    data = rows.assign(upper=rows[response] + 0.5)
    formula = f"{response} | cens(censored, upper) ~ x + (1 | g)"
    assert_agree(*stan_minus_numpy(formula, data, name, weights))


@pytest.mark.parametrize("sigma", ["", ", sigma = TRUE"])
@pytest.mark.parametrize("weights", [None, "exposure"])
def test_known_se_log_likelihood_is_the_programs(sigma, weights, rows):
    formula = f"y_gaussian | se(se{sigma}) ~ x + (1 | g)"
    assert_agree(*stan_minus_numpy(formula, rows, "gaussian", weights))


DRAW_AUX = {"sigma": 0.6, "nu": 5.0, "shape": 1.7, "phi": 12.0, "zi": 0.3, "hu": 0.25}


@pytest.mark.parametrize("name", sorted(name for name, definition in FAMILIES.items() if not definition.ordinal))
def test_response_draws_follow_the_log_likelihood(name):
    """Draws at one mean: frequencies match the pmf of discrete families;
    continuous ones match the cdf where the family has one; the mean matches
    the expectation (predict kind="mean") where the family defines one or has
    no cdf; hurdles give zeros with probability hu."""
    definition = FAMILIES[name]
    fam = stanmer.family(name)
    mean = {"bernoulli": 0.3, "binomial": 0.3, "beta": 0.3}.get(name, 1.4)
    aux = {a: np.array([[DRAW_AUX[a]]]) for a in fam.aux}
    trials = np.array([6]) if definition.needs_trials else None
    draws = definition.draw(np.full((1, 200_000), mean), aux, np.random.default_rng(1), trials)
    if definition.discrete:
        values = np.arange(0, 8)
        pmf = np.exp(definition.log_likelihood(values[None, :], np.full((1, 8), mean), aux, trials))
        frequencies = (draws[0][:, None] == values[None, :]).mean(axis=0)
        np.testing.assert_allclose(frequencies, pmf[0], atol=4e-3)
    elif definition.censorable:
        points = np.quantile(draws, [0.1, 0.5, 0.9])
        cdf = np.exp(definition.log_cdf(points, np.full(3, mean), {a: v[0] for a, v in aux.items()}))
        np.testing.assert_allclose(cdf, [0.1, 0.5, 0.9], atol=4e-3)
    if definition.expected is not None or not (definition.discrete or definition.censorable):
        expected = definition.expected(np.array([[mean]]), aux)[0, 0] if definition.expected else mean
        assert abs(draws.mean() - expected) < 0.02 * expected
    if "hu" in fam.aux:
        assert abs((draws == 0).mean() - DRAW_AUX["hu"]) < 4e-3


ORDINAL_LINKS = [(name, link) for name, link in FAMILY_LINKS if FAMILIES[name].ordinal]
THRESHOLDS = np.array([[[-1.0, 0.2, 1.4]]])  # (draws, 1, categories - 1)


@pytest.mark.parametrize("name, link", ORDINAL_LINKS)
def test_ordinal_draws_follow_the_category_probabilities(name, link):
    """Codes 1..n drawn as often as their probabilities say; the probabilities
    (predict kind="mean") sum to 1 and are the log-likelihood of each code."""
    definition = FAMILIES[name]
    aux = {"thresholds": THRESHOLDS}
    log_p = definition.location(link, np.full((1, 200_000), 0.4), aux)
    draws = definition.draw(log_p, aux, np.random.default_rng(1), None)
    codes = np.arange(1, 5)
    frequencies = (draws[0][:, None] == codes[None, :]).mean(axis=0)
    probabilities = definition.expected(log_p, aux)[0, 0]
    np.testing.assert_allclose(frequencies, probabilities, atol=4e-3)
    np.testing.assert_allclose(probabilities.sum(), 1.0, rtol=1e-12)
    pointwise = definition.log_likelihood(codes, log_p[:, :4], aux, None)[0]
    np.testing.assert_allclose(np.exp(pointwise), probabilities, rtol=1e-12)


@pytest.mark.parametrize("name, link", ORDINAL_LINKS)
def test_ordinal_log_probabilities_keep_precision_in_the_tails(name, link):
    """Far beyond the thresholds a category's probability is tiny, a difference
    of two cdf values near 0 (eta far above) or near 1 (eta far below); each
    is checked against the difference taken on the side where it has no
    cancellation (the cdf for eta above, the survival function for eta below)."""
    from scipy import stats

    distribution = stats.logistic if link == "logit" else stats.norm
    definition = FAMILIES[name]
    etas = np.array([-30.0, -4.0, 0.3, 4.0, 30.0])
    log_p = definition.location(link, etas[None, :], {"thresholds": THRESHOLDS})[0]
    bounds = np.concatenate([[-np.inf], THRESHOLDS[0, 0], [np.inf]])
    for i, eta in enumerate(etas):
        lower, upper = bounds[:-1] - eta, bounds[1:] - eta
        if eta > 0:
            exact = np.log(distribution.cdf(upper) - distribution.cdf(lower))
        else:
            exact = np.log(distribution.sf(lower) - distribution.sf(upper))
        np.testing.assert_allclose(log_p[i], exact, rtol=1e-10, atol=1e-14)  # near 0 only absolute error counts


# distributional formulas (bf()): the auxiliary parameter per row, through each
# of its links (log for sigma, shape and phi, logm1 for nu, logit for zi and hu)
# and the likelihood's forms (GLM with a vector sigma, vectorised with
# elementwise products and quotients, row by row)
DISTRIBUTIONAL = [
    ("gaussian", "identity", {"sigma": "~ x + (1 | g)"}, None),
    ("gaussian", "identity", {"sigma": "~ x"}, "exposure"),
    ("gaussian", "log", {"sigma": "~ x"}, None),
    ("student", "identity", {"sigma": "~ x + (1 | g)", "nu": "~ 1"}, None),
    ("lognormal", "identity", {"sigma": "~ 0 + x + (1 | g)"}, None),
    ("gamma", "inverse", {"shape": "~ x"}, None),
    ("weibull", "log", {"shape": "~ x + (1 | g)"}, None),
    ("beta", "logit", {"phi": "~ x"}, None),
    ("zero_inflated_poisson", "log", {"zi": "~ x + (1 | g)"}, None),
    ("hurdle_negbinomial", "log", {"hu": "~ x", "shape": "~ (1 | g)"}, None),
    ("hurdle_lognormal", "identity", {"sigma": "~ x", "hu": "~ x"}, "exposure"),
]


@pytest.mark.parametrize("name, link, aux, weights", DISTRIBUTIONAL)
def test_distributional_log_likelihood_is_the_programs(name, link, aux, weights, rows):
    formula = stanmer.bf(f"{RESPONSES[name]} ~ x + (1 | g)", **aux)
    assert_agree(*stan_minus_numpy(formula, rows, stanmer.family(name, link), weights))


def test_distributional_censored_log_likelihood_is_the_programs(rows):
    data = rows.assign(upper=rows["y_gaussian"] + 0.5)
    formula = stanmer.bf("y_gaussian | cens(censored, upper) ~ x + (1 | g)", sigma="~ x + (1 | g)")
    assert_agree(*stan_minus_numpy(formula, data, "gaussian"))


@pytest.mark.parametrize(
    "name, formula, aux",
    [
        ("gaussian", "x + (1 + x |p| g)", {"sigma": "~ x + (1 |p| g)"}),
        ("hurdle_lognormal", "x + (1 |p| g) + (0 + x | g)", {"hu": "~ x + (1 |p| g)", "sigma": "~ (1 |p| g)"}),
    ],
)
def test_shared_group_terms_log_likelihood_is_the_programs(name, formula, aux, rows):
    """`(1 |ID| g)` in several formulas: one correlated term whose columns feed each formula."""
    assert_agree(*stan_minus_numpy(stanmer.bf(f"{RESPONSES[name]} ~ {formula}", **aux), rows, name))
