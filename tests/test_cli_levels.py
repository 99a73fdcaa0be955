"""Ordered text responses from files: `--levels COLUMN=LOWEST,...,HIGHEST`
on the command line and `levels` in a manifest (family cumulative needs an
order a CSV cannot carry)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from stanmer.cli.fitting import FitRequest
from stanmer.cli.io import InputError
from stanmer.cli.levels import apply_levels, parse_levels
from stanmer.cli.main import main
from stanmer.cli.manifest import ManifestError, load_manifest
from stanmer.results.persist import load_fit

ROOT = Path(__file__).resolve().parents[1]
LEVELS = "never,rarely,often,always"


@pytest.fixture
def ratings(tmp_path) -> Path:
    inhaler = pd.read_csv(ROOT / "tests" / "reference" / "data" / "inhaler.csv")
    inhaler["rating"] = inhaler["rating"].map(dict(enumerate(LEVELS.split(","), 1)))
    path = tmp_path / "ratings.csv"
    inhaler.to_csv(path, index=False)
    return path


def test_levels_are_read_in_the_order_given():
    assert parse_levels("rating = never, rarely ,often") == ("rating", ("never", "rarely", "often"))
    for bad in ("rating", "rating=", "rating=only", "=a,b", "rating=a,,b"):
        with pytest.raises(InputError, match="COLUMN=LOWEST"):
            parse_levels(bad)


def test_a_value_the_levels_do_not_list_is_named():
    rows = pd.DataFrame({"rating": ["never", "sometimes", None]})
    with pytest.raises(InputError, match=r"\['sometimes'\].*add them"):
        apply_levels(rows, (("rating", ("never", "always")),))
    with pytest.raises(InputError, match="'score', which is not a column"):
        apply_levels(rows, (("score", ("a", "b")),))
    ordered = apply_levels(rows.iloc[[0, 2]], (("rating", ("never", "always")),))["rating"]
    assert ordered.cat.ordered and list(ordered.cat.categories) == ["never", "always"] and ordered.isna().iloc[1]


def test_fit_from_a_csv_keeps_the_order_and_the_level_names(ratings, tmp_path, capsys):
    arguments = [
        "fit", "rating ~ treat + (1 | subject)", "--data", ratings, "--family", "cumulative",
        "--levels", f"rating={LEVELS}", "--engine", "stanli", "--chains", "2", "--warmup", "200",
        "--draws", "200", "--seed", "1", "--out", tmp_path / "fit",
    ]
    assert main([str(a) for a in arguments]) == 0
    fitted = load_fit(tmp_path / "fit")
    assert fitted.spec.response_levels == tuple(LEVELS.split(","))
    assert "b[Intercept[3]]" in fitted.summary().index
    # without the order the CLI refuses, naming the fix
    assert main([str(a) for a in arguments[:6] + ["--out", tmp_path / "unordered"]]) != 0
    assert "ordered categorical" in capsys.readouterr().err


def test_manifest_levels_become_part_of_the_request(ratings, tmp_path):
    manifest = tmp_path / "batch.toml"
    manifest.write_text(
        f'[defaults]\ndata = "{ratings}"\nfamily = "cumulative"\n\n[[models]]\nname = "ordinal"\n'
        f'formula = "rating ~ treat + (1 | subject)"\nlevels = {{ rating = {json.dumps(LEVELS.split(","))} }}\n'
    )
    (request,) = load_manifest(manifest)
    assert request.levels == (("rating", tuple(LEVELS.split(","))),)
    assert list(request.rows()["rating"].cat.categories) == LEVELS.split(",")
    assert request.spec_hash() != FitRequest(**{**request.__dict__, "levels": ()}).spec_hash()
    manifest.write_text(manifest.read_text().replace(json.dumps(LEVELS.split(",")), '["never"]'))
    with pytest.raises(ManifestError, match="two or more distinct"):
        load_manifest(manifest)
