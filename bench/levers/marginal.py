"""The group effects integrated out of stanmer's Gaussian program with T
intercept-only terms (`y ~ x... + (1 | g_1) + ... + (1 | g_T)`), for any T:
the generator behind bench/prototypes/reference_varsplit_marginal_counts.stan
(see findings.md, "Variance split"), and its check.

    python bench/levers/marginal.py     # log density vs numpy's exact MVN, T = 1, 2, 3; T = 2 vs the prototype;
                                        # T = 3 sampled beside the plain program (ESS, same posterior)

Y ~ N(Intercept_c + Xc b, sigma^2 I + sum_t sd_t^2 Z_t Z_t'). The term with
the most levels ("L", chosen when the program is generated, like the
sufficient-statistics decision) is eliminated in closed form: its block of the
effects' conditional precision is diagonal, and each of its levels' entry
depends only on the level's row count. The other terms ("O", R = sum of their
levels) keep one R x R Cholesky per gradient. The effects are drawn exactly
from their conditional in generated quantities. Parameters stay b,
Intercept_c, sd_t, sigma: same priors, no Jacobian.
"""

from __future__ import annotations


import time

import arviz as az
import numpy as np
import xarray as xr
from scipy import stats

import common
from stanmer.formula import build_design
from stanmer.pipeline import build_model


def _data_block(code: str) -> str:
    return code[code.index("data {"): code.index("transformed data {")]


def marginal_program(code: str, J: list[int]) -> str:
    """Rewrite the generated program `code` (T intercept terms with J levels
    each in the data at hand) into its marginal form."""
    T = len(J)
    large = int(np.argmax(J)) + 1
    others = [t for t in range(1, T + 1) if t != large]
    Lg = large  # the eliminated term's index
    R = " + ".join(f"J_{t}" for t in others) or "0"
    # offsets of each O term in the stacked O effects
    off = {}
    for i, t in enumerate(others):
        off[t] = " + ".join(["0"] + [f"J_{u}" for u in others[:i]])
    td = [
        "transformed data {",
        "  vector[K] X_means;",
        "  matrix[N, K] Xc;",
        "  for (k in 1:K) {",
        "    X_means[k] = mean(X[ : , k]);",
        "    Xc[ : , k] = X[ : , k] - X_means[k];",
        "  }",
        "  real YY = dot_self(Y);",
        "  real sum_Y = sum(Y);",
        "  vector[K] XcY = Xc' * Y;",
        "  matrix[K, K] XcXc = crossprod(Xc);",
        f"  int R = {R};  // effects of the terms kept in the Cholesky",
        "  vector[R] n_O = rep_vector(0, R);      // rows per level, stacked over those terms",
        "  vector[R] sY_O = rep_vector(0, R);",
        "  matrix[R, K] sXc_O = rep_matrix(0, R, K);",
        "  matrix[R, R] ZtZ_O = rep_matrix(0, R, R);  // level and level-pair row counts among them",
        f"  array[J_{Lg}] int count_L = rep_array(0, J_{Lg});",
        f"  vector[J_{Lg}] sY_L = rep_vector(0, J_{Lg});",
        f"  matrix[J_{Lg}, K] sXc_L = rep_matrix(0, J_{Lg}, K);",
        f"  matrix[R, J_{Lg}] N_OL = rep_matrix(0, R, J_{Lg});",
        "  for (n in 1:N) {",
        f"    count_L[g_{Lg}[n]] += 1;",
        f"    sY_L[g_{Lg}[n]] += Y[n];",
        f"    sXc_L[g_{Lg}[n]] += Xc[n];",
    ]
    for t in others:
        i = f"{off[t]} + g_{t}[n]"
        td += [f"    n_O[{i}] += 1;", f"    sY_O[{i}] += Y[n];", f"    sXc_O[{i}] += Xc[n];",
               f"    N_OL[{i}, g_{Lg}[n]] += 1;"]
        for u in others:
            td.append(f"    ZtZ_O[{i}, {off[u]} + g_{u}[n]] += 1;")
    td += [
        "  }",
        "  int M_L = max(count_L);",
        "  vector[M_L] m_L = linspaced_vector(M_L, 1, M_L);",
        "  vector[M_L] k_L = rep_vector(0, M_L);  // levels of L with m rows",
        "  array[M_L] matrix[R, R] G_L;            // sum over those levels of N_OL[, k] N_OL[, k]'",
        "  for (m in 1:M_L) G_L[m] = rep_matrix(0, R, R);",
        f"  for (k in 1:J_{Lg}) {{",
        "    k_L[count_L[k]] += 1;",
        "    G_L[count_L[k]] += N_OL[ : , k] * N_OL[ : , k]';",
        "  }",
        "}",
    ]
    params = ["parameters {", "  vector[K] b;", "  real Intercept_c;"]
    params += [f"  real<lower=0> sd_{t};" for t in range(1, T + 1)] + ["  real<lower=0> sigma;", "}"]
    priors = [line for line in code[code.index("model {"):].splitlines()
              if line.startswith("  target +=") and "_lpdf(" in line and "z_" not in line]
    # prior precisions of the O effects; append_row takes two arguments, so nest
    parts = [f"rep_vector(inv_square(sd_{t}), J_{t})" for t in others]
    prec_O = parts[-1] if parts else ""
    for part in reversed(parts[:-1]):
        prec_O = f"append_row({part}, {prec_O})"
    common_lines = [
        "    real s2 = square(sigma);",
        f"    vector[M_L] c_m = m_L / s2 + inv_square(sd_{Lg});",
        f"    vector[J_{Lg}] c = c_m[count_L];",
        f"    vector[J_{Lg}] u_L = (sY_L - to_vector(count_L) * Intercept_c - sXc_L * b) / s2;",
    ]
    if others:
        common_lines += [
            "    vector[R] u_O = (sY_O - n_O * Intercept_c - sXc_O * b) / s2;",
            f"    matrix[R, R] S = add_diag(ZtZ_O / s2, {prec_O});",
            "    for (m in 1:M_L) S -= G_L[m] / (c_m[m] * square(s2));",
            "    matrix[R, R] L = cholesky_decompose(S);",
            "    vector[R] v = mdivide_left_tri_low(L, u_O - N_OL * (u_L ./ c) / s2);",
        ]
    logdet = " - sum(log(diagonal(L)))" if others else ""
    quad = " - dot_self(v)" if others else ""
    model = ["model {"] + priors + ["  if (!prior_only) {"] + common_lines + [
        "    real ee = YY - 2 * Intercept_c * sum_Y - 2 * dot_product(b, XcY) + N * square(Intercept_c)"
        " + quad_form(XcXc, b);",
        "    target += -N * log(sigma) - " + " - ".join(f"J_{t} * log(sd_{t})" for t in range(1, T + 1))
        + f" - 0.5 * dot_product(k_L, log(c_m)){logdet}",
        f"              - 0.5 * (ee / s2 - dot_self(u_L ./ sqrt(c)){quad});",
        "  }", "}"]
    gq = ["generated quantities {", "  real Intercept = Intercept_c - dot_product(X_means, b);"]
    gq += [f"  vector[J_{t}] r_{t};" for t in range(1, T + 1)]
    gq += ["  {", "    if (prior_only) {"]
    gq += [f"      for (j in 1:J_{t}) r_{t}[j] = normal_rng(0, sd_{t});" for t in range(1, T + 1)]
    gq += ["    } else {"] + ["  " + line for line in common_lines]
    if others:
        gq += ["      vector[R] w_O;", "      for (q in 1:R) w_O[q] = normal_rng(0, 1);",
               "      vector[R] r_O = mdivide_right_tri_low((v + w_O)', L)';"]
        gq += [f"      r_{t} = r_O[({off[t]} + 1):({off[t]} + J_{t})];" for t in others]
        mean_L = "(u_L - N_OL' * r_O / s2) ./ c"
    else:
        mean_L = "u_L ./ c"
    gq += [f"      vector[J_{Lg}] mean_L = {mean_L};",
           f"      for (k in 1:J_{Lg}) r_{Lg}[k] = normal_rng(mean_L[k], 1 / sqrt(c[k]));",
           "    }", "  }", "}"]
    header = (f"// Group effects integrated out; term {Lg} (most levels) eliminated in closed form, "
              f"terms {others} in one R x R Cholesky.\n")
    return header + "\n".join([_data_block(code).rstrip()] + td + params + model + gq) + "\n"


