"""Multi-class programs outside the search (docs/export.md §6): the pure-NumPy
runtime, ``automl_zero.sklearn.EvolvedClassifier(multiclass=True)`` and the
exported standalone module against the numba executor.

* After ``fit``, the runtime's memory equals the executor's memory after
  training on a MULTICLASS_ACCURACY task bit for bit (NaN payloads aside),
  for the softmax-regression program and random programs (random ops
  included), 1 and 3 epochs.
* With one epoch, the runtime's, the estimator's and the exported module's
  class probabilities are ``automl_zero.predict``'s, and the accuracy of
  their argmax (ties to the last class) is the executor's fitness.
* The estimator learns scikit-learn's digits (10 classes, 16 features).
"""

from __future__ import annotations

import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from helpers import const, op, random_instruction_any_output, splice
from sklearn.decomposition import PCA
from sklearn.utils.estimator_checks import parametrize_with_checks

import automl_zero as az
from automl_zero.executor import MemorySpec, TaskBatch, execute
from automl_zero.export import export_python, program_model
from automl_zero.export.runtime import ProgramModel, argmax_last, class_probabilities
from automl_zero.language.algorithm import Algorithm
from automl_zero.language.generator import linear_algorithm
from automl_zero.language.ops import OPS
from automl_zero.language.text_format import parse_algorithm
from automl_zero.sklearn import EvolvedClassifier
from automl_zero.tasks import Task

F, K = 4, 3
MEMORY = MemorySpec(6, 6, 3)
N_TRAIN, N_VALID = 40, 15
ALL_CODES = tuple(o.code for o in OPS)
SOFTMAX = parse_algorithm("""\
def Setup():
  s2 = 0.05
def Predict():
  v2 = dot(m0, v0)
def Learn():
  v3 = v1 - v2
  v3 = s2 * v3
  m1 = outer(v3, v0)
  m0 = m0 + m1
""")

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _data(seed: int, k: int = K, f: int = F, n: int = N_TRAIN, n_valid: int = N_VALID):
    """Linearly separable classes: the label is the argmax of k linear scores."""
    r = np.random.default_rng(seed)
    w = r.normal(size=(k, f))
    x, xv = r.normal(size=(n, f)), r.normal(size=(n_valid, f))
    return (x, np.argmax(x @ w.T, axis=1).astype(float),
            xv, np.argmax(xv @ w.T, axis=1).astype(float))


def _random_program(rng: np.random.Generator) -> Algorithm:
    """Random instructions over all ops (random ops included; sometimes writing
    s0 / v0); 70% with the softmax-regression core on random addresses
    spliced in, so that many programs learn and the random code interacts
    with v1 (the label) and v2 (the probabilities)."""
    parts = [[random_instruction_any_output(rng, MEMORY.sizes, ALL_CODES)
              for _ in range(int(rng.integers(0, n)))] for n in (5, 4, 6)]
    if rng.random() < 0.3:
        return Algorithm(*(tuple(p) for p in parts))
    w, t = int(rng.integers(0, 3)), int(rng.integers(0, 3))
    g, lr = int(rng.integers(3, 6)), int(rng.integers(2, 6))
    core = ([const(lr, float(rng.choice([0.02, 0.1, 0.5])))],
            [op("MATRIX_VECTOR_PRODUCT_OP", 2, w, 0)],
            [op("VECTOR_DIFF_OP", g, 1, 2), op("SCALAR_VECTOR_PRODUCT_OP", g, lr, g),
             op("VECTOR_OUTER_PRODUCT_OP", t, g, 0), op("MATRIX_SUM_OP", w, w, t)])
    return Algorithm(*(splice(rng, p, c) for p, c in zip(parts, core, strict=True)))


RANDOM_PROGRAMS = [_random_program(np.random.default_rng(100 + k)) for k in range(36)]
PROGRAMS = [SOFTMAX, *RANDOM_PROGRAMS]


