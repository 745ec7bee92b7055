"""The scikit-learn estimators of automl_zero.sklearn (docs/export.md)."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from automl_zero.errors import ProgramParseError
from automl_zero.export import program_model
from automl_zero.language.algorithm_io import save_algorithm
from automl_zero.language.generator import linear_algorithm, neural_net_algorithm
from automl_zero.sklearn import EvolvedClassifier, EvolvedRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@parametrize_with_checks([
    EvolvedRegressor(program=linear_algorithm()),
    EvolvedClassifier(program=linear_algorithm()),
    EvolvedRegressor(program=neural_net_algorithm(), epochs=2),
    EvolvedClassifier(program=neural_net_algorithm().to_text(), epochs=2),
])
def test_sklearn_estimator_checks(estimator, check) -> None:
    check(estimator)


def _regression(seed: int = 0, n: int = 90, f: int = 4):
    """Features on different scales and offsets; y linear in the standardised X."""
    r = np.random.default_rng(seed)
    scale = np.array([1.0, 10.0, 0.1, 1.0])[:f]
    Z = r.normal(size=(n, f))
    return Z * scale + 3.0, Z @ r.normal(size=f) + 0.05 * r.normal(size=n)


def test_cross_val_score_and_pipeline() -> None:
    X, y = _regression()
    pipe = Pipeline([("scale", StandardScaler()),
                     ("model", EvolvedRegressor(program=linear_algorithm(0.05), epochs=5))])
    scores = cross_val_score(pipe, X, y, cv=3)
    assert np.all(scores > 0.8), scores
    pipe.fit(X, y)
    direct = EvolvedRegressor(program=linear_algorithm(0.05), epochs=5)
    direct.fit(StandardScaler().fit_transform(X), y)
    np.testing.assert_array_equal(pipe.predict(X),
                                  direct.predict(StandardScaler().fit(X).transform(X)))


def test_classifier_labels_probabilities_and_cross_validation() -> None:
    X, y = _regression(1)
    X = StandardScaler().fit_transform(X)
    labels = np.where(y > np.median(y), "yes", "no")
    clf = EvolvedClassifier(program=linear_algorithm(0.1), epochs=5).fit(X, labels)
    assert list(clf.classes_) == ["no", "yes"]
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(clf.predict(X), np.where(proba[:, 1] > 0.5, "yes", "no"))
    assert clf.score(X, labels) > 0.85
    assert np.all(cross_val_score(clf, X, labels, cv=3) > 0.7)
    # The program sees classes_[1] as 1.0, classes_[0] as 0.0.
    model = program_model(linear_algorithm(0.1), classification=True, epochs=5)
    model.fit(X, (labels == "yes").astype(float))
    np.testing.assert_array_equal(model.predict(X), proba[:, 1])


def test_program_forms_give_the_same_model(tmp_path: Path) -> None:
    X, y = _regression(2)
    alg = neural_net_algorithm(0.02)
    save_algorithm(alg, tmp_path / "net.txt")
    save_algorithm(alg, tmp_path / "net.json", format="json")
    forms = [alg, alg.to_text(), str(tmp_path / "net.txt"), tmp_path / "net.json"]
    predictions = [EvolvedRegressor(program=form, epochs=2, random_state=4)
                   .fit(X, y).predict(X) for form in forms]
    for p in predictions[1:]:
        np.testing.assert_array_equal(p, predictions[0])
    # The estimator is the runtime with random_state seeding ops and epochs.
    model = program_model(alg, epochs=2, random_state=4).fit(X, y)
    np.testing.assert_array_equal(model.predict(X), predictions[0])
    other = EvolvedRegressor(program=alg, epochs=2, random_state=5).fit(X, y).predict(X)
    assert not np.array_equal(other, predictions[0])


def test_features_size_comes_from_the_data() -> None:
    # Const-set index codes are decoded for whatever F the data has.
    program = "def Setup():\n  v1[0.9] = 1.0\ndef Predict():\n  s1 = dot(v0, v1)\n"
    for f in (1, 3, 6):
        X = np.arange(2 * f, dtype=float).reshape(2, f)
        est = EvolvedRegressor(program=program).fit(X, np.zeros(2))
        assert est.n_features_in_ == f
        np.testing.assert_array_equal(est.predict(X), X[:, -1])


def test_pickled_estimator_predicts_the_same() -> None:
    X, y = _regression(3)
    est = EvolvedClassifier(program=neural_net_algorithm(), epochs=2).fit(X, y > 0)
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict_proba(X), est.predict_proba(X))


def test_diverging_program_warns_and_predicts_nan() -> None:
    X, y = _regression(4)
    program = "def Predict():\n  s1 = log(s0)\n"  # s0 is 0 in Predict: -inf
    with pytest.warns(ConvergenceWarning, match="diverged at step 0"):
        est = EvolvedRegressor(program=program).fit(X, y)
    assert est.diverged_
    assert np.all(np.isnan(est.predict(X)))
    # A larger max_abs_error does not help against inf; a bounded program is fine.
    est = EvolvedRegressor(program="def Predict():\n  s1 = 1000\n",
                           max_abs_error=1e6).fit(X, y)
    assert not est.diverged_ and np.all(est.predict(X) == 1000.0)


def test_bad_inputs_give_clear_errors(tmp_path: Path) -> None:
    X, y = _regression(5)
    est = EvolvedRegressor(program=linear_algorithm())
    with pytest.raises(NotFittedError):
        est.predict(X)
    est.fit(X, y)
    with pytest.raises(ValueError, match="3 features, but EvolvedRegressor is expecting 4"):
        est.predict(X[:, :3])
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        EvolvedRegressor(program=linear_algorithm()).fit(bad, y)
    with pytest.raises(ValueError, match="NaN"):
        est.predict(bad)
    with pytest.raises(ProgramParseError, match="does not parse: line 2"):
        EvolvedRegressor(program="def Predict():\n  s1 = frobnicate(v0)\n").fit(X, y)
    with pytest.raises(ValueError, match="does not exist"):
        EvolvedRegressor(program=str(tmp_path / "missing.txt")).fit(X, y)
    with pytest.raises(ValueError, match="no program given"):
        EvolvedRegressor().fit(X, y)
    with pytest.raises(ValueError, match="epochs"):
        EvolvedRegressor(program=linear_algorithm(), epochs=0).fit(X, y)
    with pytest.raises(ValueError, match="max_abs_error"):
        EvolvedRegressor(program=linear_algorithm(), max_abs_error=-1.0).fit(X, y)
    with pytest.raises(ValueError, match="Only binary classification"):
        EvolvedClassifier(program=linear_algorithm()).fit(X, np.arange(len(y)) % 3)
    with pytest.raises(ValueError, match="1 class"):
        EvolvedClassifier(program=linear_algorithm()).fit(X, np.ones(len(y)))
