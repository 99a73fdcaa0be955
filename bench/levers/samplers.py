"""Levers: (c) nutpie's NUTS driven by stanli's gradient of our own program, and
(d) shorter warmup from good starting points, against stanli's NUTS with
default settings -- all on the generated (plain) program or a shape from
shapes.py.

    python bench/levers/samplers.py reference [--shape plain] [--runs stanli,nutpie,pathfinder300,opt300]

Reports wall and CPU time, leapfrog steps per draw, min bulk ESS over every
parameter (b, Intercept_c, sd_t, sigma and the effects r_t = sd_t * z_t,
rebuilt from the unconstrained draws), divergences, and the posterior means of
the sds and sigma (so a faster run that lands elsewhere shows).
"""

from __future__ import annotations

import argparse
import re
import time

import arviz as az
import numpy as np
import stanli

import common
import shapes
import stanmer


def layout(data: dict) -> list[tuple[str, int]]:
    """The unconstrained vector of the generated intercept-only program, in order."""
    T = sum(1 for key in data if re.fullmatch(r"J_\d+", key))
    out = [("b", data["K"]), ("Intercept_c", 1)]
    for t in range(1, T + 1):
        out += [(f"sd_{t}", 1), (f"z_{t}", data[f"J_{t}"])]
    return out + [("sigma", 1)]


def constrained(draws: np.ndarray, data: dict) -> dict[str, np.ndarray]:
    """(chain, draw, dim) unconstrained draws -> named constrained draws, r_t included."""
    out, start = {}, 0
    for name, size in layout(data):
        block = draws[..., start:start + size]
        start += size
        out[name] = np.exp(block[..., 0]) if name.startswith("sd_") or name == "sigma" else block
    for name in [n for n in out if n.startswith("z_")]:
        t = name[2:]
        out[f"r_{t}"] = out[f"sd_{t}"][..., None] * out[name]
    return {k: (v[..., 0] if v.ndim == 3 and v.shape[-1] == 1 else v) for k, v in out.items()}


def summary(draws: dict[str, np.ndarray]) -> tuple[float, str]:
    idata = az.from_dict(posterior={k: v for k, v in draws.items() if not k.startswith("z_")})
    ess = az.ess(idata, method="bulk")
    per = {v: float(np.min(ess[v].values)) for v in ess.data_vars}
    worst = min(per, key=per.get)
    return per[worst], worst


def run_stanli(program: str, data: dict, warmup: int, start: str | None) -> dict:
    model = stanli.Model(stan_code=program, data=data)
    kwargs = {}
    if start == "pathfinder":
        kwargs["pathfinder_init"] = {}
    elif start == "optimize":
        kwargs["inits"] = model.optimize(seed=1).unconstrained
    started, cpu = time.perf_counter(), common.cpu_seconds()
    fit = model.sample(chains=4, seed=1, warmup=warmup, samples=1000, refresh=0, **kwargs)
    wall, cpu = time.perf_counter() - started, common.cpu_seconds() - cpu
    idata = fit.to_arviz()
    names = [n for n, _ in layout(data)]
    draws = {n: np.asarray(idata.posterior[n].values) for n in names}
    T = sum(1 for n in names if n.startswith("z_"))
    for t in range(1, T + 1):
        draws[f"r_{t}"] = draws[f"sd_{t}"][..., None] * draws[f"z_{t}"]
    return {"wall": wall, "cpu": cpu, "steps": float(np.mean(fit["n_leapfrog__"])),
            "div": int(fit.divergences.sum()), "draws": draws}


def run_nutpie(program: str, data: dict, warmup: int) -> dict:
    import nutpie
    from nutpie.compiled_pyfunc import from_pyfunc

    mir = stanli.stan_to_mir(program)
    ndim = sum(size for _, size in layout(data))

    def make_logp():
        model = stanli.Model(mir=mir, data=data)  # one model per chain: no shared state

        def logp(x):
            lp, grad = model.log_prob_grad(x)
            return float(lp), np.asarray(grad, dtype=np.float64)

        return logp

    def make_expand(seed1, seed2, chain):
        return lambda x: {"x": np.asarray(x, dtype=np.float64)}

    compiled = from_pyfunc(ndim, make_logp, make_expand, [np.dtype("float64")], [(ndim,)], ["x"],
                           make_initial_point_fn=lambda seed: np.random.default_rng(seed).uniform(-2, 2, ndim))
    started, cpu = time.perf_counter(), common.cpu_seconds()
    trace = nutpie.sample(compiled, draws=1000, tune=warmup, chains=4, cores=2, seed=1, progress_bar=False)
    wall, cpu = time.perf_counter() - started, common.cpu_seconds() - cpu
    x = np.asarray(trace.posterior["x"].values)
    stats = trace.sample_stats
    return {"wall": wall, "cpu": cpu, "steps": float(stats["n_steps"].mean()),
            "div": int(stats["diverging"].sum()), "draws": constrained(x, data)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("model", nargs="?", default="reference")
    parser.add_argument("--shape", default="plain")
    parser.add_argument("--runs", default="stanli,nutpie,pathfinder300,opt300,pathfinder150")
    args = parser.parse_args()
    if args.model == "insteval":
        frame, _ = common.load("insteval")
        formula = common.INSTEVAL_FORMULA
    else:
        frame, formula = common.reference_data(), common.REFERENCE_FORMULA
    code, data = stanmer.stan_code(formula, frame), stanmer.stan_data(formula, frame)
    program = shapes.VARIANTS[args.shape](code)
    data = {**data, **shapes.extra_data(args.shape, data)}
    print(f"{args.model}, shape {args.shape}; 4 chains x 1000 draws")
    print(f"{'run':<15}{'warmup':>7}{'wall s':>7}{'CPU s':>7}{'steps':>6}{'min ESS':>8}{'worst':>10}"
          f"{'ESS/CPU-s':>10}{'div':>4}  sd/sigma means  load")
    for run in args.runs.split(","):
        match = re.fullmatch(r"([a-z]+)(\d*)", run)
        kind, warmup = match.group(1), int(match.group(2) or 1000)
        if kind == "nutpie":
            r = run_nutpie(program, data, warmup)
        else:
            r = run_stanli(program, data, warmup, {"pathfinder": "pathfinder", "opt": "optimize"}.get(kind))
        ess, worst = summary(r["draws"])
        means = " ".join(f"{float(np.mean(v)):.3f}" for k, v in r["draws"].items() if k.startswith("sd_") or k == "sigma")
        print(f"{run:<15}{warmup:>7}{r['wall']:>7.1f}{r['cpu']:>7.1f}{r['steps']:>6.1f}{ess:>8.0f}{worst:>10}"
              f"{ess / r['cpu']:>10.1f}{r['div']:>4}  {means}  {common.loadavg()}", flush=True)


if __name__ == "__main__":
    main()