def _multiclass_task(seed: int, epochs: int = 1, labelled: bool = True) -> Task:
    x, y, xv, yv = _data(seed)
    return Task.from_arrays(x, y, xv, yv if labelled else np.zeros(len(xv)),
                            "MULTICLASS_ACCURACY", num_train_epochs=epochs, seed=seed,
                            num_classes=K)


def _fit_runtime(alg: Algorithm, task: Task, seed: int) -> ProgramModel:
    return program_model(alg, memory=MEMORY.sizes, classification="multiclass",
                         num_classes=task.num_classes, epochs=task.num_train_epochs,
                         random_state=seed, epoch_seed=task.data_seed
                         ).fit(task.train_features, task.train_labels)


# --------------------------------------------------------------------------
# The runtime against the executor.
# --------------------------------------------------------------------------


@pytest.mark.parametrize("epochs", [1, 3])
def test_memory_after_fit_equals_executor(epochs: int) -> None:
    task = _multiclass_task(20 + epochs, epochs)
    seeds = [500 + p for p in range(len(PROGRAMS))]
    result = execute(PROGRAMS, TaskBatch.from_tasks([task]), MEMORY, seeds=seeds,
                     num_valid_examples=0, return_memory=True)
    completed = 0
    for p, alg in enumerate(PROGRAMS):
        model = _fit_runtime(alg, task, seeds[p])
        for name, got, banks in zip("svm", model.memory, result.final_memory, strict=True):
            want = banks[p, 0]
            # Bit-identical (signs of zeros included); only NaN payloads differ.
            np.testing.assert_array_equal(got, want, err_msg=f"bank {name} of\n{alg}")
            numbers = ~np.isnan(want)
            np.testing.assert_array_equal(np.signbit(got[numbers]),
                                          np.signbit(want[numbers]),
                                          err_msg=f"signs in bank {name} of\n{alg}")
        assert model.train_steps == result.train_steps[p], str(alg)
        completed += not model.diverged
    assert completed >= len(PROGRAMS) // 2
    # The softmax program's v2 holds the written-back probabilities of the
    # last training example, zeros after the K classes.
    v2 = result.final_memory[1][0, 0, 2]
    assert v2[:K].sum() == pytest.approx(1.0) and (v2[K:] == 0).all()


def test_predictions_and_fitness_equal_the_executors() -> None:
    """One epoch: the runtime predicts the executor's last validation pass
    (unlabelled rows: ``automl_zero.predict``), and the accuracy of its
    argmax is the executor's fitness on the labelled task."""
    task = _multiclass_task(31)
    seeds = [77 * p + 3 for p in range(len(PROGRAMS))]
    fitness = execute(PROGRAMS, TaskBatch.from_tasks([task]), MEMORY, seeds=seeds).fitness
    finite = varied = 0
    for p, alg in enumerate(PROGRAMS):
        model = _fit_runtime(alg, task, seeds[p])
        got = model.predict(task.valid_features)
        assert got.shape == (N_VALID, K)
        want = az.predict(alg, task, task.valid_features, memory=MEMORY, seed=seeds[p])
        np.testing.assert_array_equal(got, want, err_msg=f"program {p}:\n{alg}")
        expected = 0.0 if model.diverged else float(
            np.mean(argmax_last(got) == task.valid_labels))
        assert fitness[p, 0] == pytest.approx(expected, abs=1e-12), f"program {p}:\n{alg}"
        finite += bool(np.isfinite(got).all())
        varied += bool(np.isfinite(got).all() and np.ptp(got, axis=0).max() > 1e-6)
    assert finite >= len(PROGRAMS) // 2 and varied >= len(PROGRAMS) // 4


