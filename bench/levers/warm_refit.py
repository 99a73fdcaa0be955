import sys, time, warnings, numpy as np
sys.path.insert(0, "examples/ifsc")
import ifsc_data, stanmer, arviz as az
F = "score_final ~ 1 + score_semi + score_quali + (1 | comp_id) + (1 | athlete_id)"
d = ifsc_data.load_wide()
rng = np.random.default_rng(0)
sub = d.drop(index=rng.choice(d.index, 9, replace=False))
def cpu(): 
    import resource; r=resource.getrusage(resource.RUSAGE_SELF); return r.ru_utime+r.ru_stime
def run(label, f):
    c=cpu(); w=time.perf_counter(); fit=f(); c=cpu()-c; w=time.perf_counter()-w
    s=fit.summary(); d=fit.diagnostics
    print(f"{label:28s} wall {w:5.2f} cpu {c:5.2f} minESS {d.min_ess_bulk:6.0f} maxRhat {d.max_rhat:.3f} div {d.divergences} steps {float(fit.idata.sample_stats['n_steps'].mean()):.1f}", flush=True)
    return fit
base = run("cold, full data", lambda: stanmer.fit(F, d, seed=1, progress=False))
for seed in (2,3):
    cold = run(f"cold, 79 rows, seed {seed}", lambda: stanmer.fit(F, sub, seed=seed, progress=False))
    warm = run(f"update(79 rows), seed {seed}", lambda: base.update(sub, seed=seed, progress=False))
    a, b = cold.summary(), warm.summary()
    z = ((b['mean']-a['mean'])/a['sd']).abs()
    print("   max |mean diff|/sd over", len(z), "rows:", round(z.max(),3), z.idxmax(), " sd ratio range", round((b['sd']/a['sd']).min(),3), round((b['sd']/a['sd']).max(),3))
