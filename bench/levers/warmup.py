"""Where a chain's gradients go in warmup, and what the coordinates without
ridges cost per gradient (bench/findings.md, "Coordinates without ridges and
a start from the data, ported").

    python bench/levers/warmup.py profile [--model insteval|verbagg] [--seed 1]
        one chain, 1000 + 1000 on stanli, leapfrog steps per warmup window,
        from Stan's own start (unit metric, random inits) and, for a program
        that has one, from the data's (stanmer.ridges.starting_point)
    python bench/levers/warmup.py gradient
        InstEval: stanmer's program against the previous one with the same
        centring (bench/prototypes/insteval_plain_cc.stan), best of 3 rounds
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

import common

# Stan's warmup windows for 1,000 iterations: 75 fast, 25 / 50 / 100 / 200 / 500 slow, 50 fast
WINDOWS = [(0, 75), (75, 100), (100, 150), (150, 250), (250, 450), (450, 950), (950, 1000)]


def _model(name: str):
    import stanmer
    from stanmer.pipeline import build_model

    frame = common.load(name)[0]
    if name == "insteval":
        return build_model(stanmer.design(common.INSTEVAL_FORMULA, frame))
    return build_model(stanmer.design(common.VERBAGG_FORMULA, frame, family="bernoulli"))


def profile(name: str, seed: int) -> None:
    import stanli
    from stanmer.sampling import SamplerOptions
    from stanmer.warm_start import cold_options

    model = _model(name)
    compiled = stanli.Model(stan_code=model.executable, data=model.standata)
    starts = {"Stan's": {}}
    if model.start is not None:
        options = cold_options(model.start, model.executable, model.standata, SamplerOptions(chains=1, seed=seed))
        starts["the data's"] = {"inits": compiled.unconstrain(options.inits[0]), "inv_metric": options.inv_metric}
    for label, arguments in starts.items():
        cpu = time.process_time()
        fit = compiled.sample(chains=1, warmup=1000, samples=1000, seed=seed, save_warmup=True, refresh=0, **arguments)
        cpu = time.process_time() - cpu
        steps = np.asarray(fit.sampler_stats[:, :, stanli.SAMPLER_COLUMNS.index("n_leapfrog__")]).reshape(-1)
        print(json.dumps({
            "model": name, "start": label, "cpu_s": round(cpu, 1),
            "per_window": [int(steps[a:b].sum()) for a, b in WINDOWS],
            "warmup": int(steps[:1000].sum()), "sampling": int(steps[1000:].sum()),
            "max_steps_first_75": int(steps[:75].max()), "load": common.loadavg(),
        }), flush=True)


def gradient() -> None:
    import stanli

    model = _model("insteval")
    previous = (common.BENCH / "prototypes" / "insteval_plain_cc.stan").read_text()
    models = {"previous (d, dept:service centred)": stanli.Model(stan_code=previous, data=model.standata),
              "ridge-free (stanmer's)": stanli.Model(stan_code=model.executable, data=model.standata)}
    for label, seconds in common.best_gradient_seconds(models, 2.0, 3).items():
        print(f"{label}: {seconds * 1e3:.3f} ms per gradient, load {common.loadavg()}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["profile", "gradient"])
    parser.add_argument("--model", default="insteval", choices=["insteval", "verbagg"])
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    profile(args.model, args.seed) if args.what == "profile" else gradient()


if __name__ == "__main__":
    main()
