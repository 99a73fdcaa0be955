"""Data frames from other libraries: polars (through pyarrow), anything with
to_pandas() or the interchange protocol, and a clear error otherwise."""

import numpy as np
import pandas as pd
import pytest

import stanmer
from stanmer.errors import DataError, PredictionError
from stanmer.frames import as_pandas

pl = pytest.importorskip("polars")
pytest.importorskip("pyarrow")  # polars converts to pandas through pyarrow


@pytest.fixture
def frames():
    rng = np.random.default_rng(3)
    n = 40
    pandas = pd.DataFrame(
        {
            "y": rng.normal(size=n),
            "x": rng.normal(size=n),
            # Levels listed out of alphabetical order: the reference level must survive the conversion.
            "treat": pd.Categorical(rng.choice(["placebo", "drug"], size=n), categories=["placebo", "drug"], ordered=True),
            "g": rng.choice(["a", "b", "c", "d"], size=n),
        }
    )
    polars = pl.from_dict(
        {
            "y": pandas["y"].to_numpy(),
            "x": pandas["x"].to_numpy(),
            "treat": pl.Series(pandas["treat"].astype(str).to_list(), dtype=pl.Enum(["placebo", "drug"])),
            "g": pandas["g"].to_list(),
        }
    )
    return pandas, polars


def test_polars_data_give_the_same_design_and_stan_data_as_pandas(frames):
    pandas, polars = frames
    formula = "y ~ x + treat + (1 + x | g)"
    from_pandas, from_polars = stanmer.design(formula, pandas), stanmer.design(formula, polars)
    assert from_polars.spec.population == from_pandas.spec.population
    assert "treat[drug]" in from_polars.spec.population  # placebo stays the reference level
    expected, got = stanmer.stan_data(formula, pandas), stanmer.stan_data(formula, polars)
    assert expected.keys() == got.keys()
    for name in expected:
        np.testing.assert_array_equal(np.asarray(got[name]), np.asarray(expected[name]), err_msg=name)


def test_polars_data_fit_and_polars_newdata_predict(frames):
    pandas, polars = frames
    with pytest.warns(stanmer.SamplingWarning):  # a short run
        fitted = stanmer.fit("y ~ x + (1 | g)", polars, chains=2, warmup=100, draws=100, seed=1, progress=False)
    new = pl.DataFrame({"x": [0.0, 1.0], "g": ["a", "z"]})
    got = fitted.predict(new, new_levels="zero", seed=2)
    expected = fitted.predict(new.to_pandas(), new_levels="zero", seed=2)
    np.testing.assert_allclose(got.values, expected.values)


class _Interchange:
    """Only the DataFrame interchange protocol, as some libraries offer it."""

    def __init__(self, frame):
        self.frame = frame

    def __dataframe__(self, *args, **kwargs):
        return self.frame.__dataframe__(*args, **kwargs)


@pytest.mark.filterwarnings("ignore:The Dataframe Interchange Protocol is deprecated")
def test_interchange_protocol_frames_are_read():
    frame = pd.DataFrame({"y": [1.0, 2.0], "g": ["a", "b"]})
    pd.testing.assert_frame_equal(as_pandas(_Interchange(frame), "data", DataError), frame, check_dtype=False)


class _NeedsPyarrow:
    def to_pandas(self):
        raise ModuleNotFoundError("No module named 'pyarrow'")


def test_a_missing_converter_names_the_package_to_install():
    with pytest.raises(DataError, match="pip install pyarrow"):
        as_pandas(_NeedsPyarrow(), "data", DataError)


def test_other_objects_are_refused_with_what_is_accepted():
    with pytest.raises(DataError, match="data must be a pandas DataFrame.*polars.*got dict"):
        stanmer.design("y ~ 1", {"y": [1.0, 2.0]})
    with pytest.raises(PredictionError, match="newdata must be .*got list"):
        as_pandas([1, 2], "newdata", PredictionError)
