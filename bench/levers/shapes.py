"""Rewrites of stanmer's generated Gaussian program with T intercept-only
group terms (`y ~ x... + (1 | g_1) + ... + (1 | g_T)`), for measuring what
each rewrite buys. Every variant keeps the generated `data` and `parameters`
blocks unchanged (same unconstrained vector, so log densities and gradients
compare point by point) and adds only the data it declares below.

  plain      the generated program
  onepass    eta built in one expression, r_t local to the model block and
             rebuilt in generated quantities (one stored copy of the effects)
  suffstat_data  suffstat with the statistics prepared in Python and Y centred:
             the shape to port
  csr        all group effects through one sparse Z: csr_matrix_times_vector
  suffstat   Gaussian likelihood through sufficient statistics: per-level
             counts and sums, and the level pairs (with row counts) of each
             pair of terms, so the work scales with levels and level pairs,
             not rows (exact up to a constant). Pairs are gathered (COO form)
             because stanli's csr_matrix_times_vector runs out of memory at
             InstEval's size (std::bad_alloc for N=73,421 x 4,128 columns).
"""

from __future__ import annotations

import re

import numpy as np
import scipy.sparse as sp


def _blocks(code: str) -> dict[str, str]:
    """The generated program cut at its block headers."""
    names = ["data", "transformed data", "parameters", "transformed parameters", "model", "generated quantities"]
    spans = {}
    for name in names:
        match = re.search(rf"^{name} \{{\n", code, flags=re.M)
        if match:
            spans[name] = match.start()
    order = sorted(spans, key=spans.get)
    out = {"header": code[: spans[order[0]]]}
    for i, name in enumerate(order):
        end = spans[order[i + 1]] if i + 1 < len(order) else len(code)
        out[name] = code[spans[name]: end]
    return out


def _n_terms(code: str) -> int:
    return len(re.findall(r"^  int<lower=1> J_\d+;", code, flags=re.M))


def _priors(model_block: str) -> str:
    return "\n".join(line for line in model_block.splitlines() if line.startswith("  target +=") and "_lpdf(" in line)


def _gq(T: int) -> str:
    lines = [f"  vector[J_{t}] r_{t} = sd_{t} * z_{t};" for t in range(1, T + 1)]
    return ("generated quantities {\n  real Intercept = Intercept_c - dot_product(X_means, b);\n"
            + "\n".join(lines) + "\n}\n")


def plain(code: str) -> str:
    return code


def onepass(code: str) -> str:
    b, T = _blocks(code), _n_terms(code)
    local = "\n".join(f"    vector[J_{t}] r_{t} = sd_{t} * z_{t};" for t in range(1, T + 1))
    gathers = " + ".join(f"r_{t}[g_{t}]" for t in range(1, T + 1))
    model = (f"model {{\n{_priors(b['model'])}\n  if (!prior_only) {{\n{local}\n"
             f"    target += normal_id_glm_lupdf(Y | Xc, Intercept_c + {gathers}, b, sigma);\n  }}\n}}\n")
    return b["header"] + b["data"] + b["transformed data"] + b["parameters"] + model + _gq(T)


def csr(code: str) -> str:
    b, T = _blocks(code), _n_terms(code)
    data = b["data"].rstrip().rstrip("}") + (
        "  // all group terms as one sparse matrix Z (N x sum J_t), CSR form\n"
        "  int<lower=0> Z_nnz;\n  vector[Z_nnz] Z_w;\n  array[Z_nnz] int Z_v;\n  array[N + 1] int Z_u;\n}\n")
    sizes = " + ".join(f"J_{t}" for t in range(1, T + 1))
    stacked = _append_rows([f"sd_{t} * z_{t}" for t in range(1, T + 1)])
    model = (f"model {{\n{_priors(b['model'])}\n  if (!prior_only) {{\n"
             f"    vector[N] eta = csr_matrix_times_vector(N, {sizes}, Z_w, Z_v, Z_u, {stacked});\n"
             f"    target += normal_id_glm_lupdf(Y | Xc, Intercept_c + eta, b, sigma);\n  }}\n}}\n")
    return b["header"] + data + b["transformed data"] + b["parameters"] + model + _gq(T)


def _append_rows(parts: list[str]) -> str:
    out = parts[0]
    for part in parts[1:]:
        out = f"append_row({out}, {part})"
    return out