def simulated(T: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    n = 150
    import pandas as pd
    frame = pd.DataFrame({"x": rng.normal(size=n)})
    eta = 1 + 0.5 * frame["x"]
    for t, levels in zip(range(1, T + 1), [40, 12, 6]):
        g = rng.integers(0, levels, n)
        frame[f"g{t}"] = g
        eta = eta + rng.normal(0, 1, levels)[g]
    frame["y"] = eta + rng.normal(0, 1, n)
    formula = "y ~ x + " + " + ".join(f"(1 | g{t})" for t in range(1, T + 1))
    return formula, frame


def exact_lp(data: dict, T: int, q: np.ndarray) -> float:
    """Log density written independently: MVN with the effects integrated out,
    the priors, and the log-Jacobian of the log transforms of the scales."""
    K = data["K"]
    y = np.asarray(data["Y"], float)
    X = np.asarray(data["X"], float).reshape(data["N"], K)
    Xc = X - X.mean(0)
    b, ic, scales = q[:K], q[K], np.exp(q[K + 1:])
    cov = scales[-1] ** 2 * np.eye(data["N"])
    for t in range(1, T + 1):
        Z = np.eye(data[f"J_{t}"])[np.asarray(data[f"g_{t}"]) - 1]
        cov += scales[t - 1] ** 2 * Z @ Z.T
    lp = stats.multivariate_normal(ic + Xc @ b, cov).logpdf(y)
    lp += stats.norm(data["b_prior_mu"], data["b_prior_sigma"]).logpdf(b).sum()
    lp += stats.t(data["Intercept_prior_nu"], data["Intercept_prior_mu"], data["Intercept_prior_sigma"]).logpdf(ic)
    names = [f"sd_{t}" for t in range(1, T + 1)] + ["sigma"]
    for name, value in zip(names, scales):
        lp += stats.t(data[f"{name}_prior_nu"], data[f"{name}_prior_mu"], data[f"{name}_prior_sigma"]).logpdf(value)
    return lp + q[K + 1:].sum()


def check() -> None:
    import stanli

    rng = np.random.default_rng(2)
    cases = [("reference", common.REFERENCE_FORMULA, common.reference_data())]
    cases += [(f"simulated T={T}", *simulated(T)) for T in (1, 2, 3)]
    for label, formula, frame in cases:
        built = build_model(build_design(formula, frame, "gaussian", None, None))
        data = dict(built.standata)
        J = [data[f"J_{t}"] for t in range(1, 10) if f"J_{t}" in data]
        T, K = len(J), data["K"]
        program = marginal_program(built.executable, J)
        m = stanli.Model(stan_code=program, data=data)
        centre = float(np.mean(data["Y"]))
        qs = [np.concatenate([rng.normal(0, 1, K), [centre + rng.normal(0, 1)], np.log(rng.uniform(0.3, 5, T + 1)
                              * np.std(data["Y"]))]) for _ in range(12)]
        diff = np.array([m.log_prob_grad(q)[0] - exact_lp(data, T, q) for q in qs])
        line = f"{label:<16} T={T} J={J}: generated log density - exact, spread over 12 points {np.ptp(diff):.1e}"
        if label == "reference":
            proto = stanli.Model(stan_code=(common.BENCH / "prototypes" / "reference_varsplit_marginal_counts.stan")
                                 .read_text(), data=data)
            gap = [m.log_prob_grad(q)[0] - proto.log_prob_grad(q)[0] for q in qs]
            line += f"; vs the hand-written prototype {np.ptp(gap):.1e}"
        print(line, flush=True)
        if label == "simulated T=3":
            compare_fits(built.executable, program, data, T)


def _draws(program: str, data: dict, T: int, seed: int) -> tuple[xr.Dataset, float, float, int]:
    import stanli

    started = time.process_time()
    fit = stanli.Model(stan_code=program, data=data).sample(chains=4, seed=seed, refresh=0)
    cpu = time.process_time() - started
    idata = fit.to_arviz()
    post, stats_ = idata.posterior, idata.sample_stats
    draws = {name: post[name] for name in ["b", "Intercept_c", "sigma"] + [f"sd_{t}" for t in range(1, T + 1)]}
    for t in range(1, T + 1):
        draws[f"r_{t}"] = post[f"r_{t}"] if f"r_{t}" in post else \
            (post[f"sd_{t}"] * post[f"z_{t}"]).rename({f"z_{t}_dim_0": f"r_{t}_dim_0"})
    return xr.Dataset(draws), cpu, float(stats_["n_leapfrog"].mean()), int(stats_["divergent"].sum())


def compare_fits(plain: str, marginal: str, data: dict, T: int) -> None:
    """Both programs at default settings: min bulk ESS over b, Intercept_c,
    sd_t, sigma, r_t, and the largest difference of posterior means and sds
    (pooled over seeds 1-2) in MC standard errors: the generated effects'
    draws (r_O from the Cholesky, r_L given r_O) must match the plain ones."""
    pooled = {}
    for label, program in (("plain", plain), ("marginal", marginal)):
        runs = [_draws(program, data, T, seed) for seed in (1, 2)]
        for seed, (ds, cpu, steps, div) in zip((1, 2), runs):
            ess = az.ess(ds, method="bulk")
            per = {name: float(ess[name].min()) for name in ess.data_vars}
            worst = min(per, key=per.get)
            print(f"  {label:<9} seed {seed}: min bulk ESS {per[worst]:6.0f} ({worst}), {steps:4.1f} steps/draw,"
                  f" CPU {cpu:4.2f} s, {div} div", flush=True)
        pooled[label] = xr.concat([ds.assign_coords(chain=ds.chain + 4 * i) for i, (ds, *_) in enumerate(runs)],
                                  "chain")
    worst = {"mean": 0.0, "sd": 0.0}
    for name in pooled["plain"].data_vars:
        a, b = pooled["marginal"][name], pooled["plain"][name]
        for method, stat in (("mean", lambda x: x.mean(("chain", "draw"))), ("sd", lambda x: x.std(("chain", "draw")))):
            se = np.sqrt(az.mcse(a.to_dataset(), method=method)[name] ** 2 + az.mcse(b.to_dataset(), method=method)[name] ** 2)
            worst[method] = max(worst[method], float(np.max(np.abs((stat(a) - stat(b)) / se))))
    n = sum(int(np.prod(pooled["plain"][v].shape[2:])) for v in pooled["plain"].data_vars)
    print(f"  same posterior: max |z| of means {worst['mean']:.2f}, of sds {worst['sd']:.2f} over {n} quantities")


if __name__ == "__main__":
    check()