def test_softmax_and_argmax_helpers() -> None:
    p = class_probabilities(np.array([1.0, 3.0, 3.0, 50.0]), 3)
    e = np.exp([-2.0, 0.0, 0.0])
    np.testing.assert_allclose(p, e / e.sum(), rtol=1e-15)
    assert argmax_last(p[np.newaxis])[0] == 2  # a tie: the last class
    assert np.isnan(class_probabilities(np.array([np.nan, 1.0]), 2)).all()
    assert np.isnan(class_probabilities(np.array([np.inf, 1.0]), 2)).all()
    np.testing.assert_array_equal(class_probabilities(np.array([-np.inf, 0.0]), 2), [0, 1])
    rows = np.array([[0.2, 0.5, 0.3], [np.nan, np.nan, np.nan], [0.5, 0.5, 0.0],
                     [0.1, np.nan, 0.9]])
    np.testing.assert_array_equal(argmax_last(rows), [1, 0, 1, 2])


def test_runtime_refuses_what_the_executor_cannot_run() -> None:
    x, y, _, _ = _data(1)
    with pytest.raises(ValueError, match="5 classes need at least 5 features, got 4"):
        program_model(SOFTMAX, classification="multiclass").fit(x, np.arange(40) % 5)
    with pytest.raises(ValueError, match="5 classes need at least 5 features"):
        program_model(SOFTMAX, classification="multiclass", num_classes=5,
                      features_size=4)
    with pytest.raises(ValueError, match="class ids"):
        program_model(SOFTMAX, classification="multiclass").fit(x, y + 0.5)
    with pytest.raises(ValueError, match=r"class ids 0\.\.1"):
        program_model(SOFTMAX, classification="multiclass", num_classes=2).fit(x, y)
    with pytest.raises(ValueError, match="only for classification='multiclass'"):
        program_model(SOFTMAX, classification=True, num_classes=3)
    with pytest.raises(ValueError, match="'multiclass'"):
        program_model(SOFTMAX, classification="softmax")
    # Default K: the largest label + 1; at least 3 vectors for the I/O.
    model = program_model(parse_algorithm("def Predict():\n  s1 = 1\n"),
                          classification="multiclass").fit(x, y)
    assert model.num_classes == K and model.memory_sizes == (2, 3, 0)
    assert model.predict(x).shape == (N_TRAIN, K)


# --------------------------------------------------------------------------
# automl_zero.sklearn.EvolvedClassifier(multiclass=True).
# --------------------------------------------------------------------------


@parametrize_with_checks(
    [EvolvedClassifier(program=SOFTMAX, multiclass=True, epochs=3)],
    # These checks fit 3 classes on 2 features: a multi-class program tells
    # at most n_features classes apart, so fit refuses them (ValueError).
    expected_failed_checks=lambda est: {
        name: "3 classes on 2 features" for name in (
            "check_estimators_overwrite_params", "check_estimators_fit_returns_self",
            "check_readonly_memmap_input", "check_classifiers_classes",
            "check_classifiers_train")})
def test_sklearn_estimator_checks(estimator, check) -> None:
    check(estimator)


def test_estimator_equals_automl_zero_predict() -> None:
    """Any labels, mapped to ids by sorting; probabilities and predictions
    are the executor's (one epoch) for the softmax program and random ones."""
    x, y, xv, _ = _data(40)
    names = np.array(["cat", "dog", "emu"])
    compared = 0
    for p, alg in enumerate(PROGRAMS):
        seed = 3 * p + 2
        clf = EvolvedClassifier(program=alg, multiclass=True, random_state=seed)
        clf.fit(x, names[y.astype(int)])
        assert list(clf.classes_) == ["cat", "dog", "emu"]
        want = az.predict(alg, (x, y), xv, classification="multiclass", seed=seed)
        proba = clf.predict_proba(xv)
        np.testing.assert_array_equal(proba, want, err_msg=f"program {p}:\n{alg}")
        np.testing.assert_array_equal(clf.predict(xv), names[argmax_last(want)])
        compared += bool(np.isfinite(want).all())
    assert compared >= len(PROGRAMS) // 2
    assert EvolvedClassifier(program=SOFTMAX, multiclass=True, epochs=5).fit(
        x, names[y.astype(int)]).score(xv, names[_data(40)[3].astype(int)]) > 0.8


