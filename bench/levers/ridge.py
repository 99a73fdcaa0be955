"""InstEval: do ridges between the intercept (and b_service) and the mean of
each term's standardised effects slow NUTS down, and does an exact
reparametrisation that takes them out pay? (bench/findings.md, "InstEval:
the intercept ridge")

    python bench/levers/ridge.py diagnose [--warmup 300 --draws 1000]
        samples stanmer's program (stan/insteval.stan; draws kept under --out),
        prints ESS and posterior sd along the suspected directions and their
        correlations
    python bench/levers/ridge.py check [--programs insteval_ridge ...]
        each prototype (bench/prototypes/<name>.stan) against stanmer's program
        at random points: lp at the mapped point minus stanmer's lp must be one
        constant (and is not under a wrong map)
    python bench/levers/ridge.py chains [--warmup 1000 --draws 1000 --programs NAME]
        one program, 4 chains one after another: min bulk ESS, max R-hat
    python bench/levers/ridge.py gradient [--rounds 3] [--programs ...]
        one gradient of each program (stanli, best of interleaved rounds)
    python bench/levers/ridge.py sample [--warmup 1000 --draws 1000 --seed 1]
            [--programs stanmer insteval_ridge ...]
        the programs one after another (1 chain, stanli): wall, CPU s,
        steps/draw, min bulk ESS over Intercept, b, sd_t, sigma and every r_t
        (with the worst), ESS of the data-pinned level, sds and sigma
"""

import argparse
import time
from pathlib import Path

import numpy as np
import stanli

import common
import stanmer

PROTOTYPES = common.BENCH / "prototypes"


def stanmer_program() -> tuple[str, dict]:
    frame, _ = common.load("insteval")
    return (stanmer.stan_code(common.INSTEVAL_FORMULA, frame),
            stanmer.stan_data(common.INSTEVAL_FORMULA, frame))


def run(code: str, data: dict, warmup: int, draws: int, seed: int = 1):
    """One chain; (fit, wall s, CPU s)."""
    model = stanli.Model(stan_code=code, data=data)
    started, cpu = time.perf_counter(), common.cpu_seconds()
    fit = model.sample(chains=1, seed=seed, warmup=warmup, samples=draws, refresh=0)
    return fit, time.perf_counter() - started, common.cpu_seconds() - cpu


def steps_per_draw(fit) -> float:
    return float(np.mean(fit.sampler_stats[:, :, stanli.SAMPLER_COLUMNS.index("n_leapfrog__")]))


def save(fit, path: Path) -> None:
    arrays = {name: np.asarray(fit.draws(name)) for name in fit.variables}
    arrays["n_leapfrog__"] = fit.sampler_stats[:, :, stanli.SAMPLER_COLUMNS.index("n_leapfrog__")]
    np.savez_compressed(path, **arrays)


def level_service(data: dict) -> np.ndarray:
    """service (0/1) of each dept:service level: X is constant within a level."""
    x_mean = float(np.mean(np.asarray(data["X"])[:, 0]))
    return np.rint(np.asarray(data["sXc_3"])[:, 0] / np.asarray(data["n_3"]) + x_mean).astype(int)


def ess(x: np.ndarray) -> float:
    import arviz as az

    return float(az.ess(np.asarray(x).reshape(1, -1), method="bulk"))


def directions(draws: dict, data: dict) -> dict:
    """The suspected slow directions, per draw, from stanmer's parameters."""
    service = level_service(data)
    x_mean = float(np.mean(np.asarray(data["X"])[:, 0]))
    out = {"Intercept_c": draws["Intercept_c"], "b": draws["b"][:, 0]}
    for t in (1, 2, 3):
        out[f"sd_{t}"] = draws[f"sd_{t}"]
        out[f"mean z_{t}"] = draws[f"z_{t}"].mean(axis=1)
        out[f"mean r_{t}"] = draws[f"sd_{t}"] * out[f"mean z_{t}"]
    z3 = draws["z_3"]
    out["mean z_3|s0"], out["mean z_3|s1"] = z3[:, service == 0].mean(axis=1), z3[:, service == 1].mean(axis=1)
    r_shift = draws["sd_3"] * (out["mean z_3|s1"] - out["mean z_3|s0"])
    out["sd_3*(m1-m0)"] = r_shift
    out["mu = Intercept_c + sum mean r_t"] = out["Intercept_c"] + out["mean r_1"] + out["mean r_2"] + out["mean r_3"]
    out["mu (service-split)"] = (out["Intercept_c"] + out["mean r_1"] + out["mean r_2"]
                                 + draws["sd_3"] * (out["mean z_3|s0"]
                                                    + x_mean * (out["mean z_3|s1"] - out["mean z_3|s0"])))
    out["beta = b + sd_3*(m1-m0)"] = out["b"] + r_shift
    out["sigma"] = draws["sigma"]
    return out