def suffstat(code: str) -> str:
    b, T = _blocks(code), _n_terms(code)
    pairs = [(t, u) for t in range(1, T + 1) for u in range(t + 1, T + 1)]
    extra = ["  // level pairs of each pair of group terms that share rows: pair p joins level"
             "\n  // C_t_u_j[p] of term t and level C_t_u_k[p] of term u in C_t_u_n[p] rows"]
    for t, u in pairs:
        extra.append(f"  int<lower=0> C_{t}_{u}_nnz;\n  vector[C_{t}_{u}_nnz] C_{t}_{u}_n;\n"
                     f"  array[C_{t}_{u}_nnz] int<lower=1, upper=J_{t}> C_{t}_{u}_j;\n"
                     f"  array[C_{t}_{u}_nnz] int<lower=1, upper=J_{u}> C_{t}_{u}_k;")
    data = b["data"].rstrip().rstrip("}") + "\n".join(extra) + "\n}\n"
    td_lines = ["  // sufficient statistics of the Gaussian likelihood: every row enters once, here",
                "  real YY = dot_self(Y);", "  real sum_Y = sum(Y);", "  vector[K] XcY = Xc' * Y;",
                "  matrix[K, K] XcXc = crossprod(Xc);"]
    for t in range(1, T + 1):
        td_lines += [f"  vector[J_{t}] n_{t} = rep_vector(0, J_{t});  // rows per level of term {t}",
                     f"  vector[J_{t}] sY_{t} = rep_vector(0, J_{t});  // sum of Y per level",
                     f"  matrix[J_{t}, K] sXc_{t} = rep_matrix(0, J_{t}, K);  // sum of Xc rows per level"]
    loop = ["  for (n in 1:N) {"]
    for t in range(1, T + 1):
        loop += [f"    n_{t}[g_{t}[n]] += 1;", f"    sY_{t}[g_{t}[n]] += Y[n];",
                 f"    sXc_{t}[g_{t}[n]] += Xc[n];"]
    loop.append("  }")
    td = b["transformed data"].rstrip().rstrip("}") + "\n".join(td_lines + loop) + "\n}\n"
    local = "\n".join(f"    vector[J_{t}] r_{t} = sd_{t} * z_{t};" for t in range(1, T + 1))
    rss = ["YY - 2 * Intercept_c * sum_Y - 2 * dot_product(b, XcY) + N * square(Intercept_c)"
           " + quad_form(XcXc, b)"]
    for t in range(1, T + 1):
        rss.append(f"- 2 * dot_product(r_{t}, sY_{t} - Intercept_c * n_{t} - sXc_{t} * b)"
                   f" + dot_product(n_{t}, square(r_{t}))")
    for t, u in pairs:
        rss.append(f"+ 2 * dot_product(C_{t}_{u}_n, r_{t}[C_{t}_{u}_j] .* r_{u}[C_{t}_{u}_k])")
    model = (f"model {{\n{_priors(b['model'])}\n  if (!prior_only) {{\n{local}\n"
             "    // residual sum of squares, expanded: work scales with levels and level pairs, not rows\n"
             "    real rss = " + "\n               ".join(rss) + ";\n"
             "    target += -N * log(sigma) - rss / (2 * square(sigma));\n  }\n}\n")
    return b["header"] + data + td + b["parameters"] + model + _gq(T)


