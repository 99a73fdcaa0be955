"""Lever: reparametrise the variance components of the reference model (issue 10).

    python bench/levers/variance_split.py ess [--seeds 1,2,3,4]   # every program and baseline, 4 x 1000
    python bench/levers/variance_split.py prior [--draws 10000]   # prior_only = 1: sd_1, sd_2, sigma vs the exact half-t
    python bench/levers/variance_split.py density                # marginal programs vs the exact MVN density (numpy)
    python bench/levers/variance_split.py all

The reference model's slowest quantity is sd_2 (athletes' sd): most athletes
have 1-2 finals, so sd_2 and sigma trade off. Each program in
bench/prototypes/reference_varsplit_*.stan keeps the plain program's priors
on sd_1, sd_2, sigma (student_t halves, numbers from the data) and so its
posterior; `ess` checks that from the draws (pooled means and sds of every
quantity against the plain program's, in Monte Carlo standard errors) and
`prior` checks the Jacobians with the likelihood off.

Min bulk ESS is over b, Intercept_c, Intercept, sd_1, sd_2, sigma and the
effects r_1, r_2 (r_t = sd_t * z_t from the draws where the program has z_t;
the marginal program draws r_t itself). CPU seconds are this process's
(every thread) and its children's, for sampling only.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import arviz as az
import numpy as np
import stanli
import xarray as xr
from scipy import stats

import common
from stanmer.formula import build_design
from stanmer.pipeline import build_model

PROTOTYPES = common.BENCH / "prototypes"
QUANTITIES = ["b", "Intercept_c", "Intercept", "sd_1", "sd_2", "sigma", "r_1", "r_2"]
SCALES = ["sd_1", "sd_2", "sigma"]

# name: (program file, sample() settings beyond the defaults)
RUNS = {
    "plain": ("plain", {}),
    "D plain delta .90": ("plain", {"delta": 0.9}),
    "D plain delta .95": ("plain", {"delta": 0.95}),
    "E plain warmup 2000": ("plain", {"warmup": 2000}),
    "plain dense_e": ("plain", {"metric": "dense_e"}),
    "A total+simplex": ("total_share", {}),
    "B polar sd_2/sigma": ("polar", {}),
    "C1 ratio to sigma": ("ratio", {}),
    "C2 R2D2-style": ("r2d2", {}),
    "C3 marginal": ("marginal", {}),
    "C3 marginal dense_e": ("marginal", {"metric": "dense_e"}),
    "C4 marginal, blocks": ("marginal_schur", {}),
    "C4 marginal, blocks, dense_e": ("marginal_schur", {"metric": "dense_e"}),
    "C5 marginal, by count": ("marginal_counts", {}),
    "C5 marginal, by count, dense_e": ("marginal_counts", {"metric": "dense_e"}),
}


def standata() -> dict:
    design = build_design(common.REFERENCE_FORMULA, common.reference_data(), "gaussian", None, None)
    return dict(build_model(design).standata)


def cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


_models: dict[tuple[str, int], stanli.Model] = {}


# a negative control for the prior check: (A) without its Jacobian must fail it
NO_JACOBIAN = "total_share without Jacobian"


def program_code(program: str) -> str:
    if program == NO_JACOBIAN:
        code = program_code("total_share")
        return code.replace("  target += 2 * log(tau) - 0.5 * sum(log(w));\n", "")
    return (PROTOTYPES / f"reference_varsplit_{program}.stan").read_text()


def model(program: str, data: dict, prior_only: int) -> stanli.Model:
    key = (program, prior_only)
    if key not in _models:
        code = program_code(program)
        _models[key] = stanli.Model(stan_code=code, data={**data, "prior_only": prior_only})
    return _models[key]


def fit(program: str, data: dict, seed: int, prior_only: int = 0, **settings) -> dict:
    m = model(program, data, prior_only)
    started, cpu = time.perf_counter(), cpu_seconds()
    result = m.sample(chains=4, seed=seed, refresh=0, **settings)
    wall, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    idata = result.to_arviz()
    post = idata.posterior
    draws = {}
    for name in QUANTITIES:
        if name in post:
            draws[name] = post[name]
        else:  # r_t = sd_t * z_t
            t = name[-1]
            draws[name] = (post[f"sd_{t}"] * post[f"z_{t}"]).rename({f"z_{t}_dim_0": f"{name}_dim_0"})
    ds = xr.Dataset(draws)
    stats_ = idata.sample_stats
    return {"wall": wall, "cpu": cpu, "steps": float(stats_["n_leapfrog"].mean()),
            "div": int(stats_["divergent"].sum()),
            "draws": ds}


def min_ess(ds: xr.Dataset, method: str) -> tuple[float, str]:
    ess = az.ess(ds, method=method)
    per = {name: float(ess[name].min()) for name in ess.data_vars}
    worst = min(per, key=per.get)
    return per[worst], worst


def moments_z(ds: xr.Dataset, reference: xr.Dataset) -> tuple[float, float, str]:
    """Largest |difference| of pooled means and of sds over every scalar
    quantity, in combined Monte Carlo standard errors."""
    worst_mean, worst_sd, where = 0.0, 0.0, ""
    for name in QUANTITIES:
        a, b = ds[name], reference[name]
        for se_method, stat, slot in (("mean", lambda x: x.mean(("chain", "draw")), 0),
                                      ("sd", lambda x: x.std(("chain", "draw")), 1)):
            se = np.sqrt(az.mcse(a.to_dataset(), method=se_method)[name] ** 2
                         + az.mcse(b.to_dataset(), method=se_method)[name] ** 2)
            z = float(np.max(np.abs((stat(a) - stat(b)) / se)))
            if slot == 0 and z > worst_mean:
                worst_mean, where = z, name
            if slot == 1 and z > worst_sd:
                worst_sd = z
    return worst_mean, worst_sd, where


def run_ess(seeds: list[int], only: str | None = None) -> None:
    data = standata()
    runs = {name: run for name, run in RUNS.items() if only is None or name == "plain"
            or any(name.startswith(prefix) for prefix in only.split(","))}
    pooled: dict[str, list[xr.Dataset]] = {}
    print(f"{'run':<31}{'seed':>5}{'CPU s':>7}{'wall s':>7}{'steps':>6}{'min bulk':>9}{'worst':>7}{'sd_2':>6}"
          f"{'min tail':>9}{'ESS/CPU-s':>10}{'div':>4}  sd_1/sd_2/sigma means  load", flush=True)
    rows = []
    for name, (program, settings) in runs.items():
        for seed in seeds:
            r = fit(program, data, seed, **settings)
            bulk, worst = min_ess(r["draws"], "bulk")
            tail, _ = min_ess(r["draws"], "tail")
            sd2 = float(az.ess(r["draws"]["sd_2"].to_dataset(), method="bulk")["sd_2"])
            means = "/".join(f"{float(r['draws'][s].mean()):.2f}" for s in SCALES)
            rows.append((name, bulk, r["cpu"], r["div"]))
            if not settings:  # default settings: pooled for the same-posterior check
                pooled.setdefault(program, []).append(r["draws"])
            print(f"{name:<31}{seed:>5}{r['cpu']:>7.2f}{r['wall']:>7.2f}{r['steps']:>6.1f}{bulk:>9.0f}{worst:>7}"
                  f"{sd2:>6.0f}{tail:>9.0f}{bulk / r['cpu']:>10.0f}{r['div']:>4}  {means}  {common.loadavg()}",
                  flush=True)
    print("\nper run, over seeds: min / median of min bulk ESS, median ESS per CPU second, divergences")
    for name in runs:
        mine = [row for row in rows if row[0] == name]
        ess = [row[1] for row in mine]
        per_cpu = [row[1] / row[2] for row in mine]
        print(f"{name:<31} min ESS {min(ess):>6.0f} / {np.median(ess):>6.0f}   ESS/CPU-s {np.median(per_cpu):>6.0f}"
              f"   div {sum(row[3] for row in mine)}")
    print("\nsame posterior: draws of every seed pooled per program (default settings) vs a long plain run"
          " (4 x 10000, seed 100); largest |difference| of means and sds in MC standard errors over every scalar quantity")
    concat = {p: xr.concat([d.assign_coords(chain=d.chain + 4 * i) for i, d in enumerate(ds)], "chain")
              for p, ds in pooled.items()}
    reference = fit("plain", data, 100, samples=10000)["draws"]
    for program, ds in concat.items():
        zm, zs, where = moments_z(ds, reference)
        n_scalars = sum(int(np.prod(ds[q].shape[2:])) for q in QUANTITIES)
        print(f"{program:<12} means max|z| {zm:5.2f} (at {where})   sds max|z| {zs:5.2f}   over {n_scalars} quantities")


def run_prior(draws: int) -> None:
    """prior_only = 1: the scales' draws against the exact half student-t
    quantiles (and the plain program's draws), per program."""
    data = standata()
    probs = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99]
    print(f"prior_only = 1, 4 chains x {draws} draws, seed 1; quantiles of each scale, and the largest |difference|"
          f" from the exact half-t quantile in MC standard errors (az.mcse quantile), and KS D vs the exact CDF"
          f" (critical 1.36 / sqrt(ESS))")
    for program in ["plain", "total_share", "polar", "ratio", "r2d2", "marginal", "marginal_schur", "marginal_counts", NO_JACOBIAN]:
        r = fit(program, data, 1, prior_only=1, samples=draws)
        for s in SCALES:
            nu, sigma = data[f"{s}_prior_nu"], data[f"{s}_prior_sigma"]
            exact = stats.t(nu, loc=0, scale=sigma)
            x = r["draws"][s]
            q = np.quantile(x.values, probs)
            truth = exact.ppf((1 + np.array(probs)) / 2)
            se = np.array([float(az.mcse(x.to_dataset(), method="quantile", prob=p)[s]) for p in probs])
            ks = stats.kstest(x.values.ravel(), lambda v: 2 * exact.cdf(v) - 1).statistic
            ess = float(az.ess(x.to_dataset(), method="bulk")[s])
            print(f"{program[:16]:<17}{s:<6} q {' '.join(f'{v:8.2f}' for v in q)}  max|z| {np.max(np.abs(q - truth) / se):5.2f}"
                  f"  KS D {ks:.4f} (crit {1.36 / np.sqrt(ess):.4f})  div {r['div']}", flush=True)
    print(f"{'exact':<18}  {' '.join(f'{v:8.2f}' for v in stats.t(3, 0, data['sd_2_prior_sigma']).ppf((1 + np.array(probs)) / 2))}")