def diagnose(args) -> None:
    code, data = stanmer_program()
    extra = ridge_data(data) | nested_data(data)
    path = Path(args.draws_file) if args.draws_file else Path(args.out) / f"stanmer_{args.warmup}_{args.draws}.npz"
    if not path.exists():
        fit, wall, cpu = run(code, data, args.warmup, args.draws)
        print(f"stanmer program: wall {wall:.1f} s, CPU {cpu:.1f} s, steps/draw {steps_per_draw(fit):.1f}")
        save(fit, path)
    saved = np.load(path)
    draws = stanmer_draws({name: saved[name][0] for name in saved.files}, data, extra, path.name.startswith(
        "insteval_ridge_c3"), path.name.startswith("insteval_ridge_nested_ccc"))
    print(f"{path}: {draws['sigma'].shape[0]} draws, steps/draw {draws['n_leapfrog__'].mean():.1f}")
    quantities = directions(draws, data)
    print(f"{'quantity':<34}{'bulk ESS':>9}{'post. mean':>12}{'post. sd':>10}")
    for name, values in quantities.items():
        print(f"{name:<34}{ess(values):>9.0f}{values.mean():>12.4f}{values.std():>10.4f}")
    effects = {t: ess_each(draws[f"z_{t}"] * draws[f"sd_{t}"][:, None]) for t in (1, 2, 3)}
    for t, values in effects.items():
        worst = np.argsort(values)[:5]
        print(f"r_{t}: min bulk ESS {values.min():.0f}, median {np.median(values):.0f}; rows of the 5 worst levels "
              f"{np.asarray(data[f'n_{t}'])[worst].astype(int).tolist()} "
              f"(median level {np.median(data[f'n_{t}']):.0f})")
    # d is nested in dept: a dept's teachers' mean effect against its dept:service levels' mean
    dept_of_teacher = np.empty(data["J_2"], int)
    start = 0
    for block, size in enumerate(extra["block_2_size"]):
        dept_of_teacher[np.asarray(extra["block_2_levels"][start:start + size]) - 1] = block
        start += size
    dept_of_level = np.asarray(extra["block_2_of_3"]) - 1
    r_2, r_3 = draws["z_2"] * draws["sd_2"][:, None], draws["z_3"] * draws["sd_3"][:, None]
    teachers = [r_2[:, dept_of_teacher == k].mean(axis=1) for k in range(extra["D_2"])]
    levels = [r_3[:, dept_of_level == k].mean(axis=1) for k in range(extra["D_2"])]
    corr = [np.corrcoef(a, b)[0, 1] for a, b in zip(teachers, levels)]
    print(f"per dept: corr(mean r_2 of its teachers, mean r_3 of its levels) {min(corr):+.2f} .. {max(corr):+.2f}; "
          f"bulk ESS of the teachers' mean {min(map(ess, teachers)):.0f} .. {max(map(ess, teachers)):.0f}, "
          f"of the sum {min(ess(a + b) for a, b in zip(teachers, levels)):.0f} .. "
          f"{max(ess(a + b) for a, b in zip(teachers, levels)):.0f}")
    pairs = [("Intercept_c", f"mean z_{t}") for t in (1, 2, 3)] + [
        ("Intercept_c", f"mean r_{t}") for t in (1, 2, 3)] + [
        ("Intercept_c", "mean z_3|s0"), ("Intercept_c", "mean z_3|s1"), ("b", "mean z_3|s0"),
        ("b", "mean z_3|s1"), ("b", "sd_3*(m1-m0)"), ("mean z_1", "mean z_2"), ("mean z_2", "mean z_3")]
    for a, b in pairs:
        print(f"corr({a}, {b}) = {np.corrcoef(quantities[a], quantities[b])[0, 1]:+.3f}")
    # Does the worst effect's trace follow a mean direction? Correlation of the
    # worst-ESS effects with their term's mean.
    for t in (1, 2, 3):
        r = draws[f"z_{t}"] * draws[f"sd_{t}"][:, None]
        worst = np.argsort(effects[t])[:5]
        c = [np.corrcoef(r[:, j], quantities[f"mean r_{t}"])[0, 1] for j in worst]
        centred = r - r.mean(axis=1, keepdims=True)
        centred_ess = ess_each(centred[:, worst])
        print(f"r_{t} worst 5 levels: ESS {np.round(effects[t][worst]).astype(int).tolist()}, "
              f"corr with mean r_{t} {np.round(c, 2).tolist()}, ESS once centred "
              f"{np.round(centred_ess).astype(int).tolist()}")


