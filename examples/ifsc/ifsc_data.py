"""The IFSC boulder World Cup 2025 finals data, shaped for the two reference fits."""

from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
ROUNDS = {"Qualification": "score_quali", "Semi-final": "score_semi", "Final": "score_final"}
CURITIBA_EVENT_ID = 1408


def load_wide() -> pd.DataFrame:
    """All 88 finalist rows (athlete × competition), one column per round's score,
    pivoted from the long results file."""
    long = pd.read_csv(HERE / "ifsc_boulder_results_2025.csv", index_col=0)
    keys = ["comp_id", "athlete_id"]
    scores = long.pivot_table(index=keys, columns="round", values="score", aggfunc="first").rename(columns=ROUNDS)
    info = long.drop(columns=["round", "score"]).drop_duplicates(keys).set_index(keys)
    wide = info.join(scores[list(ROUNDS.values())]).reset_index()
    return wide.dropna(subset=["score_final"]).reset_index(drop=True)


def train_test() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fit B's split: Curitiba (event 1408) is held out."""
    wide = load_wide()
    test = wide["event_id"] == CURITIBA_EVENT_ID
    return wide[~test].reset_index(drop=True), wide[test].reset_index(drop=True)
