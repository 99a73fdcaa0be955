"""The benchmark suite: stanmer (each engine present) beside bambi (PyMC and
nutpie), brms and lme4 on the same models, each run in its own process.

    python bench/run.py [--quick] [--models reference,slopes] [--tools stanmer-stanli,lme4] [--all]

Models: the reference model (examples/ifsc, Fit A), a simulated
correlated-slopes model (200 groups x 20 rows), VerbAgg (binomial, crossed id
and item), InstEval (73,421 rows, three crossed intercepts) and a batch of 100
small models of one structure. --quick runs the reference and slopes models
and a batch of 10. brms on InstEval takes over an hour and runs only with --all.

Writes bench/results.md: machine, load average, versions; per model and tool
the cold wall (process start to first result, compilation included), the warm
wall (the same fit again in the same process), min bulk ESS over every
parameter (group effects included) and which one, ESS per second of warm
wall, divergences, max R-hat and the child process's peak resident memory.
Tools that are not installed are listed as skipped. CI does not run this.

bambi runs in the interpreter named by STANMER_BENCH_BAMBI_PYTHON (a venv
with `pip install bambi nutpie "matplotlib<3.11"`), or this one if it has bambi.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH / "levers"))

import common  # noqa: E402


@dataclass(frozen=True)
class Model:
    name: str
    formula: str
    family: str  # gaussian or bernoulli
    groups: tuple[str, ...]  # columns read as factors
    batch: int = 0  # > 0: this many data sets of one structure, column `dataset`


def slopes_data(seed: int = 7, groups: int = 200, rows: int = 20) -> pd.DataFrame:
    """y = 1 + 0.5 x + a[g] + b[g] x + e; sd(a) = 1, sd(b) = 0.5, corr(a, b) = 0.4, sigma = 1."""
    rng = np.random.default_rng(seed)
    cov = np.array([[1.0, 0.4 * 0.5], [0.4 * 0.5, 0.25]])
    effects = rng.multivariate_normal([0, 0], cov, groups)
    g = np.repeat(np.arange(groups), rows)
    x = rng.normal(size=g.size)
    y = 1 + 0.5 * x + effects[g, 0] + effects[g, 1] * x + rng.normal(0, 1, g.size)
    return pd.DataFrame({"y": y, "x": x, "g": g})


def batch_data(count: int, seed: int = 11) -> pd.DataFrame:
    """`count` data sets of y ~ x + (1 | g): 30 groups x 5 rows, sds drawn per set."""
    rng = np.random.default_rng(seed)
    frames = []
    for k in range(count):
        g = np.repeat(np.arange(30), 5)
        x = rng.normal(size=g.size)
        sd_g, sigma = rng.uniform(0.3, 2), rng.uniform(0.5, 2)
        y = rng.normal() + rng.normal() * x + rng.normal(0, sd_g, 30)[g] + rng.normal(0, sigma, g.size)
        frames.append(pd.DataFrame({"dataset": k, "y": y, "x": x, "g": g}))
    return pd.concat(frames, ignore_index=True)


def models(quick: bool) -> dict[str, tuple[Model, pd.DataFrame, str]]:
    out = {
        "reference": (Model("reference", common.REFERENCE_FORMULA, "gaussian", ("comp_id", "athlete_id")),
                      common.reference_data(), "examples/ifsc (88 rows)"),
        "slopes": (Model("slopes", "y ~ x + (1 + x | g)", "gaussian", ("g",)), slopes_data(),
                   "simulated, 200 groups x 20 rows"),
    }
    if not quick:
        verbagg, where = common.load("verbagg")
        out["verbagg"] = (Model("verbagg", common.VERBAGG_FORMULA, "bernoulli", ("id", "item")), verbagg, where)
        insteval, where = common.load("insteval")
        out["insteval"] = (Model("insteval", common.INSTEVAL_FORMULA, "gaussian", ("s", "d", "dept", "service")),
                           insteval, where)
    count = 10 if quick else 100
    out["batch"] = (Model("batch", "y ~ x + (1 | g)", "gaussian", ("g",), batch=count), batch_data(count),
                    f"simulated, {count} data sets x 150 rows")
    return out


# ---------------------------------------------------------------- children

def read_frame(path: str, model: Model) -> pd.DataFrame:
    frame = pd.read_csv(path)
    for column in model.groups:
        frame[column] = frame[column].astype(str)
    return frame


def datasets(frame: pd.DataFrame, model: Model) -> list[pd.DataFrame]:
    if not model.batch:
        return [frame]
    return [part.drop(columns="dataset").reset_index(drop=True) for _, part in frame.groupby("dataset")]


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (PyMC's chain processes)."""
    import resource

    return sum(u.ru_utime + u.ru_stime for u in (resource.getrusage(resource.RUSAGE_SELF),
                                                   resource.getrusage(resource.RUSAGE_CHILDREN)))