def run_density(points: int = 20) -> None:
    """The marginal programs' log density against the exact one written
    independently in numpy: Y ~ MVN(Intercept_c + Xc b, sigma^2 I + Z D Z'),
    the same priors, and the log-Jacobian of the log transforms of sd_1, sd_2,
    sigma. The difference must be one constant (the dropped normalisers)."""
    data = standata()
    y = np.asarray(data["Y"], float)
    X = np.asarray(data["X"], float).reshape(data["N"], -1)
    Xc = X - X.mean(0)
    Z = [np.eye(data[f"J_{t}"])[np.asarray(data[f"g_{t}"]) - 1] for t in (1, 2)]
    rng = np.random.default_rng(1)

    def exact(q: np.ndarray) -> float:
        b, ic, (sd_1, sd_2, sigma) = q[:2], q[2], np.exp(q[3:])
        cov = sigma ** 2 * np.eye(data["N"]) + sd_1 ** 2 * Z[0] @ Z[0].T + sd_2 ** 2 * Z[1] @ Z[1].T
        lp = stats.multivariate_normal(ic + Xc @ b, cov).logpdf(y)
        lp += stats.norm(data["b_prior_mu"], data["b_prior_sigma"]).logpdf(b).sum()
        lp += stats.t(data["Intercept_prior_nu"], data["Intercept_prior_mu"], data["Intercept_prior_sigma"]).logpdf(ic)
        for name, value in zip(SCALES, (sd_1, sd_2, sigma)):
            lp += stats.t(data[f"{name}_prior_nu"], data[f"{name}_prior_mu"], data[f"{name}_prior_sigma"]).logpdf(value)
        return lp + q[3:].sum()

    qs = [np.concatenate([rng.normal(0, 2, 2), [rng.normal(58, 5)], np.log(rng.uniform(2, 40, 3))]) for _ in range(points)]
    truth = np.array([exact(q) for q in qs])
    for program in ["marginal", "marginal_schur", "marginal_counts"]:
        m = model(program, data, 0)
        diff = np.array([m.log_prob_grad(q)[0] for q in qs]) - truth
        print(f"{program:<16} log density - exact over {points} random points: spread {np.ptp(diff):.2e}"
              f" (|lp| {np.abs(truth).min():.0f}-{np.abs(truth).max():.0f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["ess", "prior", "density", "all"])
    parser.add_argument("--seeds", default="1,2,3,4")
    parser.add_argument("--draws", type=int, default=10000)
    parser.add_argument("--only", help="ess: only the runs whose names start with these comma-separated prefixes (and plain)")
    args = parser.parse_args()
    if args.what in ("density", "all"):
        run_density()
    if args.what in ("prior", "all"):
        run_prior(args.draws)
    if args.what in ("ess", "all"):
        run_ess([int(s) for s in args.seeds.split(",")], args.only)


if __name__ == "__main__":
    main()
