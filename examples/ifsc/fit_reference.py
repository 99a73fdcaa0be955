"""Reference example: Fit A of the IFSC boulder data, beside lme4's published figures.

    python examples/ifsc/fit_reference.py

Fits score_final ~ 1 + score_semi + score_quali + (1 | comp_id) + (1 | athlete_id)
on all 88 finalist rows and prints stanmer's summary, then the published lme4
(REML) estimates next to stanmer's posterior means.
"""

import time

import ifsc_data

import stanmer

FORMULA = "score_final ~ 1 + score_semi + score_quali + (1 | comp_id) + (1 | athlete_id)"

# Published lme4 (REML) figures for Fit A: estimate, standard error (fixed
# effects) or standard deviation (variance components).
LME4 = {
    "b[Intercept]": (8.2864, 15.1752),
    "b[score_semi]": (0.1727, 0.1523),
    "b[score_quali]": (0.3618, 0.1335),
    "sd_athlete_id[Intercept]": (13.68, None),
    "sd_comp_id[Intercept]": (10.78, None),
    "sigma": (13.78, None),
}


def main() -> None:
    started = time.perf_counter()
    data = ifsc_data.load_wide()
    fit = stanmer.fit(FORMULA, data, seed=20251126, progress=False)
    print(fit)
    table = fit.summary()
    print("\nstanmer posterior mean vs lme4 (REML):")
    print(f"{'parameter':<26}{'lme4':>10}{'stanmer':>10}{'95% interval':>22}{'diff/SE':>9}")
    for name, (estimate, se) in LME4.items():
        row = table.loc[name]
        gap = f"{(row['mean'] - estimate) / se:+.2f}" if se else ""
        interval = f"[{row['q2.5']:.2f}, {row['q97.5']:.2f}]"
        print(f"{name:<26}{estimate:>10.4g}{row['mean']:>10.4g}{interval:>22}{gap:>9}")
    print(f"\nfrom data to summary in {time.perf_counter() - started:.1f} s "
          f"(sampling {fit.timings['sample_seconds']:.1f} s, engine {fit.idata.attrs['engine']})")


if __name__ == "__main__":
    main()