def suffstat_data(code: str) -> str:
    """suffstat with every statistic computed in Python and passed as data (the
    build no longer loops over N in the interpreter), Y centred first so the
    expanded sum of squares cancels less, and no generated copy of r_t (the
    results stage rebuilds r_t = sd_t * z_t from the draws). The shape to port."""
    b, T = _blocks(code), _n_terms(code)
    pairs = [(t, u) for t in range(1, T + 1) for u in range(t + 1, T + 1)]
    extra = ["  // sufficient statistics of the Gaussian likelihood (computed when the data are prepared):",
             "  // Yc = Y - mean_Y, Xc = X - column means",
             "  real mean_Y;", "  real YcYc;  // Yc' * Yc", "  vector[K] XcYc;  // Xc' * Yc",
             "  matrix[K, K] XcXc;  // Xc' * Xc"]
    for t in range(1, T + 1):
        extra += [f"  vector[J_{t}] n_{t};  // rows per level of term {t}",
                  f"  vector[J_{t}] sYc_{t};  // sum of Yc per level of term {t}",
                  f"  matrix[J_{t}, K] sXc_{t};  // sum of Xc rows per level of term {t}"]
    extra.append("  // level pairs of two terms that share rows: pair p joins level C_t_u_j[p] of term t"
                 "\n  // and level C_t_u_k[p] of term u in C_t_u_n[p] rows")
    for t, u in pairs:
        extra.append(f"  int<lower=0> C_{t}_{u}_nnz;\n  vector[C_{t}_{u}_nnz] C_{t}_{u}_n;\n"
                     f"  array[C_{t}_{u}_nnz] int<lower=1, upper=J_{t}> C_{t}_{u}_j;\n"
                     f"  array[C_{t}_{u}_nnz] int<lower=1, upper=J_{u}> C_{t}_{u}_k;")
    data = b["data"].rstrip().rstrip("}") + "\n".join(extra) + "\n}\n"
    td = ("transformed data {\n  vector[K] X_means;  // column means of X\n"
          "  for (k in 1:K) X_means[k] = mean(X[ : , k]);\n}\n")
    local = "\n".join(f"    vector[J_{t}] r_{t} = sd_{t} * z_{t};" for t in range(1, T + 1))
    rss = ["YcYc - 2 * dot_product(b, XcYc) + N * square(c) + quad_form(XcXc, b)"]
    for t in range(1, T + 1):
        rss.append(f"- 2 * dot_product(r_{t}, sYc_{t} - c * n_{t} - sXc_{t} * b)"
                   f" + dot_product(n_{t}, square(r_{t}))")
    for t, u in pairs:
        rss.append(f"+ 2 * dot_product(C_{t}_{u}_n, r_{t}[C_{t}_{u}_j] .* r_{u}[C_{t}_{u}_k])")
    model = (f"model {{\n{_priors(b['model'])}\n  if (!prior_only) {{\n{local}\n"
             "    real c = Intercept_c - mean_Y;  // the intercept on the centred response\n"
             "    // residual sum of squares, expanded: work scales with levels and level pairs, not rows\n"
             "    real rss = " + "\n               ".join(rss) + ";\n"
             "    target += -N * log(sigma) - rss / (2 * square(sigma));\n  }\n}\n")
    gq = "generated quantities {\n  real Intercept = Intercept_c - dot_product(X_means, b);\n}\n"
    return b["header"] + data + td + b["parameters"] + model + gq


def _csr(matrix: sp.spmatrix) -> dict:
    m = sp.csr_matrix(matrix)
    m.sort_indices()
    return {"w": m.data.astype(float), "v": m.indices + 1, "u": m.indptr + 1, "nnz": m.nnz}


def extra_data(variant: str, data: dict) -> dict:
    """The data a variant declares beyond the generated program's."""
    T = sum(1 for key in data if re.fullmatch(r"J_\d+", key))
    N = data["N"]
    groups = [np.asarray(data[f"g_{t}"]) - 1 for t in range(1, T + 1)]
    if variant == "csr":
        offsets = np.cumsum([0] + [data[f"J_{t}"] for t in range(1, T + 1)])
        cols = np.stack([g + offsets[i] for i, g in enumerate(groups)], axis=1)
        Z = sp.csr_matrix((np.ones(N * T), cols.ravel(), np.arange(0, N * T + 1, T)), shape=(N, offsets[-1]))
        z = _csr(Z)
        return {"Z_nnz": z["nnz"], "Z_w": z["w"], "Z_v": z["v"], "Z_u": z["u"]}
    if variant in ("suffstat", "suffstat_data"):
        out = {}
        if variant == "suffstat_data":
            X = np.asarray(data["X"], dtype=float).reshape(N, -1)
            Xc = X - X.mean(axis=0)
            Yc = np.asarray(data["Y"], dtype=float) - np.mean(data["Y"])
            out |= {"mean_Y": float(np.mean(data["Y"])), "YcYc": float(Yc @ Yc), "XcYc": Xc.T @ Yc,
                    "XcXc": Xc.T @ Xc}
            for t in range(1, T + 1):
                g, J = groups[t - 1], data[f"J_{t}"]
                out |= {f"n_{t}": np.bincount(g, minlength=J).astype(float),
                        f"sYc_{t}": np.bincount(g, weights=Yc, minlength=J),
                        f"sXc_{t}": np.stack([np.bincount(g, weights=Xc[:, k], minlength=J)
                                              for k in range(Xc.shape[1])], axis=1)}
        for t in range(1, T + 1):
            for u in range(t + 1, T + 1):
                C = sp.csr_matrix((np.ones(N), (groups[t - 1], groups[u - 1])),
                                  shape=(data[f"J_{t}"], data[f"J_{u}"]))
                C = C.tocoo()  # duplicates summed into counts
                out |= {f"C_{t}_{u}_nnz": C.nnz, f"C_{t}_{u}_n": C.data.astype(float),
                        f"C_{t}_{u}_j": C.row + 1, f"C_{t}_{u}_k": C.col + 1}
        return out
    return {}


VARIANTS = {"plain": plain, "onepass": onepass, "csr": csr, "suffstat": suffstat, "suffstat_data": suffstat_data}
# csr fails to build in stanli at InstEval size (see above)
LARGE_VARIANTS = ["plain", "onepass", "suffstat", "suffstat_data"]
