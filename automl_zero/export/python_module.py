"""Export an evolved program as a standalone Python module (NumPy only).

``export_python`` returns the source of a module that needs nothing but NumPy
(automl_zero need not be installed). It holds a docstring with the program in
the paper's notation and how to use it, the runtime of
:mod:`automl_zero.export.runtime` (copied verbatim: one implementation), the
program as three straight-line functions ``setup``, ``predict``, ``learn`` (each
instruction its op's NumPy statement from the op table, addresses and
constants filled in, the printed form as a comment) and a scikit-learn
compatible estimator (``EvolvedRegressor``, or ``EvolvedClassifier`` for a
program evolved on binary or on multi-class tasks, the kind recorded in the
module as ``TASK_KIND``) that does not import scikit-learn. See docs/export.md.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from automl_zero.export import runtime
from automl_zero.export.runtime import (
    DEFAULT_MAX_ABS_ERROR,
    ProgramModel,
    RowComponent,
    task_kind,
)
from automl_zero.language.algorithm import Algorithm
from automl_zero.language.instruction import Instruction
from automl_zero.language.ops import OPS

__all__ = ["algorithm_rows", "export_python", "instruction_statement",
           "memory_sizes_for", "numpy_statements", "program_model"]

Row = tuple[int, int, int, int, float, float, float]


def algorithm_rows(algorithm: Algorithm) -> tuple[tuple[Row, ...], ...]:
    """The program as rows (op, in1, in2, out, d0, d1, d2), one tuple per
    component (Setup, Predict, Learn)."""
    return tuple(tuple((ins.op, ins.in1, ins.in2, ins.out, *ins.data) for ins in component)
                 for component in algorithm.components)


def numpy_statements() -> dict[int, str]:
    """Op code -> the op's NumPy statement (the op table's ``numpy`` column)."""
    return {op.code: op.numpy for op in OPS}


def memory_sizes_for(algorithm: Algorithm,
                     memory: Any = None) -> tuple[int, int, int]:
    """(scalars, vectors, matrices) covering ``algorithm`` and ``memory`` (a
    ``MemorySpec``, a 3-tuple or None), at least 2 scalars and 1 vector."""
    need = algorithm.max_addresses()
    if memory is None:
        given = (0, 0, 0)
    else:
        given = tuple(int(n) for n in getattr(memory, "sizes", memory))
        if len(given) != 3 or min(given) < 0:
            raise ValueError(f"memory must be a MemorySpec or 3 non-negative numbers "
                             f"(scalars, vectors, matrices), got {memory!r}")
    return (max(need[0], given[0], 2), max(need[1], given[1], 1), max(need[2], given[2]))


def program_model(algorithm: Algorithm, *, memory: Any = None,
                  classification: bool | str = False, num_classes: int | None = None,
                  epochs: int = 1, random_state: int = 0,
                  epoch_seed: int | None = None,
                  max_abs_error: float = DEFAULT_MAX_ABS_ERROR,
                  features_size: int | None = None) -> ProgramModel:
    """An unfitted ``ProgramModel`` running ``algorithm`` through the op table's
    NumPy statements (``RowComponent``); arguments as ``ProgramModel``'s
    (``classification``: False / "regression", True / "binary" or
    "multiclass"; ``num_classes`` only with "multiclass")."""
    statements = numpy_statements()
    components = [RowComponent(rows, statements) for rows in algorithm_rows(algorithm)]
    return ProgramModel(components, memory_sizes_for(algorithm, memory),
                        classification=classification, num_classes=num_classes,
                        epochs=epochs,
                        random_state=random_state, epoch_seed=epoch_seed,
                        max_abs_error=max_abs_error, features_size=features_size)


# ---------------------------------------------------------------------------
# Straight-line code
# ---------------------------------------------------------------------------

# An operand name of a statement, not an attribute or part of a longer name.
_OPERAND = re.compile(r"(?<![\w.])(a|b|o|d0|d1|d2)(?!\w)")


def _literal(x: float) -> str:
    """A Python expression for the float ``x`` (exact: repr round-trips)."""
    x = float(x)
    if math.isnan(x):
        return "math.nan"
    if math.isinf(x):
        return "math.inf" if x > 0 else "-math.inf"
    return repr(x)


def instruction_statement(ins: Instruction) -> str:
    """The instruction's NumPy statement with its addresses and constants
    written in, e.g. ``s[3] = s[0] - s[1]``."""
    statement = OPS[ins.op].numpy
    values = {"a": str(ins.in1), "b": str(ins.in2), "o": str(ins.out),
              "d0": _literal(ins.data[0]), "d1": _literal(ins.data[1]),
              "d2": _literal(ins.data[2])}

    def substitute(match: re.Match) -> str:
        text = values[match.group(1)]
        # A negative literal as the base of ** needs parentheses.
        if text.startswith("-") and statement[match.end():].lstrip().startswith("**"):
            text = f"({text})"
        return text

    return _OPERAND.sub(substitute, statement)


_COMPONENT_DOCS = {
    "setup": "Setup: runs once, on zeroed memory, before the first training example.",
    "predict": "Predict: runs on every example (v0 = features, s0 = 0); the "
               "prediction is s1 when it ends.",
    "learn": "Learn: runs after Predict on every training example (v0 = "
             "features, s0 = label).",
}
_MULTICLASS_COMPONENT_DOCS = {
    "setup": _COMPONENT_DOCS["setup"],
    "predict": "Predict: runs on every example (v0 = features, s0 = 0, v1 = 0); "
               "the class scores are v2[:K] when it ends.",
    "learn": "Learn: runs after Predict on every training example (v0 = "
             "features, s0 = 0, v1 = one-hot label, v2 = class probabilities).",
}


def _function_source(name: str, component: Sequence[Instruction],
                     docs: Mapping[str, str] = _COMPONENT_DOCS) -> str:
    body = []
    for ins in component:
        if OPS[ins.op].numpy.strip() == "pass":  # NO_OP
            continue
        body.append(f"    # {ins}")
        body.extend("    " + line for line in instruction_statement(ins).splitlines())
    if any(re.search(r"\bF\b", line) for line in body if not line.lstrip().startswith("#")):
        body.insert(0, "    F = v.shape[1]  # number of features")
    if not body:
        body = ["    # (no instructions)"]
    lines = [f"def {name}(s: np.ndarray, v: np.ndarray, m: np.ndarray, "
             f"rng: Xoshiro256Plus) -> None:",
             f'    """{docs[name]}"""', *body]
    return "\n".join(lines)


def _runtime_source() -> str:
    """The runtime's embedded part, verbatim."""
    text = Path(runtime.__file__).read_text(encoding="utf-8")
    # The marker lines, not the constants that name them.
    begin = text.index(f"\n{runtime.RUNTIME_BEGIN}\n") + len(runtime.RUNTIME_BEGIN) + 2
    end = text.index(f"\n{runtime.RUNTIME_END}\n")
    return text[begin:end].strip("\n")