def posterior_checks(idata) -> dict:
    import arviz as az

    ess = az.ess(idata, method="bulk")
    rhat = az.rhat(idata)
    per = {v: float(np.nanmin(ess[v].values)) for v in ess.data_vars}
    worst = min(per, key=per.get)
    diverging = idata.sample_stats["diverging"] if "diverging" in idata.sample_stats else None
    return {"min_ess": per[worst], "worst": worst,
            "max_rhat": max(float(np.nanmax(rhat[v].values)) for v in rhat.data_vars),
            "divergences": int(diverging.sum()) if diverging is not None else None}


def child_stanmer(engine: str, frame: pd.DataFrame, model: Model, spawned: float) -> dict:
    """engine "stanli-warm": stanli, each fit after the first warm-started from the one before
    (a refit of the same data for a single model; the next data set in a batch)."""
    import stanmer

    engine, warm = engine.removesuffix("-warm"), engine.endswith("-warm")
    family = model.family
    walls, checks = [], []
    fit = None
    for data in datasets(frame, model) + ([] if model.batch else [frame]):
        started, cpu = time.perf_counter(), cpu_seconds()
        start = {"warm_start": fit} if warm and fit is not None else {}
        fit = stanmer.fit(model.formula, data, family=family, engine=engine, seed=1, progress=False, **start)
        checks.append(posterior_checks(fit.idata) | {"cpu": cpu_seconds() - cpu})
        walls.append(time.perf_counter() - started)
        if len(walls) == 1:
            cold = time.time() - spawned
    import stanli

    versions = {"stanmer": stanmer.__version__, "stanli": stanli.__version__}
    return summarise(cold, walls, checks, versions, batch=bool(model.batch))


def child_bambi(method: str, frame: pd.DataFrame, model: Model, spawned: float) -> dict:
    import bambi as bmb

    walls, checks = [], []
    for data in datasets(frame, model) + ([] if model.batch else [frame]):
        started, cpu = time.perf_counter(), cpu_seconds()
        formula = model.formula.replace("dept:service", "dept_service")
        if "dept_service" in formula:
            data = data.assign(dept_service=data["dept"] + ":" + data["service"])
        fitted = bmb.Model(formula, data, family=model.family).fit(
            draws=1000, tune=1000, chains=4, random_seed=1, inference_method=method, progressbar=False)
        checks.append(posterior_checks(fitted) | {"cpu": cpu_seconds() - cpu})
        walls.append(time.perf_counter() - started)
        if len(walls) == 1:
            cold = time.time() - spawned
    versions = {"bambi": bmb.__version__}
    if method == "nutpie":
        import nutpie

        versions["nutpie"] = nutpie.__version__
    else:
        import pymc

        versions["pymc"] = pymc.__version__
    return summarise(cold, walls, checks, versions, batch=bool(model.batch))


def summarise(cold: float, walls: list[float], checks: list[dict], versions: dict, batch: bool) -> dict:
    """Single model: warm = the second fit. Batch: warm = median wall per model
    after the first, cold = the whole batch from process start."""
    if batch:
        warm = float(np.median(walls[1:])) if len(walls) > 1 else walls[0]
        worst = min(checks, key=lambda c: c["min_ess"])
        return {"cold": time.time() - SPAWNED, "warm": warm, **worst,
                "cpu": float(np.median([c["cpu"] for c in checks[1:] or checks])),
                "divergences": sum(c["divergences"] or 0 for c in checks),
                "max_rhat": max(c["max_rhat"] for c in checks), "versions": versions,
                "note": f"{len(walls)} models; warm = median per model"}
    return {"cold": cold, "warm": walls[-1], **checks[-1], "versions": versions}


