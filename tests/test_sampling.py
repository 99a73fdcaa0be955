"""Sampler options are checked before any work; draws are reshaped by chain
the same way for every engine."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import stanmer
from stanmer.errors import OptionError, StanmerError
from stanmer.sampling import SAMPLER_DEFAULTS, SamplerOptions, by_chain


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"draws": 150.7}, "draws must be a whole number of at least 1, got 150.7"),
        ({"draws": 100.0}, "draws must be a whole number"),
        ({"chains": True}, "chains must be a whole number"),
        ({"chains": "4"}, "chains must be a whole number"),
        ({"warmup": -1}, "warmup must be a whole number of at least 0"),
        ({"thin": 0}, "thin must be a whole number of at least 1"),
        ({"max_treedepth": 2.5}, "max_treedepth must be a whole number"),
        ({"parallel_chains": 0}, "parallel_chains must be a whole number of at least 1 or None"),
        ({"seed": 1.5}, "seed must be a whole number of at least 0 or None"),
        ({"seed": -3}, "seed must be a whole number of at least 0"),
        ({"seed": 2**32}, "seed must be at most 4294967295"),
        ({"draws": 100, "thin": 101}, "thin=101 keeps every 101th of draws=100 draws, so one draw per chain"),
        ({"adapt_delta": 1.0}, "adapt_delta must be a number strictly between 0 and 1"),
        ({"adapt_delta": "0.9"}, "adapt_delta must be a number"),
        ({"inits": -1.0}, "inits must not be -1.0"),
        ({"inits": "zero"}, "inits must not be 'zero'"),
        ({"chains": 2, "inits": [{"mu": 0}, 3]}, "every entry of the inits list must be a dict"),
        ({"show_progress": "yes"}, "show_progress"),
    ],
)
def test_bad_sampler_options_name_the_option(setting: dict[str, Any], message: str) -> None:
    with pytest.raises(OptionError, match=message.replace("(", r"\(")) as raised:
        SamplerOptions(**setting)
    assert isinstance(raised.value, StanmerError)
    assert isinstance(raised.value, ValueError) and isinstance(raised.value, TypeError)


def test_numpy_integers_are_whole_numbers() -> None:
    options = SamplerOptions(chains=np.int64(2), draws=np.int32(10), seed=np.uint32(7), thin=10)

    assert options.resolved_seed() == 7


def test_fit_checks_its_options_before_reading_the_formula() -> None:
    # The formula is unreadable too: the option error must come first.
    with pytest.raises(OptionError, match="draws"):
        stanmer.fit("y ~ ~", pd.DataFrame({"y": [1.0]}), draws=150.7)


def test_defaults_of_fit_are_the_sampler_defaults() -> None:
    import inspect

    signature = inspect.signature(stanmer.fit).parameters
    defaults = {name: signature[name].default for name in SAMPLER_DEFAULTS}
    # warmup=None is SAMPLER_DEFAULTS's 1000, or 100 when warm-starting from an earlier fit
    assert defaults.pop("warmup") is None
    assert defaults == {name: value for name, value in SAMPLER_DEFAULTS.items() if name != "warmup"}


@pytest.mark.parametrize("interleaved", [False, True])
def test_by_chain_keeps_zero_size_variables(interleaved: bool) -> None:
    # A model without population predictors has b as a vector of size 0.
    empty = np.zeros((3 * 4, 0))

    assert by_chain(empty, 3, interleaved=interleaved).shape == (3, 4, 0)


def test_by_chain_orders_draws_of_each_layout() -> None:
    # Chain c's draw d is 10 * c + d; stacked chain-major and interleaved.
    value = np.array([[10 * c + d for d in range(4)] for c in range(3)], dtype=float)
    chain_major = value.reshape(-1)
    interleaved = value.T.reshape(-1)

    np.testing.assert_array_equal(by_chain(chain_major, 3, interleaved=False), value)
    np.testing.assert_array_equal(by_chain(interleaved, 3, interleaved=True), value)