def ess_each(matrix: np.ndarray) -> np.ndarray:
    import arviz as az

    dataset = az.convert_to_dataset({"x": matrix[None, :, :]})
    return np.asarray(az.ess(dataset, method="bulk")["x"]).ravel()


def ridge_data(data: dict) -> dict:
    """The prototype's extra data: dept:service levels in blocks of equal X
    (service), and the map from block shifts to intercept and b shifts."""
    service = level_service(data)
    x_mean = float(np.mean(np.asarray(data["X"])[:, 0]))
    values = np.unique(service)
    levels = np.concatenate([np.flatnonzero(service == v) for v in values]) + 1
    design = np.column_stack([np.ones(len(values)), values - x_mean])  # blocks x (1 + K)
    return {"B_3": len(values), "block_3_size": [int(np.sum(service == v)) for v in values],
            "block_3_levels": levels.tolist(), "block_3_solve": np.linalg.solve(design, np.eye(len(values)))}


def nested_data(data: dict) -> dict:
    """d is nested in dept, and dept:service refines dept: the dept blocks of d's
    levels, found as the groups of dept:service levels that share teachers."""
    teacher, level = np.asarray(data["C_2_3_j"]) - 1, np.asarray(data["C_2_3_k"]) - 1
    parent = np.arange(data["J_3"])

    def root(a):
        while parent[a] != a:
            a = parent[a]
        return a

    for t in np.unique(teacher):
        shared = level[teacher == t]
        for other in shared[1:]:
            parent[root(other)] = root(shared[0])
    dept_of_level = np.array([root(a) for a in range(data["J_3"])])
    depts = np.unique(dept_of_level)
    dept_of_teacher = np.empty(data["J_2"], int)
    for t in range(data["J_2"]):
        owners = np.unique(dept_of_level[level[teacher == t]])
        if len(owners) != 1:
            raise ValueError(f"teacher {t + 1} spans several depts: d is not nested")
        dept_of_teacher[t] = owners[0]
    block = {dept: b for b, dept in enumerate(depts)}
    return {"D_2": len(depts), "block_2_size": [int(np.sum(dept_of_teacher == d)) for d in depts],
            "block_2_levels": (np.concatenate([np.flatnonzero(dept_of_teacher == d) for d in depts]) + 1).tolist(),
            "block_2_of_3": [block[d] + 1 for d in dept_of_level]}


def reflect_blocks(z: np.ndarray, sizes, levels) -> tuple[np.ndarray, np.ndarray]:
    """(u, block means of z): u[block b] = H z[levels of block b]."""
    u, means, start = np.empty(len(z)), [], 0
    for size in sizes:
        chosen = np.asarray(levels[start:start + size]) - 1
        u[start:start + size] = reflect(z[chosen])
        means.append(z[chosen].mean())
        start += size
    return u, np.array(means)


def unreflect_blocks(u: np.ndarray, sizes, levels) -> np.ndarray:
    """The inverse of reflect_blocks, draws in rows."""
    z, start = np.empty_like(u), 0
    for size in sizes:
        chosen = np.asarray(levels[start:start + size]) - 1
        z[:, chosen] = np.apply_along_axis(reflect, 1, u[:, start:start + size])
        start += size
    return z


def reflect(u: np.ndarray) -> np.ndarray:
    """H u, H swapping e_1 and the unit vector of equal entries (H = H' = H^-1)."""
    if len(u) == 1:
        return u.copy()
    s = 1 / np.sqrt(len(u))
    v = np.full(len(u), -s)
    v[0] += 1
    return u - v * (v @ u) / (1 - s)


