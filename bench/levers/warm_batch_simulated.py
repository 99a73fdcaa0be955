import sys, warnings, resource, numpy as np
sys.path.insert(0, "bench"); sys.path.insert(0, "bench/levers")
warnings.simplefilter("ignore")
import run as bench, stanmer
frame = bench.batch_data(10)
sets = [g.drop(columns="dataset") for _, g in frame.groupby("dataset")]
def cpu():
    r=resource.getrusage(resource.RUSAGE_SELF); return r.ru_utime+r.ru_stime
leader = stanmer.fit("y ~ x + (1 | g)", sets[0], seed=1, progress=False)
for label, kw in (("cold", {}), ("warm100", dict(warm_start=leader)), ("warm200", dict(warm_start=leader, warmup=200)), ("warm300", dict(warm_start=leader, warmup=300))):
    ess, rh, cpus = [], [], []
    for data in sets[1:]:
        c = cpu(); f = stanmer.fit("y ~ x + (1 | g)", data, seed=1, progress=False, **kw); cpus.append(cpu()-c)
        ess.append(f.diagnostics.min_ess_bulk); rh.append(f.diagnostics.max_rhat)
    print(f"{label:8s} cpu/model {np.median(cpus):.2f}  minESS min {min(ess):.0f} median {np.median(ess):.0f}  maxRhat {max(rh):.3f}  ESS/CPU-s median {np.median(np.array(ess)/np.array(cpus)):.0f}", flush=True)