def test_estimator_learns_digits() -> None:
    """scikit-learn's digits (10 classes) projected to 16 features: the
    softmax-regression program (executor's F = 16 path) as the executor."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3,
                                                        random_state=0, stratify=y)
    project = make_pipeline(StandardScaler(), PCA(16, random_state=0),
                            StandardScaler()).fit(X_train)
    Z_train, Z_test = project.transform(X_train), project.transform(X_test)
    clf = EvolvedClassifier(program=SOFTMAX, multiclass=True, epochs=3)
    clf.fit(Z_train, y_train)
    assert clf.predict_proba(Z_test).shape == (len(Z_test), 10)
    assert clf.score(Z_test, y_test) > 0.8
    one = EvolvedClassifier(program=SOFTMAX, multiclass=True).fit(Z_train, y_train)
    np.testing.assert_array_equal(
        one.predict_proba(Z_test[:100]),
        az.predict(SOFTMAX, (Z_train, y_train), Z_test[:100], classification="multiclass"))


def test_estimator_ties_pickling_and_binary_data() -> None:
    x, y, _, _ = _data(41)
    constant = parse_algorithm("def Predict():\n  s1 = 1\n")  # v2 = 0: all tied
    clf = EvolvedClassifier(program=constant, multiclass=True).fit(x, y + 7)
    np.testing.assert_array_equal(clf.predict_proba(x), 1.0 / K)
    assert (clf.predict(x) == 9.0).all()  # ties: the last class
    clf = EvolvedClassifier(program=SOFTMAX, multiclass=True, epochs=2).fit(x, y)
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict_proba(x), clf.predict_proba(x))
    # Two classes under the multi-class convention: softmax of v2[:2].
    binary = EvolvedClassifier(program=SOFTMAX, multiclass=True).fit(x, y > 0)
    assert binary.predict_proba(x).shape == (N_TRAIN, 2)
    np.testing.assert_array_equal(
        binary.predict_proba(x),
        az.predict(SOFTMAX, (x, (y > 0).astype(float)), x, classification="multiclass"))


def test_estimator_bad_inputs_give_clear_errors() -> None:
    x, y, _, _ = _data(42)
    with pytest.raises(ValueError, match="pass multiclass=True"):
        EvolvedClassifier(program=SOFTMAX).fit(x, y)
    with pytest.raises(ValueError, match="5 classes but X has n_features = 4"):
        EvolvedClassifier(program=SOFTMAX, multiclass=True).fit(x, np.arange(40) % 5)
    with pytest.raises(ValueError, match="1 class"):
        EvolvedClassifier(program=SOFTMAX, multiclass=True).fit(x, np.ones(40))
    with pytest.raises(ValueError, match="multiclass must be True or False"):
        EvolvedClassifier(program=SOFTMAX, multiclass="yes").fit(x, y)
    assert EvolvedClassifier(program=SOFTMAX, multiclass=True).get_params()["multiclass"]


# --------------------------------------------------------------------------
# The exported module.
# --------------------------------------------------------------------------

_SUBPROCESS = textwrap.dedent('''
    """Runs in `python -I -S`: automl_zero is not importable."""
    import importlib.util
    import sys

    site, here = sys.argv[1], sys.argv[2]
    sys.path.append(site)
    sys.path.insert(0, here)
    assert importlib.util.find_spec("automl_zero") is None, "automl_zero importable"
    import numpy as np

    X, y, Xt = (np.load(f"{here}/{k}.npy") for k in ("X", "y", "Xt"))
    for name in sys.argv[3:]:
        module = __import__(name)
        assert module.TASK_KIND == "multiclass" and module.CLASSIFICATION is True
        model = module.EvolvedClassifier().fit(X, y)
        np.savez(f"{here}/out_{name}.npz", predict=model.predict(Xt),
                 proba=model.predict_proba(Xt), classes=model.classes_)
        for labels, words in ((np.arange(len(X)) % (X.shape[1] + 1), "tells at most"),
                              (np.ones(len(X)), "1 class")):
            try:
                module.EvolvedClassifier().fit(X, labels)
            except ValueError as exc:
                assert words in str(exc), exc
            else:
                raise AssertionError("bad labels accepted")
    print("ok")
''')


def test_exported_module_predicts_as_in_package_estimator(tmp_path: Path) -> None:
    x, y, xv, _ = _data(50, n=60, n_valid=20)
    labels = np.array([3, 8, 11])[y.astype(int)]
    for name, arr in (("X", x), ("y", labels), ("Xt", xv)):
        np.save(tmp_path / f"{name}.npy", arr)
    with_random = next(a for a in RANDOM_PROGRAMS
                       if any(OPS[i.op].random for c in a.components for i in c))
    cases = [("softmax_mc", SOFTMAX, 2, 0), ("random_mc", with_random, 1, 9)]
    expected = {}
    for name, alg, epochs, seed in cases:
        source = export_python(alg, features_size=F, classification="multiclass",
                               epochs=epochs, random_state=seed, module_name=name)
        (tmp_path / f"{name}.py").write_text(source)
        clf = EvolvedClassifier(program=alg, multiclass=True, epochs=epochs,
                                random_state=seed).fit(x, labels)
        expected[name] = {"predict": clf.predict(xv), "proba": clf.predict_proba(xv),
                          "classes": clf.classes_}
    site = str(Path(np.__file__).resolve().parent.parent)
    script = tmp_path / "run_exported.py"
    script.write_text(_SUBPROCESS)
    proc = subprocess.run(
        [sys.executable, "-I", "-S", str(script), site, str(tmp_path),
         *[case[0] for case in cases]],
        capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"
    for name, want in expected.items():
        got = np.load(tmp_path / f"out_{name}.npz")
        for key, value in want.items():
            np.testing.assert_array_equal(got[key], value, err_msg=f"{name} {key}")
    assert expected["softmax_mc"]["proba"].shape == (20, 3)
    assert np.mean(expected["softmax_mc"]["predict"]
                   == np.array([3, 8, 11])[_data(50, n=60, n_valid=20)[3].astype(int)]) > 0.7


def test_exported_module_records_the_task_kind() -> None:
    source = export_python(SOFTMAX, features_size=F, classification="multiclass")
    assert "TASK_KIND = 'multiclass'" in source and "CLASSIFICATION = True" in source
    assert "multi-class classifier" in source and "v1 = one-hot(label id)" in source
    assert "MEMORY_SIZES = (3, 4, 2)" in source
    namespace: dict = {}
    exec(compile(source, "evolved_model.py", "exec"), namespace)  # our own output
    assert namespace["EvolvedClassifier"]().__sklearn_tags__().classifier_tags.multi_class
    # A program using only v0 still gets v1 (label) and v2 (predictions).
    tiny = parse_algorithm("def Predict():\n  s1 = dot(v0, v0)\n")
    assert "MEMORY_SIZES = (2, 3, 0)" in export_python(tiny, features_size=F,
                                                      classification="multiclass")
    # Binary and regression exports say so too.
    assert "TASK_KIND = 'binary'" in export_python(linear_algorithm(), features_size=F,
                                                   classification=True)
    assert "TASK_KIND = 'regression'" in export_python(linear_algorithm(), features_size=F)


def test_export_refuses_bad_multiclass_arguments() -> None:
    with pytest.raises(ValueError, match="features_size >= 2"):
        export_python(SOFTMAX, features_size=1, classification="multiclass")
    with pytest.raises(ValueError, match="'multiclass'"):
        export_python(SOFTMAX, features_size=F, classification="multi")