SPAWNED = time.time()

R_CHILD = r"""
spawned <- as.numeric(Sys.getenv("STANMER_BENCH_SPAWNED"))
args <- commandArgs(trailingOnly = TRUE)
tool <- args[1]; path <- args[2]; formula <- as.formula(args[3]); family <- args[4]
groups <- strsplit(args[5], ",")[[1]]; batch <- args[6] == "1"
suppressMessages(library(lme4))
if (tool == "brms") suppressMessages(library(brms))
d <- read.csv(path)
for (g in groups) d[[g]] <- factor(d[[g]])
sets <- if (batch) split(d, d$dataset) else list(d, d)
walls <- c(); cpus <- c(); ess <- c(); worst <- c(); rhat <- c(); div <- c(); cold <- NA
previous <- NULL
for (k in seq_along(sets)) {
  started <- Sys.time(); cpu0 <- sum(proc.time()[c(1, 2, 4, 5)], na.rm = TRUE)
  if (tool == "lme4") {
    m <- if (family == "gaussian") lmer(formula, data = sets[[k]]) else glmer(formula, data = sets[[k]], family = binomial)
  } else {
    fam <- if (family == "gaussian") gaussian() else bernoulli()
    m <- if (is.null(previous)) {
      brm(formula, data = sets[[k]], family = fam, chains = 4, cores = 2, seed = 1, refresh = 0, silent = 2)
    } else {
      update(previous, newdata = sets[[k]], recompile = FALSE, seed = 1, refresh = 0, silent = 2)
    }
    previous <- m
    s <- posterior::summarise_draws(posterior::as_draws_df(m), "ess_bulk", "rhat")
    s <- s[s$variable != "lp__" & s$variable != "lprior", ]
    ess <- c(ess, min(s$ess_bulk, na.rm = TRUE)); worst <- c(worst, s$variable[which.min(s$ess_bulk)])
    rhat <- c(rhat, max(s$rhat, na.rm = TRUE))
    np <- nuts_params(m); div <- c(div, sum(np$Value[np$Parameter == "divergent__"]))
  }
  walls <- c(walls, as.numeric(difftime(Sys.time(), started, units = "secs")))
  cpus <- c(cpus, sum(proc.time()[c(1, 2, 4, 5)], na.rm = TRUE) - cpu0)
  if (k == 1) cold <- as.numeric(Sys.time()) - spawned
}
total <- as.numeric(Sys.time()) - spawned
warm <- if (batch) median(walls[-1]) else walls[length(walls)]
versions <- paste0('"lme4": "', packageVersion("lme4"), '", "R": "', getRversion(), '"')
if (tool == "brms") versions <- paste0(versions, ', "brms": "', packageVersion("brms"), '", "rstan": "', packageVersion("rstan"), '"')
cpu <- if (batch) median(cpus[-1]) else cpus[length(cpus)]
out <- sprintf('{"cold": %f, "warm": %f, "cpu": %f, "versions": {%s}', if (batch) total else cold, warm, cpu, versions)
if (tool == "brms") {
  i <- if (batch) which.min(ess) else length(ess)
  out <- paste0(out, sprintf(', "min_ess": %f, "worst": "%s", "max_rhat": %f, "divergences": %d',
                             ess[i], worst[i], max(if (batch) rhat else rhat[i]), as.integer(if (batch) sum(div) else div[i])))
}
if (batch) out <- paste0(out, sprintf(', "note": "%d models; warm = median per model"', length(sets)))
cat("RESULT", paste0(out, "}"), "\n")
"""


# ---------------------------------------------------------------- parent

STANMER_ENGINES = ["stanli", "pystan", "cmdstan"]
TOOLS = [f"stanmer-{e}" for e in STANMER_ENGINES] + ["stanmer-stanli-warm", "bambi-nutpie", "bambi-pymc", "brms", "lme4"]


def bambi_python() -> str | None:
    candidate = os.environ.get("STANMER_BENCH_BAMBI_PYTHON")
    for python in filter(None, [candidate, sys.executable]):
        if subprocess.run([python, "-c", "import bambi"], capture_output=True).returncode == 0:
            return python
    return None


