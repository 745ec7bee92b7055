"""AutoMLZeroRegressor: a search inside ``fit`` on tasks made from (X, y)."""

from __future__ import annotations

import numpy as np
import pytest

from automl_zero.errors import ConfigError
from automl_zero.sklearn import AutoMLZeroRegressor, EvolvedRegressor


def _linear_data(seed: int, n: int = 300) -> tuple[np.ndarray, np.ndarray]:
    """Features on different scales and offsets, a linear target far from 0."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)) * [1.0, 10.0, 0.1, 3.0] + 5.0
    return x, 3.0 * x[:, 0] - 0.2 * x[:, 1] + 7.0 + 0.01 * rng.normal(size=n)


def test_fit_runs_a_search_within_its_time_limit_and_predicts_in_y_units():
    x, y = _linear_data(0)
    model = AutoMLZeroRegressor(time_limit=2.0, random_state=3).fit(x, y)
    assert model.search_result_.stopped_by == "time_limit"
    # at least the initial population (a first compile can take the 2 s)
    assert model.search_result_.total_individuals >= 1000
    assert model.algorithm_ is model.search_result_.best_algorithm
    assert isinstance(model.model_, EvolvedRegressor)
    pred = model.predict(x[:7])
    assert pred.shape == (7,)
    # predictions are the trained program's, un-standardised
    xs = (x[:7] - model.x_mean_) / model.x_scale_
    np.testing.assert_allclose(pred, model.model_.predict(xs) * model.y_scale_
                               + model.y_mean_)


def test_same_seed_same_search_result():
    x, y = _linear_data(1, n=120)
    # a budget in individuals, not seconds, makes the search deterministic
    kw = dict(time_limit=600.0, max_individuals=3000, random_state=5)
    a = AutoMLZeroRegressor(**kw).fit(x, y)
    b = AutoMLZeroRegressor(**kw).fit(x, y)
    assert a.search_result_.stopped_by == "max_experiments"
    assert a.algorithm_ == b.algorithm_
    np.testing.assert_array_equal(a.predict(x), b.predict(x))


@pytest.mark.parametrize("kw, words", [
    (dict(valid_fraction=1.0), "valid_fraction"),
    (dict(valid_fraction=0.0), "valid_fraction"),
])
def test_bad_parameters_name_themselves(kw, words):
    x, y = _linear_data(0, n=50)
    with pytest.raises(ValueError, match=words):
        AutoMLZeroRegressor(time_limit=1.0, **kw).fit(x, y)


def test_too_few_samples_and_bad_config(tmp_path):
    x, y = _linear_data(0, n=50)
    with pytest.raises(ValueError, match="at least 4 samples"):
        AutoMLZeroRegressor(time_limit=1.0).fit(x[:3], y[:3])
    with pytest.raises(ConfigError, match="nope.toml"):
        AutoMLZeroRegressor(time_limit=1.0, config=tmp_path / "nope.toml").fit(x, y)
    bad = tmp_path / "bad.toml"
    bad.write_text("population_size = 'many'\n")
    with pytest.raises(ConfigError, match="population_size"):
        AutoMLZeroRegressor(time_limit=1.0, config=bad).fit(x, y)


def test_a_config_gives_the_search_space(tmp_path):
    """A config's search settings are used; its task collections are not."""
    x, y = _linear_data(2, n=120)
    model = AutoMLZeroRegressor(time_limit=1.0, config="configs/linear_integration.toml",
                                random_state=1).fit(x, y)
    sizes = [len(c) for c in model.algorithm_.components]
    assert sizes == [5, 1, 4]  # the integration test's fixed component sizes


@pytest.mark.slow
def test_finds_a_good_linear_model_on_most_seeds():
    """The demo's search space on a linear problem: within 60 s, R^2 > 0.99 on
    held-out rows for at least 2 of 3 seeds."""
    good = 0
    for seed in range(3):
        x, y = _linear_data(10 + seed, n=500)
        model = AutoMLZeroRegressor(time_limit=60.0, sufficient_fitness=0.999,
                                    random_state=seed).fit(x[:400], y[:400])
        good += model.score(x[400:], y[400:]) > 0.99
    assert good >= 2
