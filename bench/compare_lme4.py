"""stanmer's posterior means beside lme4's estimates on the example models.

    python bench/compare_lme4.py

Needs R with lme4 (`apt-get install r-cran-lme4`); it is a benchmark, so no
test depends on it. For each model it prints lme4's fixed effects (with
standard errors) and group sds next to stanmer's posterior means, and the
gap in lme4 standard errors.
"""

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples" / "ifsc"))

import ifsc_data  # noqa: E402

import stanmer  # noqa: E402

# name -> (formula, data, stanmer family, lme4 call)
MODELS = {
    "ifsc_fit_a": (
        "score_final ~ 1 + score_semi + score_quali + (1 | comp_id) + (1 | athlete_id)",
        ifsc_data.load_wide(), "gaussian", "lmer",
    ),
    "ifsc_slopes": (
        "score_final ~ score_semi + score_quali + (1 | comp_id) + (1 + score_semi | athlete_id)",
        ifsc_data.load_wide(), "gaussian", "lmer",
    ),
    "glmm_binomial_cbind": (
        "cbind(incidence, size - incidence) ~ factor(period) + (1 | herd)",
        pd.read_csv(ROOT / "examples" / "glmm" / "herds.csv"), "binomial", "glmer",
    ),
    "glmm_poisson_offset": (
        "claims ~ urban + year + offset(log(exposure)) + (1 | district)",
        pd.read_csv(ROOT / "examples" / "glmm" / "claims.csv"), "poisson", "glmer",
    ),
}

R_SCRIPT = r"""
suppressMessages(library(lme4))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
for (col in c("comp_id", "athlete_id", "herd", "district")) if (col %in% names(d)) d[[col]] <- factor(d[[col]])
f <- as.formula(args[2])
m <- if (args[3] == "lmer") lmer(f, data = d) else glmer(f, data = d, family = args[4])
co <- summary(m)$coefficients
for (term in rownames(co)) cat("fixef", term, co[term, 1], co[term, 2], sep = "\t", fill = TRUE)
vc <- as.data.frame(VarCorr(m))
vc <- vc[is.na(vc$var2), ]
for (i in seq_len(nrow(vc))) cat("sd", paste(vc$grp[i], vc$var1[i]), vc$sdcor[i], NA, sep = "\t", fill = TRUE)
"""

# lme4 spells terms its own way; stanmer's names for the same columns
TO_STANMER = {"(Intercept)": "Intercept", "factor(period)2": "C(period)[2]", "factor(period)3": "C(period)[3]",
              "factor(period)4": "C(period)[4]"}


def lme4_estimates(name: str, formula: str, data: pd.DataFrame, call: str, family: str, work: Path) -> dict:
    path = work / f"{name}.csv"
    data.to_csv(path, index=False)
    script = work / "fit.R"
    script.write_text(R_SCRIPT)
    result = subprocess.run(["Rscript", str(script), str(path), formula, call, family],
                            capture_output=True, text=True, check=True)
    estimates = {"fixef": {}, "se": {}, "sd": {}}
    for line in result.stdout.splitlines():
        kind, term, value, se = line.split("\t")
        if kind == "fixef":
            estimates["fixef"][term], estimates["se"][term] = float(value), float(se)
        else:
            estimates["sd"][term] = float(value)
    return estimates


def stanmer_formula(formula: str) -> str:
    """The same model in formulae's spelling of the transformations."""
    return formula.replace("factor(period)", "C(period)").replace("offset(log(", "offset(np.log(")


def main() -> None:
    if shutil.which("Rscript") is None:
        sys.exit("Rscript not found: apt-get install r-cran-lme4")
    with tempfile.TemporaryDirectory() as tmp:
        for name, (formula, data, family, call) in MODELS.items():
            lme4 = lme4_estimates(name, formula, data, call, family, Path(tmp))
            fit = stanmer.fit(stanmer_formula(formula), data, family=family, seed=1, progress=False)
            table = fit.summary()
            print(f"\n{name}: {formula}  ({call}, {family})")
            print(f"  {'term':<28}{'lme4':>10}{'(se)':>9}{'stanmer':>10}{'gap/se':>8}")
            for term, estimate in lme4["fixef"].items():
                se = lme4["se"][term]
                mean = table.loc[f"b[{TO_STANMER.get(term, term)}]", "mean"]
                print(f"  {term:<28}{estimate:>10.4g}{se:>9.3g}{mean:>10.4g}{(mean - estimate) / se:>+8.2f}")
            for group_term, sd in lme4["sd"].items():
                group, coef = group_term.split(" ", 1)
                key = "sigma" if group == "Residual" else f"sd_{group}[{TO_STANMER.get(coef, coef)}]"
                print(f"  sd {group_term:<25}{sd:>10.4g}{'':>9}{table.loc[key, 'mean']:>10.4g}")


if __name__ == "__main__":
    main()