def available(tool: str) -> str | None:
    """None if the tool can run here, else why not."""
    if tool.startswith("stanmer-"):
        from stanmer.engines import get_engine

        try:
            ok = get_engine(tool.removeprefix("stanmer-").removesuffix("-warm")).available()
        except Exception as error:  # an engine that cannot even be looked up is absent
            return str(error)
        return None if ok else "engine not installed"
    if tool.startswith("bambi-"):
        return None if bambi_python() else "bambi not installed (see STANMER_BENCH_BAMBI_PYTHON)"
    if shutil.which("Rscript") is None:
        return "Rscript not found"
    package = tool
    check = subprocess.run(["Rscript", "-e", f"quit(status = !requireNamespace('{package}', quietly = TRUE))"],
                           capture_output=True)
    return None if check.returncode == 0 else f"R package {package} not installed"


def run_child(tool: str, model: Model, csv: Path, timeout: float) -> dict:
    env = {**os.environ, "STANMER_BENCH_SPAWNED": repr(time.time())}
    cache = tempfile.mkdtemp(prefix="stanmer-bench-cache-")
    env["STANMER_CACHE_DIR"] = cache  # cold means cold: nothing compiled earlier helps
    if tool in ("brms", "lme4"):
        script = csv.parent / "child.R"
        script.write_text(R_CHILD)
        command = ["Rscript", str(script), tool, str(csv), model.formula, model.family, ",".join(model.groups),
                   "1" if model.batch else "0"]
    else:
        python = bambi_python() if tool.startswith("bambi-") else sys.executable
        command = [python, str(Path(__file__).resolve()), "--child", tool, model.name, str(csv),
                   json.dumps(model.__dict__)]
    load_before = common.loadavg()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        return {"error": f"timed out after {timeout:.0f} s", "load": load_before}
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    peak = PEAKS.pop(process.pid, None)  # recorded when Popen reaped the child
    lines = [line for line in stdout.splitlines() if line.startswith("RESULT ")]
    if process.returncode != 0 or not lines:
        return {"error": (stderr.strip().splitlines() or ["no output"])[-1][:200], "load": load_before}
    result = json.loads(lines[-1].removeprefix("RESULT "))
    result["peak_mb"] = peak
    result["load"] = f"{load_before}/{common.loadavg()}"
    return result


PEAKS: dict[int, float] = {}


def _record_peak_on_wait() -> None:
    """Popen reaps children with waitpid; swap in wait4 so each child's own peak
    resident memory is kept (ru_maxrss, KiB on Linux)."""
    def waitpid(pid: int, options: int):
        waited, status, usage = os.wait4(pid, options)
        if waited:
            PEAKS[waited] = usage.ru_maxrss / 1024
        return waited, status

    os.waitpid = waitpid


def versions_line() -> str:
    out = [f"Python {platform.python_version()}"]
    for name in ["stanmer", "stanli", "pystan", "cmdstanpy", "arviz", "formulae"]:
        try:
            from importlib.metadata import version

            out.append(f"{name} {version(name)}")
        except Exception:
            pass
    return ", ".join(out)


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    memory = int(Path("/proc/meminfo").read_text().split()[1]) / 1024 ** 2
    return f"{platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} cores, {memory:.0f} GB"


def fmt(value, spec: str) -> str:
    return "" if value is None else format(value, spec)


