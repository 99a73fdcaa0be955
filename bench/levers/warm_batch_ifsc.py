import sys, time, warnings, resource
import pandas as pd, stanmer
warnings.simplefilter("ignore")
d = pd.read_csv("examples/ifsc/processed_ifsc_boulder_results_2025.csv")
F = "score_final ~ score_semi + score_quali + (1 | comp_id) + (1 | athlete_id)"
def cpu():
    r=resource.getrusage(resource.RUSAGE_SELF); return r.ru_utime+r.ru_stime
leader = stanmer.fit(F, d[d.gender=="female"], seed=1, adapt_delta=0.99, progress=False)
members = {"male": (F, d[d.gender=="male"], 0.99), "semi_only": ("score_final ~ score_semi + (1 | comp_id) + (1 | athlete_id)", d, 0.8),
           "with_gender": ("score_final ~ score_semi + score_quali + gender + (1 | comp_id) + (1 | athlete_id)", d, 0.8)}
for name, (f, rows, ad) in members.items():
    for label, kw in (("cold", {}), ("warm100", dict(warm_start=leader)), ("warm300", dict(warm_start=leader, warmup=300))):
        for seed in (2, 3):
            c = cpu(); fit = stanmer.fit(f, rows, seed=seed, adapt_delta=ad, progress=False, **kw); c = cpu() - c
            g = fit.diagnostics
            print(f"{name:12s} {label:8s} seed {seed} cpu {c:5.2f} maxRhat {g.max_rhat:.3f} minESS {g.min_ess_bulk:5.0f} div {g.divergences}", flush=True)
