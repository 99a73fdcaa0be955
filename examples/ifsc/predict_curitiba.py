"""Reference example: Fit B of the IFSC boulder data, predicting the held-out
Curitiba finals beside lme4's and a published Bayesian fit's predictions.

    python examples/ifsc/predict_curitiba.py

Fits score_final ~ 1 + score_semi + score_quali + (1 | event_name:gender) + (1 | athlete_name)
on the 72 training rows and predicts the 16 Curitiba rows (kind="mean") twice:
- new_levels="zero": the new event:gender level (and new athletes) contribute 0,
  as lme4's allow.new.levels does, so these means should match lme4's;
- new_levels="sample": new levels are drawn from the fitted group
  distribution, so the means stay close but the intervals widen by the
  event-to-event spread.

athlete_name spells one athlete two ways ("Matsufuji Anon" at Bern,
"MATSUFUJI Anon" at Innsbruck); lme4's published fit used the names as they
are, so this script does too: Curitiba's "MATSUFUJI Anon" is the Innsbruck level.
"""

import time

import ifsc_data
import pandas as pd

import stanmer

FORMULA = "score_final ~ 1 + score_semi + score_quali + (1 | event_name:gender) + (1 | athlete_name)"

# Published predictions for the Curitiba rows (examples' data README):
# athlete_name -> (lme4, Bayesian NUTS with weak priors and new levels at 0).
PUBLISHED = {
    "ANRAKU Sorato": (86.0, 84.4),
    "SCHALCK Mejdi": (57.7, 56.4),
    "NARASAKI Tomoa": (56.6, 56.6),
    "AMAGASA Sohta": (59.9, 59.7),
    "FUJIWAKI Yuji": (45.6, 47.1),
    "PEHARC Anze": (43.8, 45.1),
    "JENFT Paul": (48.3, 49.4),
    "POSCH Jan-Luca": (50.6, 51.0),
    "MEIGNAN Naïlé": (61.8, 61.4),
    "BERTONE Oriane": (72.1, 71.0),
    "MORONI Camilla": (60.6, 60.4),
    "NAKAMURA Mao": (64.7, 63.8),
    "SEKIKAWA Melody": (51.9, 53.6),
    "ITO Futaba": (52.1, 53.0),
    "MATSUFUJI Anon": (54.9, 50.9),
    "SANDERS Nekaia": (48.5, 47.7),
}


def prediction_table(fit: stanmer.Fit, test: pd.DataFrame) -> pd.DataFrame:
    zero = fit.predict_summary(test, kind="mean", new_levels="zero")
    sample = fit.predict_summary(test, kind="mean", new_levels="sample", seed=1)
    published = pd.DataFrame(
        [PUBLISHED[name] for name in test["athlete_name"]], index=test.index, columns=["lme4", "bayes_pub"]
    )
    return pd.DataFrame(
        {
            "gender": test["gender"],
            "athlete_name": test["athlete_name"],
            "observed": test["score_final"],
            "lme4": published["lme4"],
            "bayes_pub": published["bayes_pub"],
            "zero_mean": zero["mean"],
            "sample_mean": sample["mean"],
            "zero_width95": zero["q97.5"] - zero["q2.5"],
            "sample_width95": sample["q97.5"] - sample["q2.5"],
        }
    )


def main() -> None:
    started = time.perf_counter()
    train, test = ifsc_data.train_test()
    fit = stanmer.fit(FORMULA, train, seed=20251126, progress=False)
    print(fit)
    table = prediction_table(fit, test)
    print("\nCuritiba finals (kind='mean'; widths are of 95% intervals):")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.1f}"))
    gap = (table["zero_mean"] - table["lme4"]).abs()
    print(f"\nmax |zero - lme4| = {gap.max():.2f} ({table.loc[gap.idxmax(), 'athlete_name']})")
    print(f"mean |sample - zero| = {(table['sample_mean'] - table['zero_mean']).abs().mean():.2f}; "
          f"median width ratio sample/zero = {(table['sample_width95'] / table['zero_width95']).median():.2f}")
    print(f"\nfrom data to table in {time.perf_counter() - started:.1f} s (engine {fit.idata.attrs['engine']})")


if __name__ == "__main__":
    main()