def write_results(rows: list[tuple[str, str, str, dict]], sources: dict, path: Path, started: str) -> None:
    lines = [
        "# Benchmark results", "",
        f"`python bench/run.py {' '.join(sys.argv[1:])}`, started {started}", "",
        f"- machine: {machine()}",
        f"- load average at start: {Path('/proc/loadavg').read_text().strip()} (shared machine: compare ratios "
        "of tools run side by side, not absolute times)",
        f"- versions: {versions_line()}; per tool below", "",
        "Cold: process start to first result (compilation, imports, data reading included). Warm: the same fit "
        "again in the same process (batch: median per model after the first). Min ESS: bulk ESS of the worst "
        "parameter, group effects included (brms: every variable but lp__/lprior). ESS/s = min ESS / warm wall. "
        "Warm CPU s: CPU time of that warm fit, every thread and child process (moves less with the load than wall). "
        "ESS/CPU-s = min ESS / warm CPU s. Peak MB: the tool process's maximum resident memory. Load: 1-minute load average before/after.", "",
        "| model | tool | cold s | warm s | warm CPU s | min bulk ESS (worst) | ESS/s | ESS/CPU-s | div | max R-hat "
        "| peak MB | load | note |",
        "| --- | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    tool_versions = {}
    for model, tool, status, r in rows:
        if status:
            lines.append(f"| {model} | {tool} | | | | | | | | | | | {status} |")
            continue
        if "error" in r:
            lines.append(f"| {model} | {tool} | | | | | | | | | | {r['load']} | failed: {r['error']} |")
            continue
        tool_versions[tool] = r.get("versions", {})
        ess = r.get("min_ess")
        cell = f"{ess:.0f} ({r['worst']})" if ess is not None else "n/a (point estimate)"
        rate = fmt(ess / r["warm"], ".0f") if ess is not None else ""
        cpu = r.get("cpu")
        cpu_rate = fmt(ess / cpu, ".0f") if ess is not None and cpu else ""
        lines.append(
            f"| {model} | {tool} | {r['cold']:.1f} | {r['warm']:.2f} | {fmt(cpu, '.2f')} | {cell} | {rate} | {cpu_rate} | "
            f"{fmt(r.get('divergences'), 'd')} | {fmt(r.get('max_rhat'), '.3f')} | {fmt(r.get('peak_mb'), '.0f')} | "
            f"{r['load']} | {r.get('note', '')} |")
    lines += ["", "Data: " + "; ".join(f"{k}: {v}" for k, v in sources.items()), "", "Tool versions:"]
    lines += [f"- {tool}: " + ", ".join(f"{k} {v}" for k, v in versions.items())
              for tool, versions in tool_versions.items()]
    path.write_text("\n".join(lines) + "\n")


def parent(args: argparse.Namespace) -> None:
    _record_peak_on_wait()
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    chosen = models(args.quick)
    if args.models:
        chosen = {k: v for k, v in chosen.items() if k in args.models.split(",")}
    tools = args.tools.split(",") if args.tools else TOOLS
    missing = {tool: available(tool) for tool in tools}
    rows, sources = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, (model, frame, source) in chosen.items():
            sources[name] = source
            csv = Path(tmp) / f"{name}.csv"
            frame.to_csv(csv, index=False)
            for tool in tools:
                if missing[tool]:
                    rows.append((name, tool, f"skipped: {missing[tool]}", {}))
                    continue
                if tool == "brms" and name == "insteval" and not args.all:
                    rows.append((name, tool, "skipped: over an hour (run with --all)", {}))
                    continue
                print(f"{name} / {tool} ...", end=" ", flush=True)
                result = run_child(tool, model, csv, args.timeout)
                print(result.get("error") or f"cold {result['cold']:.1f} s, warm {result['warm']:.2f} s, "
                      f"min ESS {result.get('min_ess')}", flush=True)
                rows.append((name, tool, "", result))
                write_results(rows, sources, Path(args.out), started)
    print(f"wrote {args.out}")


def child(args: argparse.Namespace) -> None:
    tool, _, csv, spec = args.child
    model = Model(**{k: tuple(v) if isinstance(v, list) else v for k, v in json.loads(spec).items()})
    frame = read_frame(csv, model)
    spawned = float(os.environ.get("STANMER_BENCH_SPAWNED", SPAWNED))
    if tool.startswith("stanmer-"):
        result = child_stanmer(tool.removeprefix("stanmer-"), frame, model, spawned)
    else:
        result = child_bambi(tool.removeprefix("bambi-"), frame, model, spawned)
    print("RESULT " + json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--models", help="comma-separated subset")
    parser.add_argument("--tools", help=f"comma-separated subset of {', '.join(TOOLS)}")
    parser.add_argument("--all", action="store_true", help="also the runs that take over an hour")
    parser.add_argument("--timeout", type=float, default=5400)
    parser.add_argument("--out", default=str(BENCH / "results.md"))
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    child(args) if args.child else parent(args)


if __name__ == "__main__":
    main()