def to_prototype(point: dict, data: dict, extra: dict, nested: bool, centred_3: bool = False,
                 centred_2: bool = False, centred_1: bool = False) -> dict:
    """stanmer's parameters -> a prototype's (the inverse of its transformed parameters)."""
    out = {f"sd_{t}": point[f"sd_{t}"] for t in (1, 2, 3)} | {"sigma": point["sigma"]}
    out["u_1"] = reflect(point["sd_1"] * point["z_1"] if centred_1 else point["z_1"])
    level_3 = point["z_3"]
    level_mean = point["sd_1"] * point["z_1"].mean()
    if nested:
        scale_2 = point["sd_2"] if centred_2 else 1.0  # centred: u_2 reflects r_2, not z_2
        out["u_2"], dept_means = reflect_blocks(scale_2 * point["z_2"], extra["block_2_size"], extra["block_2_levels"])
        dept_of_level = np.asarray(extra["block_2_of_3"]) - 1
        level_3 = point["z_3"] + point["sd_2"] / scale_2 / point["sd_3"] * dept_means[dept_of_level]
    else:
        out["u_2"] = reflect(point["z_2"])
        level_mean += point["sd_2"] * point["z_2"].mean()
    scale_3 = point["sd_3"] if centred_3 else 1.0  # centred: u_3 reflects r_3, not z_3
    out["u_3"], block_means = reflect_blocks(scale_3 * level_3, extra["block_3_size"], extra["block_3_levels"])
    shift_3 = point["sd_3"] / scale_3 * (extra["block_3_solve"] @ block_means)
    out["mu"] = point["Intercept_c"] + level_mean + shift_3[0]
    out["beta"] = point["b"] + shift_3[1:]
    return out


def check(args) -> None:
    """At random points of stanmer's unconstrained space: the prototype's log
    density at the mapped point minus stanmer's is one constant (the map keeps
    the logs of sd and sigma, and is volume-preserving in the rest), and the
    prototype's derived Intercept_c, b, z round-trip."""
    code, data = stanmer_program()
    extra = ridge_data(data) | nested_data(data)
    reference = stanli.Model(stan_code=code, data=data)
    rng = np.random.default_rng(7)
    for name in args.programs:
        model = stanli.Model(stan_code=(PROTOTYPES / f"{name}.stan").read_text(), data=data | extra)
        diffs, lps, control = [], [], []
        for _ in range(args.points):
            point = {"b": rng.normal(0, 0.3, 1), "Intercept_c": rng.normal(3.2, 0.5),
                     "sigma": np.exp(rng.normal(0, 0.5))}
            for t in (1, 2, 3):
                point |= {f"sd_{t}": np.exp(rng.normal(-1, 0.5)),
                          f"z_{t}": rng.normal(0.3 * rng.normal(), 1, data[f"J_{t}"])}
            q_ref = reference.unconstrain(point)
            centred = (name.endswith(("_c3", "_cc", "_ccc")), name.endswith(("_cc", "_ccc")), name.endswith("_ccc"))
            if name.startswith("insteval_plain"):  # the controls: no reflections, terms centred
                mapped = {k: point[k] for k in ("b", "Intercept_c", "sigma", "sd_1", "sd_2", "sd_3", "z_1")}
                mapped |= {"r_2": point["sd_2"] * point["z_2"], "r_3": point["sd_3"] * point["z_3"]}
                if name.endswith("_ccc"):
                    mapped["r_1"] = point["sd_1"] * mapped.pop("z_1")
            else:
                mapped = to_prototype(point, data, extra, "nested" in name, *centred)
            q_new = model.unconstrain(mapped)
            lp_ref, lp_new = float(reference.log_prob_grad(q_ref)[0]), float(model.log_prob_grad(q_new)[0])
            # a centred term's density is over r_t = sd_t z_t: it carries |dz_t/dr_t| = sd_t^-J_t
            jacobian = -data["J_3"] * np.log(point["sd_3"]) if centred[0] else 0.0
            jacobian += -data["J_2"] * np.log(point["sd_2"]) if centred[1] else 0.0
            jacobian += -data["J_1"] * np.log(point["sd_1"]) if centred[2] else 0.0
            diffs.append(lp_new - lp_ref - jacobian)
            # a check that can fail: a wrong map (another prototype's, or r_2 unscaled) lands elsewhere
            if name.startswith("insteval_plain"):
                wrong = model.unconstrain(mapped | {"r_2": point["z_2"]})
            else:
                wrong = model.unconstrain(
                    to_prototype(point, data, extra, "nested" not in name, not name.endswith("_c3")))
            control.append(float(model.log_prob_grad(wrong)[0]) - lp_ref)
            lps.append(lp_ref)
        diffs = np.array(diffs)
        print(f"{name}: lp(prototype) - lp(stanmer) over {args.points} points: mean {diffs.mean():.3e}, "
              f"spread {np.ptp(diffs):.2e} (|lp| ~ {np.mean(np.abs(lps)):.3g}); with the other map: "
              f"spread {np.ptp(control):.2e}")


