"""One model per family on families.csv: name -> (formula, family, link)."""

MODELS = {
    "gaussian": ("y_gaussian ~ x + (1 | g)", "gaussian", None),
    "gaussian_log": ("y_gaussian_log ~ x + (1 | g)", "gaussian", "log"),
    "student": ("y_student ~ x + (1 | g)", "student", None),
    "lognormal": ("y_lognormal ~ x + (1 | g)", "lognormal", None),
    "bernoulli": ("y_bernoulli ~ x + (1 | g)", "bernoulli", None),
    "bernoulli_probit": ("y_bernoulli ~ x + (1 | g)", "bernoulli", "probit"),
    "binomial": ("y_successes | trials(trials) ~ x + (1 | g)", "binomial", None),
    "poisson": ("y_poisson ~ x + offset(np.log(exposure)) + (1 | g)", "poisson", None),
    "negbinomial": ("y_negbinomial ~ x + (1 | g)", "negbinomial", None),
    "gamma": ("y_gamma ~ x + (1 | g)", "gamma", None),
    "beta": ("y_beta ~ x + (1 | g)", "beta", None),
    "exponential": ("y_exponential ~ x + (1 | g)", "exponential", None),
    "weibull": ("y_weibull ~ x + (1 | g)", "weibull", None),
    "cumulative": ("y_cumulative ~ x + (1 | g)", "cumulative", None),
    "cumulative_probit": ("y_cumulative ~ x + (1 | g)", "cumulative", "probit"),
    **{
        name: (f"y_{name} ~ x + (1 | g)", name, None)
        for name in (
            "zero_inflated_poisson", "zero_inflated_negbinomial", "hurdle_poisson", "hurdle_negbinomial",
            "hurdle_lognormal",
        )
    },
}