def _docstring_safe(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')


def _memory_text(sizes: tuple[int, int, int]) -> str:
    parts = []
    for n, letter, kind in zip(sizes, "svm", ("scalars", "vectors", "matrices"),
                               strict=True):
        parts.append(f"{letter}0..{letter}{n - 1} ({n} {kind})" if n else f"no {kind}")
    return ", ".join(parts)


_HEADER = '''\
"""An evolved machine-learning program, exported from automl_zero as a standalone model.

This module needs only NumPy (automl_zero need not be installed). It holds

* ``__CLASS__``: a scikit-learn compatible __KIND_TEXT__ (``fit``,
  ``predict``,__PROBA__ ``score``, ``get_params``, ``set_params``;
  scikit-learn itself is not needed);
* the program as three functions ``setup``, ``predict`` and ``learn`` over the
  memory (scalars ``s``, vectors ``v``, matrices ``m``), one NumPy statement per
  instruction with the instruction in the paper's notation as a comment;
* the runtime that trains and runs the program exactly as automl_zero's
  executor does on one task (same operations, order of additions and random
  numbers).

Program (features: __F__; memory: __MEMORY__):

__PROGRAM__
Training (``fit``): the memory is zeroed, Setup runs once, then come
``epochs`` passes over the training examples (the first in the given order,
later ones shuffled as by the executor, seeded by ``random_state``). For each
example: __TRAINING_TEXT__ stops training: the model is
diverged (``diverged_``) and predicts NaN. Unlike automl_zero's executor
there is no validation after each epoch. ``random_state`` also seeds the
random ops, if the program has any.

Prediction: Predict runs on each row in order, from a copy of the memory after
training, memory persisting from row to row.
__PREDICTION_TEXT__

Usage::

    import numpy as np
    from __MODULE__ import __CLASS__

    model = __CLASS__().fit(X_train, y_train)  # X: (n_samples, __F__) array
    y_pred = model.predict(X_test)__PROBA_USAGE__
__INFO__"""
'''

# The module docstring's training step per task kind (it goes on with "stops
# training") and its prediction paragraph.
_TRAINING_TEXT = {
    "regression": "v0 = features, s0 = 0, Predict,\n"
                  "the error check, v0 = features, s0 = label, Learn. A training "
                  "prediction with\n|label - s1| > ``max_abs_error`` (or NaN)",
    "binary": "v0 = features, s0 = 0, Predict, s1 = sigmoid(s1) (written back),\n"
              "the error check, v0 = features, s0 = label, Learn. A training "
              "prediction with\n|label - s1| > ``max_abs_error`` (or NaN)",
    "multiclass": "v0 = features, s0 = 0, v1 = 0 (the label is hidden), Predict,\n"
                  "v2[:K] = softmax(v2[:K]) and v2[K:] = 0 (written back; K = "
                  "len(classes_)),\nthe error check, v0 = features, s0 = 0, v1 = "
                  "one-hot(label id), Learn.\nA training prediction with |1 - "
                  "v2[label id]| >\n``max_abs_error`` (or NaN)",
}
_PREDICTION_TEXT = {
    "regression": "``predict`` gives s1 for each row.",
    "binary": "``predict_proba`` gives (1 - p, p) with p = sigmoid(s1) (not written\n"
              "back), ``predict`` ``classes_[1]`` where p > 0.5, else ``classes_[0]``.",
    "multiclass": "Before each Predict: v0 = row, s0 = 0, v1 = 0. ``predict_proba`` "
                  "gives\nsoftmax(v2[:K]) (not written back), one column per class "
                  "of ``classes_``;\n``predict`` the class of the largest "
                  "probability, ties to the last class.\n\nThe program was "
                  "evolved on multi-class tasks (TASK_KIND): it reads its label\n"
                  "from v1 and writes its class scores to v2, so it tells at most "
                  "{F}\nclasses apart. (A program evolved on binary tasks "
                  "reads s0 and writes s1:\nexport it with classification=True "
                  "instead.)",
}

_ESTIMATOR_COMMON = '''\
class NotFittedError(ValueError, AttributeError):
    """The estimator is used before ``fit``."""


def _check_features(X, name: str) -> np.ndarray:
    """X as a C-contiguous float64 (n_samples, FEATURES_SIZE) array of finite numbers."""
    array = np.asarray(X)
    if np.iscomplexobj(array):
        raise ValueError("X must be real numbers, got complex data")
    try:
        array = np.asarray(array, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"X must be numeric: {exc}") from None
    if array.ndim != 2:
        raise ValueError(f"X must be a 2-D array (n_samples, {FEATURES_SIZE}), got shape "
                         f"{array.shape}; reshape a single sample with X.reshape(1, -1)")
    if array.shape[1] != FEATURES_SIZE:
        raise ValueError(f"X has {array.shape[1]} features, but {name} is expecting "
                         f"{FEATURES_SIZE} features as input (the program was "
                         f"exported for {FEATURES_SIZE} features)")
    if array.shape[0] == 0:
        raise ValueError("X has 0 samples; at least 1 is required")
    if not np.all(np.isfinite(array)):
        raise ValueError("X contains NaN or infinity")
    return np.ascontiguousarray(array)


def _check_labels(y, n: int) -> np.ndarray:
    array = np.asarray(y)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array.ravel()
    if array.ndim != 1 or array.shape[0] != n:
        raise ValueError(f"y must be 1-D with one label per sample ({n}), got shape "
                         f"{array.shape}")
    return array


class _EvolvedEstimator:
    """Parameters, input checks and training, shared by the estimators."""

    def __init__(self, epochs: int = __EPOCHS__, random_state: int | None = __RANDOM_STATE__,
                 max_abs_error: float = __MAX_ABS_ERROR__) -> None:
        self.epochs = epochs
        self.random_state = random_state
        self.max_abs_error = max_abs_error

    def get_params(self, deep: bool = True) -> dict:
        """The estimator's parameters (scikit-learn convention)."""
        return {"epochs": self.epochs, "random_state": self.random_state,
                "max_abs_error": self.max_abs_error}

    def set_params(self, **params):
        """Set parameters by name; returns the estimator."""
        valid = self.get_params()
        for key, value in params.items():
            if key not in valid:
                raise ValueError(f"Invalid parameter {key!r} for {type(self).__name__}; "
                                 f"valid parameters: {sorted(valid)}")
            setattr(self, key, value)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def _fit_model(self, X: np.ndarray, y: np.ndarray, num_classes=None) -> None:
        # random_state None means 0: training is deterministic.
        seed = 0 if self.random_state is None else self.random_state
        self.model_ = ProgramModel(
            (setup, predict, learn), MEMORY_SIZES, classification=TASK_KIND,
            num_classes=num_classes, epochs=self.epochs, random_state=seed,
            max_abs_error=self.max_abs_error, features_size=FEATURES_SIZE).fit(X, y)
        self.n_features_in_ = FEATURES_SIZE
        self.diverged_ = self.model_.diverged

    def _model_predict(self, X) -> np.ndarray:
        if not hasattr(self, "model_"):
            raise NotFittedError(f"This {type(self).__name__} instance is not fitted "
                                 f"yet. Call 'fit' with appropriate arguments first.")
        return self.model_.predict(_check_features(X, type(self).__name__))
'''

_REGRESSOR = '''\
class EvolvedRegressor(_EvolvedEstimator):
    """The evolved program as a regressor: ``fit(X, y)``, ``predict(X)``.

    Parameters: ``epochs`` (passes over the training data), ``random_state``
    (seeds the epoch shuffles and the random ops; None means 0),
    ``max_abs_error`` (a training prediction further than this from its label
    stops training: the model diverged, ``diverged_`` is True and predictions
    are NaN).
    """

    _estimator_type = "regressor"

    def fit(self, X, y) -> EvolvedRegressor:
        """Train on X (n_samples, FEATURES_SIZE) and targets y (n_samples,)."""
        X = _check_features(X, type(self).__name__)
        try:
            y = np.asarray(_check_labels(y, X.shape[0]), dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"y must be numeric targets: {exc}") from None
        if not np.all(np.isfinite(y)):
            raise ValueError("y contains NaN or infinity")
        self._fit_model(X, y)
        return self

    def predict(self, X) -> np.ndarray:
        """s1 after Predict for each row of X, in order."""
        return self._model_predict(X)

    def score(self, X, y) -> float:
        """The coefficient of determination R^2 of the predictions."""
        y = np.asarray(y, dtype=np.float64).ravel()
        residual = float(np.sum((y - self.predict(X)) ** 2))
        total = float(np.sum((y - y.mean()) ** 2))
        if total == 0.0:
            return 1.0 if residual == 0.0 else 0.0
        return 1.0 - residual / total

    def __sklearn_tags__(self):
        """Tags for scikit-learn >= 1.6 (imported only when scikit-learn asks)."""
        from sklearn.utils import InputTags, RegressorTags, Tags, TargetTags

        return Tags(estimator_type="regressor", target_tags=TargetTags(required=True),
                    regressor_tags=RegressorTags(), input_tags=InputTags())
'''

_CLASSIFIER = '''\
class EvolvedClassifier(_EvolvedEstimator):
    """The evolved program as a binary classifier: ``fit(X, y)``, ``predict(X)``,
    ``predict_proba(X)``. The two labels of y are sorted into ``classes_``;
    the program learns ``classes_[1]`` as 1 and ``classes_[0]`` as 0, and
    sigmoid(s1) is the probability of ``classes_[1]``.

    Parameters: ``epochs`` (passes over the training data), ``random_state``
    (seeds the epoch shuffles and the random ops; None means 0),
    ``max_abs_error`` (a training prediction further than this from its label
    stops training: the model diverged, ``diverged_`` is True and probabilities
    are NaN).
    """

    _estimator_type = "classifier"

    def fit(self, X, y) -> EvolvedClassifier:
        """Train on X (n_samples, FEATURES_SIZE) and two-valued labels y (n_samples,)."""
        X = _check_features(X, type(self).__name__)
        y = _check_labels(y, X.shape[0])
        if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
            raise ValueError("y contains NaN or infinity")
        classes, encoded = np.unique(y, return_inverse=True)
        if len(classes) > 2:
            raise ValueError(f"Only binary classification is supported. "
                             f"{type(self).__name__} got y with {len(classes)} classes.")
        if len(classes) < 2:
            raise ValueError(f"{type(self).__name__} needs 2 classes in y, got 1 class "
                             f"({classes[0]!r})")
        self.classes_ = classes
        self._fit_model(X, encoded.reshape(-1).astype(np.float64))
        return self

    def predict_proba(self, X) -> np.ndarray:
        """(n_samples, 2): the probabilities of classes_[0] and classes_[1]."""
        p = self._model_predict(X)
        return np.column_stack([1.0 - p, p])

    def predict(self, X) -> np.ndarray:
        """classes_[1] where its probability is > 0.5, else classes_[0]."""
        p = self._model_predict(X)
        return self.classes_[(p > 0.5).astype(np.intp)]

    def score(self, X, y) -> float:
        """The accuracy of the predictions."""
        return float(np.mean(self.predict(X) == np.asarray(y).ravel()))

    def __sklearn_tags__(self):
        """Tags for scikit-learn >= 1.6 (imported only when scikit-learn asks)."""
        from sklearn.utils import ClassifierTags, InputTags, Tags, TargetTags

        return Tags(estimator_type="classifier", target_tags=TargetTags(required=True),
                    classifier_tags=ClassifierTags(multi_class=False),
                    input_tags=InputTags())
'''


_MULTICLASS_CLASSIFIER = '''\
class EvolvedClassifier(_EvolvedEstimator):
    """The evolved program as a multi-class classifier: ``fit(X, y)``,
    ``predict(X)``, ``predict_proba(X)``. The K labels of y (2 <= K <=
    FEATURES_SIZE) are sorted into ``classes_``; the program learns
    ``classes_[i]`` as class id i (one-hot in v1 before Learn), and
    softmax(v2[:K]) after Predict gives the probabilities of ``classes_``.

    Parameters: ``epochs`` (passes over the training data), ``random_state``
    (seeds the epoch shuffles and the random ops; None means 0),
    ``max_abs_error`` (a training prediction with |1 - p(label)| larger than
    this, or NaN, stops training: the model diverged, ``diverged_`` is True
    and probabilities are NaN).
    """

    _estimator_type = "classifier"

    def fit(self, X, y) -> EvolvedClassifier:
        """Train on X (n_samples, FEATURES_SIZE) and labels y (n_samples,) of 2 to
        FEATURES_SIZE classes."""
        X = _check_features(X, type(self).__name__)
        y = _check_labels(y, X.shape[0])
        if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
            raise ValueError("y contains NaN or infinity")
        classes, encoded = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(f"{type(self).__name__} needs at least 2 classes in y, got "
                             f"1 class ({classes[0]!r})")
        if len(classes) > FEATURES_SIZE:
            raise ValueError(f"{type(self).__name__} got y with {len(classes)} classes, "
                             f"but the program tells at most {FEATURES_SIZE} apart: it "
                             f"reads the one-hot label from v1 and writes the class "
                             f"scores to v2, vectors of {FEATURES_SIZE} entries")
        self.classes_ = classes
        self._fit_model(X, encoded.reshape(-1).astype(np.float64), len(classes))
        return self

    def predict_proba(self, X) -> np.ndarray:
        """(n_samples, len(classes_)): the probabilities of the classes."""
        return self._model_predict(X)

    def predict(self, X) -> np.ndarray:
        """The class of the largest probability, ties to the last class (the
        executor's rule); classes_[0] for NaN probabilities."""
        return self.classes_[argmax_last(self._model_predict(X))]

    def score(self, X, y) -> float:
        """The accuracy of the predictions."""
        return float(np.mean(self.predict(X) == np.asarray(y).ravel()))

    def __sklearn_tags__(self):
        """Tags for scikit-learn >= 1.6 (imported only when scikit-learn asks)."""
        from sklearn.utils import ClassifierTags, InputTags, Tags, TargetTags

        return Tags(estimator_type="classifier", target_tags=TargetTags(required=True),
                    classifier_tags=ClassifierTags(multi_class=True),
                    input_tags=InputTags())
'''


def _section(title: str) -> str:
    rule = "# " + "-" * 75
    return f"{rule}\n# {title}\n{rule}"


def export_python(algorithm: Algorithm, *, features_size: int, memory: Any = None,
                  classification: bool | str = False, epochs: int = 1,
                  random_state: int = 0,
                  max_abs_error: float = DEFAULT_MAX_ABS_ERROR,
                  info: Mapping[str, object] | None = None,
                  module_name: str = "evolved_model") -> str:
    """The source of a standalone module (NumPy only) holding ``algorithm`` as a
    scikit-learn compatible estimator (docs/export.md).

    ``features_size``: the number of features the inputs have (the program's
    vectors and matrices are sized by it; other inputs are refused).
    ``memory``: a ``MemorySpec`` or (scalars, vectors, matrices), grown to cover
    the program (default: just what it uses; at least 3 vectors for
    "multiclass"). ``classification``: the kind of tasks the program was
    evolved on, recorded in the module as ``TASK_KIND``: False or
    "regression" (an ``EvolvedRegressor``), True or "binary" (an
    ``EvolvedClassifier`` for two classes; Predict's s1 through a sigmoid,
    as in ACCURACY tasks) or "multiclass" (an ``EvolvedClassifier`` for 2 to
    ``features_size`` classes; the label one-hot in v1, softmax of Predict's
    v2 as in MULTICLASS_ACCURACY tasks). ``epochs``,
    ``random_state`` and ``max_abs_error``: the estimator's default
    parameters. ``info``: extra ``key: value`` lines for the module docstring
    (e.g. where the program comes from, its fitness). ``module_name``: the
    name used in the usage example.
    """
    if not isinstance(algorithm, Algorithm):
        raise TypeError(f"algorithm must be an Algorithm, got {type(algorithm).__name__}")
    if isinstance(features_size, bool) or not isinstance(features_size, int) \
            or features_size < 1:
        raise ValueError(f"features_size must be an integer >= 1, got {features_size!r}")
    kind = task_kind(classification)
    sizes = memory_sizes_for(algorithm, memory)
    if kind == "multiclass":
        if features_size < 2:
            raise ValueError("a multi-class program needs features_size >= 2: it tells "
                             "at most features_size classes apart")
        sizes = (sizes[0], max(sizes[1], 3), sizes[2])  # v1 label, v2 predictions
    # Checks epochs, random_state and max_abs_error as the estimator will.
    ProgramModel((lambda *_: None,) * 3, sizes, epochs=epochs, random_state=random_state,
                 max_abs_error=max_abs_error)
    classification = kind != "regression"
    multiclass = kind == "multiclass"
    if not re.fullmatch(r"[A-Za-z_]\w*", module_name):
        raise ValueError(f"module_name must be a Python identifier, got {module_name!r}")
    cls = "EvolvedClassifier" if classification else "EvolvedRegressor"
    program = "\n".join("    " + line for line in algorithm.to_text().splitlines())
    info_lines = ""
    if info:
        info_lines = "\nAbout this program:\n\n" + "".join(
            f"    {' '.join(str(k).split())}: {' '.join(str(v).split())}\n"
            for k, v in info.items())
    replacements = {
        "__CLASS__": cls,
        "__KIND_TEXT__": {"regression": "regressor", "binary": "binary classifier",
                          "multiclass": "multi-class classifier"}[kind],
        "__PROBA__": " ``predict_proba``," if classification else "",
        "__F__": str(features_size),
        "__MEMORY__": _memory_text(sizes),
        "__PROGRAM__": _docstring_safe(program) + "\n",
        "__TRAINING_TEXT__": _TRAINING_TEXT[kind],
        "__PREDICTION_TEXT__": _PREDICTION_TEXT[kind].format(F=features_size),
        "__MODULE__": module_name,
        "__PROBA_USAGE__": {"regression": "",
                            "binary": "\n    p = model.predict_proba(X_test)[:, 1]",
                            "multiclass": "\n    p = model.predict_proba(X_test)  "
                                          "# (n_samples, len(model.classes_))"}[kind],
        "__INFO__": _docstring_safe(info_lines),
    }
    header = _HEADER
    for key, value in replacements.items():
        header = header.replace(key, value)
    has_random = any(OPS[ins.op].random for c in algorithm.components for ins in c)
    program_constants = "\n".join([
        f"FEATURES_SIZE = {features_size}",
        f"MEMORY_SIZES = {sizes!r}  # scalar, vector and matrix addresses",
        f"CLASSIFICATION = {bool(classification)!r}",
        f"TASK_KIND = {kind!r}  # the tasks the program was evolved on",
        f"HAS_RANDOM_OPS = {has_random!r}  # random_state matters for the random ops",
    ])
    docs = _MULTICLASS_COMPONENT_DOCS if multiclass else _COMPONENT_DOCS
    functions = "\n\n\n".join(_function_source(name, component, docs)
                              for name, component in zip(("setup", "predict", "learn"),
                                                         algorithm.components, strict=True))
    estimator = (_ESTIMATOR_COMMON
                 .replace("__EPOCHS__", str(int(epochs)))
                 .replace("__RANDOM_STATE__", str(int(random_state)))
                 .replace("__MAX_ABS_ERROR__", _literal(max_abs_error)))
    estimator += "\n\n" + {"regression": _REGRESSOR, "binary": _CLASSIFIER,
                           "multiclass": _MULTICLASS_CLASSIFIER}[kind]
    all_names = [cls, "setup", "predict", "learn", "ProgramModel", "Xoshiro256Plus",
                 "FEATURES_SIZE", "MEMORY_SIZES", "CLASSIFICATION", "TASK_KIND"]
    parts = [
        header.rstrip("\n"),
        "from __future__ import annotations\n\nimport math\n\nimport numpy as np\n\n"
        "__all__ = [\n" + "".join(f'    "{name}",\n' for name in all_names) + "]",
        _runtime_source(),
        _section("The program") + "\n\n" + program_constants,
        functions,
        _section("The estimator"),
        estimator.rstrip("\n"),
    ]
    return "\n\n\n".join(parts) + "\n"
