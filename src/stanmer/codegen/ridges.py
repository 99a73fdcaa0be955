"""The sufficient-statistics program's coordinates without ridges (stanmer.ridges
says why and computes the blocks): the sampler moves Intercept_pinned,
b_pinned and each term's reflected effects u_t; Intercept_c and b are
transformed parameters and the effects z_t or r_t locals of the model block,
so every prior and the likelihood read as the plain program states them."""

from __future__ import annotations

from ..spec import ModelSpec
from ..stan_text import decl
from .blocks import Program

HEADER = [
    "shape:   NUTS moves Intercept_pinned, b_pinned and u_t, coordinates without the ridges of",
    "         the intercept and of nested terms (stanmer.ridges); Intercept_c, b, z_t and r_t",
    "         are computed from them and keep their priors",
]

FUNCTIONS = [
    "// u reflected block by block (levels[start of block k ...] are block k's levels):",
    "// H = I - 2 h h' / h'h with h = e_1 - (its size)^-1/2 (1, ..., 1) swaps the first axis",
    "// and the block's equal-entries axis, so the block's first coordinate is",
    "// sqrt(size) * the mean of its effects and the others are free of that mean",
    "vector reflect_blocks(vector u, array[] int sizes, array[] int levels) {",
    "  vector[rows(u)] v;",
    "  int start = 1;",
    "  for (k in 1:size(sizes)) {",
    "    int n = sizes[k];",
    "    vector[n] w = segment(u, start, n);",
    "    if (n > 1) {",
    "      real s = inv_sqrt(n);",
    "      vector[n] h = rep_vector(-s, n);",
    "      h[1] += 1;",
    "      w -= h * (dot_product(h, w) / (1 - s));",
    "    }",
    "    v[levels[start:(start + n - 1)]] = w;",
    "    start += n;",
    "  }",
    "  return v;",
    "}",
    "// the mean of each block, read off its first reflected coordinate",
    "vector block_means(vector u, array[] int sizes) {",
    "  vector[size(sizes)] means;",
    "  int start = 1;",
    "  for (k in 1:size(sizes)) {",
    "    means[k] = u[start] * inv_sqrt(sizes[k]);",
    "    start += sizes[k];",
    "  }",
    "  return means;",
    "}",
]


def add_ridge_free_coordinates(program: Program, spec: ModelSpec) -> None:
    """The blocks' data, the map back to Intercept_c and b (transformed
    parameters, with the block means), and the effects z_t or r_t as locals
    of the model block: not stored, stanmer.ridges rebuilds them from the draws."""
    terms = list(enumerate(spec.group_terms, 1))
    program.add("functions", *FUNCTIONS)
    program.add(
        "data",
        "",
        "// coordinates without ridges (computed when the data are prepared): per group term, its",
        "// levels in blocks (block_t_levels lists them block by block, block_t_size[k] in block k);",
        "// block_t_shift moves the block means into (intercept, b); absorbs_t[j] = 1 + the place,",
        "// among every term's block means, of the one level j takes in (1: none)",
    )
    for t, _ in terms:
        program.add(
            "data",
            decl(f"int<lower=1> B_{t};", f"blocks of group term {t}"),
            f"array[B_{t}] int<lower=1> block_{t}_size;",
            f"array[J_{t}] int<lower=1, upper=J_{t}> block_{t}_levels;",
            f"matrix[1 + K, B_{t}] block_{t}_shift;",
            f"array[J_{t}] int<lower=1> absorbs_{t};",
        )
    program.add("transformed parameters", *[decl(f"vector[B_{t}] block_mean_{t};", f"block means of r_{t}") for t, _ in terms])
    means = [
        f"block_mean_{t} = {'' if term.centred else f'sd_{t} * '}block_means(u_{t}, block_{t}_size);" for t, term in terms
    ]
    shift = " + ".join(f"block_{t}_shift * block_mean_{t}" for t, _ in terms)
    program.add(
        "transformed parameters",
        "// each step a reflection or a shift given the other coordinates: Jacobian 1",
        *means,
        "{",
        "  " + decl(f"vector[1 + K] shift = {shift};", "what the blocks' means move into the intercept and b"),
        "  Intercept_c = Intercept_pinned - shift[1];",
        "  b = b_pinned - tail(shift, K);",
        "}",
    )
    program.prepend("model", "// the effects, from u_t (not stored: stanmer rebuilds them from the draws)", *effects_statements(spec), "")


def effects_statements(spec: ModelSpec) -> list[str]:
    """The effects as the model block computes them from u_t (stanmer.ridges.with_effects does the same in numpy)."""
    terms = list(enumerate(spec.group_terms, 1))
    sizes = " + ".join(f"B_{t}" for t, _ in terms)
    stacked = f"block_mean_{len(terms)}"
    for t, _ in reversed(terms[:-1]):
        stacked = f"append_row(block_mean_{t}, {stacked})"
    lines = [decl(f"vector[1 + {sizes}] absorbable = append_row(0, {stacked});", "led by 0: absorbed by no level")]
    for t, term in terms:
        reflected = f"reflect_blocks(u_{t}, block_{t}_size, block_{t}_levels)"
        if term.centred:
            lines.append(decl(f"vector[J_{t}] r_{t} = {reflected} - absorbable[absorbs_{t}];", "effects (centred)"))
        else:
            lines.append(decl(f"vector[J_{t}] z_{t} = {reflected} - absorbable[absorbs_{t}] / sd_{t};", "standardised effects"))
    return lines


def add_pinned_population(program: Program) -> None:
    """The population effects as the data see them, in place of b and Intercept_c."""
    program.add(
        "parameters",
        decl("vector[K] b_pinned;", "b plus what the block means of the group terms move into it"),
        decl("real Intercept_pinned;", "Intercept_c plus what the group terms' block means move into it"),
    )
    program.add(
        "transformed parameters",
        decl("vector[K] b;", "population-level effects"),
        decl("real Intercept_c;", "intercept at the predictors' means"),
    )


def add_term_coordinates(program: Program, t: int) -> None:
    program.add("parameters", decl(f"vector[J_{t}] u_{t};", "effects reflected block by block (see functions)"))