def stanmer_draws(draws: dict, data: dict, extra: dict, centred_3: bool = False, centred_1: bool = False) -> dict:
    """Any program's draws with stanmer's z_t (rebuilt from u_t where the program has none)."""
    out = dict(draws)
    for t in (1, 2, 3):  # a centred program's effects
        if f"r_{t}" in draws:
            out[f"z_{t}"] = draws[f"r_{t}"] / draws[f"sd_{t}"][:, None]
    if "z_1" not in out:
        out["z_1"] = np.apply_along_axis(reflect, 1, draws["u_1"])
        if centred_1:
            out["z_1"] = out["z_1"] / draws["sd_1"][:, None]
    if "z_2" not in out:
        out["z_2"] = np.apply_along_axis(reflect, 1, draws["u_2"])
    if "z_3" not in out:
        out["z_3"] = unreflect_blocks(draws["u_3"], extra["block_3_size"], extra["block_3_levels"])
        if centred_3:
            out["z_3"] = out["z_3"] / draws["sd_3"][:, None]
    return out


def summary(draws: dict) -> tuple[float, str, str]:
    """(min bulk ESS, its quantity, posterior means of the scales) over
    Intercept, b, sd_t, sigma and every effect r_t."""
    scalars = {"Intercept": draws["Intercept"], "b": draws["b"][:, 0], "sigma": draws["sigma"]}
    scalars |= {f"sd_{t}": draws[f"sd_{t}"] for t in (1, 2, 3)}
    worst = min(((ess(v), name) for name, v in scalars.items()))
    for t in (1, 2, 3):
        values = ess_each(draws[f"z_{t}"] * draws[f"sd_{t}"][:, None])
        if values.min() < worst[0]:
            worst = (float(values.min()), f"r_{t}[{int(np.argmin(values)) + 1}]")
    means = " ".join(f"{float(np.mean(draws[n])):.4f}" for n in ("sd_1", "sd_2", "sd_3", "sigma"))
    return worst[0], worst[1], means


def sample(args) -> None:
    code, data = stanmer_program()
    extra = ridge_data(data) | nested_data(data)
    programs = {name: (code, data) if name == "stanmer" else
                ((PROTOTYPES / f"{name}.stan").read_text(), data | extra) for name in args.programs}
    print(f"1 chain, {args.warmup} + {args.draws}, seed {args.seed}, stanli; rounds {args.rounds}")
    print("| program | wall s | CPU s | steps/draw | min bulk ESS (worst) | ESS mu-direction "
          "| sd_s sd_d sd_dept:service sigma | load |")
    print("| --- | ---: | ---: | ---: | --- | ---: | --- | --- |")
    for _ in range(args.rounds):
        for name, (program, program_data) in programs.items():
            fit, wall, cpu = run(program, program_data, args.warmup, args.draws, args.seed)
            path = Path(args.out) / f"{name}_{args.warmup}_{args.draws}_seed{args.seed}.npz"
            save(fit, path)
            draws = stanmer_draws({k: v[0] for k, v in np.load(path).items()}, data, extra, name.endswith("_c3"),
                                  name.endswith("_ccc"))
            low, worst, means = summary(draws)
            level = directions(draws, data)["mu (service-split)"]
            print(f"| {name} | {wall:.1f} | {cpu:.1f} | {steps_per_draw(fit):.1f} | {low:.0f} ({worst}) | "
                  f"{ess(level):.0f} | {means} | {common.loadavg()} |", flush=True)


def gradient(args) -> None:
    """One log_prob_grad per program (stanli), interleaved rounds, best of each."""
    code, data = stanmer_program()
    extra = ridge_data(data) | nested_data(data)
    models = {"stanmer": stanli.Model(stan_code=code, data=data)}
    for name in args.programs:
        models[name] = stanli.Model(stan_code=(PROTOTYPES / f"{name}.stan").read_text(), data=data | extra)
    best = common.best_gradient_seconds(models, 1.0, args.rounds)
    for name in models:
        print(f"{name:<26}{best[name] * 1e3:7.2f} ms/gradient  load {common.loadavg()}")


def chains(args) -> None:
    """One program, 4 chains one after another (one core): the issue's target
    (min bulk ESS >= 600 over everything, R-hat) at --warmup / --draws."""
    import arviz as az

    code, data = stanmer_program()
    extra = ridge_data(data) | nested_data(data)
    name = args.programs[0]
    program = code if name == "stanmer" else (PROTOTYPES / f"{name}.stan").read_text()
    model = stanli.Model(stan_code=program, data=data if name == "stanmer" else data | extra)
    started, cpu = time.perf_counter(), common.cpu_seconds()
    fit = model.sample(chains=4, seed=args.seed, warmup=args.warmup, samples=args.draws, refresh=0,
                       parallel_chains=1)
    wall, cpu = time.perf_counter() - started, common.cpu_seconds() - cpu
    per_chain = [stanmer_draws({k: np.asarray(fit.draws(k))[c] for k in fit.variables}, data, extra,
                               name.endswith("_c3"), name.endswith("_ccc")) for c in range(4)]
    posterior = {"Intercept": np.stack([d["Intercept"] for d in per_chain]),
                 "b": np.stack([d["b"][:, 0] for d in per_chain]), "sigma": np.stack([d["sigma"] for d in per_chain])}
    posterior |= {f"sd_{t}": np.stack([d[f"sd_{t}"] for d in per_chain]) for t in (1, 2, 3)}
    posterior |= {f"r_{t}": np.stack([d[f"z_{t}"] * d[f"sd_{t}"][:, None] for d in per_chain]) for t in (1, 2, 3)}
    dataset = az.convert_to_dataset(posterior)
    bulk, rhat = az.ess(dataset, method="bulk"), az.rhat(dataset)
    worst = min(bulk.data_vars, key=lambda v: float(bulk[v].min()))
    column = stanli.SAMPLER_COLUMNS.index
    print(f"{name} 4 x ({args.warmup} + {args.draws}), seed {args.seed}: wall {wall:.1f} s, CPU {cpu:.1f} s, "
          f"steps/draw {float(fit.sampler_stats[:, :, column('n_leapfrog__')].mean()):.1f}, min bulk ESS "
          f"{float(bulk[worst].min()):.0f} ({worst}), "
          f"max R-hat {max(float(rhat[v].max()) for v in rhat.data_vars):.4f}, "
          f"divergences {int(fit.sampler_stats[:, :, column('divergent__')].sum())}, load {common.loadavg()}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["diagnose", "check", "sample", "gradient", "chains"])
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--draws", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--points", type=int, default=10)
    parser.add_argument("--programs", nargs="+", default=None)
    parser.add_argument("--out", default="/tmp/ridge")
    parser.add_argument("--draws-file", default=None, help="diagnose: saved draws of any program (sample keeps them)")
    args = parser.parse_args()
    Path(args.out).mkdir(parents=True, exist_ok=True)
    if args.what == "chains":
        args.programs = args.programs or ["insteval_ridge_nested_ccc"]
        chains(args)
    elif args.what == "gradient":
        args.programs = args.programs or ["insteval_ridge", "insteval_ridge_nested_c3", "insteval_ridge_nested_cc",
                                          "insteval_ridge_nested_ccc"]
        gradient(args)
    elif args.what == "check":
        args.programs = args.programs or ["insteval_ridge", "insteval_ridge_nested", "insteval_ridge_c3",
                                          "insteval_ridge_nested_c3", "insteval_ridge_nested_cc",
                                          "insteval_ridge_nested_ccc"]
        check(args)
    elif args.what == "sample":
        args.programs = args.programs or ["stanmer", "insteval_ridge"]
        sample(args)
    else:
        diagnose(args)


if __name__ == "__main__":
    main()
