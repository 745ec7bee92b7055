"""scikit-learn estimators that train and run an evolved program (docs/export.md).

``EvolvedRegressor`` and ``EvolvedClassifier`` (binary, or multi-class with
``multiclass=True``) wrap a program (an ``Algorithm``, program text, or the
path of a ``.txt``/``.json`` program file) and run it with the pure-NumPy
runtime (:mod:`automl_zero.export.runtime`) as the executor runs it on one
task: ``fit`` zeroes the memory, runs Setup and then Predict (+ sigmoid of
s1 for the binary classifier, + softmax of v2 for the multi-class one) +
Learn on every training example for ``epochs`` passes; ``predict`` runs
Predict on each row. There is no validation between epochs (the executor
validates after every epoch).

    from automl_zero.sklearn import EvolvedRegressor
    model = EvolvedRegressor(program="best_algorithm.txt", epochs=3).fit(X, y)
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from automl_zero.errors import ProgramParseError
from automl_zero.export.python_module import program_model
from automl_zero.export.runtime import DEFAULT_MAX_ABS_ERROR, argmax_last
from automl_zero.language.algorithm import Algorithm
from automl_zero.language.algorithm_io import load_algorithm
from automl_zero.language.text_format import parse_algorithm

try:
    from sklearn.utils.validation import validate_data as _validate_data
except ImportError:  # scikit-learn < 1.6

    def _validate_data(estimator, X="no_validation", y="no_validation", reset=True,
                       **check_params):
        return estimator._validate_data(X, y, reset=reset, **check_params)

__all__ = ["AutoMLZeroRegressor", "EvolvedRegressor", "EvolvedClassifier", "resolve_program"]

_PROGRAM_SUFFIXES = (".txt", ".json")


def resolve_program(program: Any, where: str = "program") -> Algorithm:
    """An ``Algorithm`` from an ``Algorithm``, program text, or the path of a
    program file (``str`` or path-like; a string is a path if it has no line
    break and no ``def`` and names an existing file or ends in .txt/.json).

    Raises ``ProgramParseError`` for text or files that do not parse, and
    ``ValueError`` for anything else.
    """
    if isinstance(program, Algorithm):
        return program
    if program is None:
        raise ValueError(f"{where}: no program given; pass an Algorithm, program text "
                         f"or the path of a .txt/.json program file")
    if isinstance(program, os.PathLike):
        return load_algorithm(program)
    if isinstance(program, str):
        looks_like_path = "\n" not in program and "def " not in program and (
            os.path.isfile(program) or program.lower().endswith(_PROGRAM_SUFFIXES))
        if looks_like_path:
            if not os.path.isfile(program):
                raise ValueError(f"{where}: program file {program!r} does not exist")
            return load_algorithm(program)
        try:
            return parse_algorithm(program)
        except ProgramParseError as exc:
            raise ProgramParseError(f"{where}: the program text does not parse: "
                                    f"{exc}") from None
    raise ValueError(f"{where}: must be an Algorithm, program text or a path, got "
                     f"{type(program).__name__}")


def _seed(random_state: Any) -> int:
    """The integer seed of ``random_state`` (None means 0: runs are reproducible)."""
    if random_state is None:
        return 0
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        return int(random_state)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(np.iinfo(np.int32).max))
    raise ValueError(f"random_state must be an integer, a RandomState or None, got "
                     f"{random_state!r}")


class _EvolvedEstimator(BaseEstimator):
    """Shared parameters, program resolution, training and prediction."""

    _classification: bool | str = False

    def __init__(self, program: Any = None, epochs: int = 1, random_state: Any = 0,
                 max_abs_error: float = DEFAULT_MAX_ABS_ERROR) -> None:
        self.program = program
        self.epochs = epochs
        self.random_state = random_state
        self.max_abs_error = max_abs_error

    def _fit_program(self, X: np.ndarray, y: np.ndarray,
                     num_classes: int | None = None) -> None:
        """Train the program on validated X and labels y (binary classifier: 0.0 /
        1.0; multi-class: class ids 0.0 .. num_classes - 1)."""
        algorithm = resolve_program(self.program, type(self).__name__)
        kind = self._classification
        if kind == "multiclass" and num_classes is None:
            raise ValueError("num_classes is needed for a multi-class fit")
        model = program_model(algorithm, classification=kind, num_classes=num_classes,
                              epochs=self.epochs, random_state=_seed(self.random_state),
                              max_abs_error=self.max_abs_error,
                              features_size=X.shape[1])
        model.fit(X, y)
        if model.diverged:
            warnings.warn(
                f"{type(self).__name__}: training diverged at step "
                f"{model.diverged_at} (a prediction was NaN or further than "
                f"max_abs_error={model.max_abs_error} from its label); predictions "
                f"are NaN", ConvergenceWarning, stacklevel=3)
        self.algorithm_ = algorithm
        self.model_ = model
        self.diverged_ = model.diverged

    def _predict_values(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "model_")
        X = _validate_data(self, X, reset=False, dtype=np.float64)
        return self.model_.predict(X)


class EvolvedRegressor(RegressorMixin, _EvolvedEstimator):
    """An evolved program as a scikit-learn regressor.

    Parameters
    ----------
    program : Algorithm, str or path
        The program: an ``Algorithm``, its text (paper notation) or the path
        of a ``.txt`` / ``.json`` program file.
    epochs : int, default 1
        Passes over the training data (the first in the given order, later
        ones shuffled as the executor does).
    random_state : int or None, default 0
        Seeds the epoch shuffles and the program's random ops (None: 0).
    max_abs_error : float, default 100.0
        A training prediction further than this from its label (or NaN) stops
        training: the model diverged (``diverged_``) and predicts NaN.

    Attributes: ``algorithm_``, ``model_`` (the fitted ``ProgramModel``),
    ``diverged_``, ``n_features_in_`` (and ``feature_names_in_``).
    """

    def fit(self, X: Any, y: Any) -> EvolvedRegressor:
        """Train the program on X (n_samples, n_features) and targets y."""
        X, y = _validate_data(self, X, y, y_numeric=True, dtype=np.float64)
        self._fit_program(X, np.asarray(y, dtype=np.float64))
        return self

    def predict(self, X: Any) -> np.ndarray:
        """s1 after Predict for each row of X, in order."""
        return self._predict_values(X)


class EvolvedClassifier(ClassifierMixin, _EvolvedEstimator):
    """An evolved program as a scikit-learn classifier, binary or multi-class.

    ``multiclass`` must match the tasks the program was evolved on: a program
    evolved on binary (ACCURACY) tasks reads its label from s0 and predicts
    in s1, one evolved on multi-class (MULTICLASS_ACCURACY) tasks reads a
    one-hot label from v1 and predicts class scores in v2. The convention is
    never guessed from y.

    ``multiclass=False`` (binary): the two labels of y are sorted into
    ``classes_``; the program learns ``classes_[1]`` as 1 and ``classes_[0]``
    as 0, with Predict's s1 passed through a sigmoid (written back to s1 in
    training, as in ACCURACY tasks): ``predict_proba`` gives (1 - p, p) with
    p = sigmoid(s1), ``predict`` ``classes_[1]`` where p > 0.5. More than two
    classes raise ValueError.

    ``multiclass=True``: the K labels of y (2 <= K <= n_features) are sorted
    into ``classes_``; the program learns ``classes_[i]`` as class id i, as
    in MULTICLASS_ACCURACY tasks: v1 = 0 before Predict, v2[:K] =
    softmax(v2[:K]) and v2[K:] = 0 after it (written back in training), v1 =
    one-hot(i) and s0 = 0 before Learn. ``predict_proba`` gives softmax(v2[:K])
    (n_samples, K), ``predict`` the class of the largest probability, ties to
    the last class (the executor's rule). The program needs K <= n_features
    (the one-hot label fills v1, a vector of n_features entries): more
    classes raise ValueError. At least 3 vectors are allocated.

    Other parameters as ``EvolvedRegressor``'s.
    """

    def __init__(self, program: Any = None, epochs: int = 1, random_state: Any = 0,
                 max_abs_error: float = DEFAULT_MAX_ABS_ERROR,
                 multiclass: bool = False) -> None:
        super().__init__(program=program, epochs=epochs, random_state=random_state,
                         max_abs_error=max_abs_error)
        self.multiclass = multiclass

    @property
    def _classification(self) -> str:  # type: ignore[override]
        return "multiclass" if self._is_multiclass() else "binary"

    def _is_multiclass(self) -> bool:
        if not isinstance(self.multiclass, (bool, np.bool_)):
            raise ValueError(f"multiclass must be True or False, got {self.multiclass!r}")
        return bool(self.multiclass)

    def fit(self, X: Any, y: Any) -> EvolvedClassifier:
        """Train the program on X (n_samples, n_features) and labels y: two
        classes, or 2 to n_features classes with ``multiclass=True``."""
        X, y = _validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        multiclass = self._is_multiclass()
        classes, encoded = np.unique(y, return_inverse=True)
        if len(classes) > 2 and not multiclass:
            raise ValueError(f"Only binary classification is supported with "
                             f"multiclass=False. {type(self).__name__} got y with "
                             f"{len(classes)} classes; pass multiclass=True for a "
                             f"program evolved on multi-class tasks.")
        if len(classes) < 2:
            raise ValueError(f"{type(self).__name__} needs 2 classes in y, got 1 class "
                             f"({classes[0]!r})")
        if multiclass and len(classes) > X.shape[1]:
            raise ValueError(f"{type(self).__name__} got y with {len(classes)} classes "
                             f"but X has n_features = {X.shape[1]}: a multi-class "
                             f"program tells at most n_features classes apart (it reads "
                             f"the one-hot label from v1 and writes the class scores to "
                             f"v2, vectors of n_features entries)")
        self.classes_ = classes
        self._fit_program(X, encoded.reshape(-1).astype(np.float64),
                          len(classes) if multiclass else None)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """(n_samples, n_classes): the probabilities of the classes of ``classes_``."""
        p = self._predict_values(X)
        if p.ndim == 2:  # multi-class: softmax(v2[:K])
            return p
        return np.column_stack([1.0 - p, p])

    def predict(self, X: Any) -> np.ndarray:
        """Binary: ``classes_[1]`` where its probability is > 0.5, else
        ``classes_[0]``. Multi-class: the class of the largest probability, ties
        to the last class. NaN probabilities (a diverged model) give ``classes_[0]``."""
        p = self._predict_values(X)
        if p.ndim == 2:
            return self.classes_[argmax_last(p)]
        return self.classes_[(p > 0.5).astype(np.intp)]

    def __sklearn_tags__(self):  # scikit-learn >= 1.6
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = self._declared_multiclass()
        return tags

    def _more_tags(self) -> dict:  # scikit-learn < 1.6
        return {"binary_only": not self._declared_multiclass()}

    def _declared_multiclass(self) -> bool:
        """``multiclass`` for the tags (an invalid value: binary; fit refuses it)."""
        return isinstance(self.multiclass, (bool, np.bool_)) and bool(self.multiclass)


# The search space of AutoMLZeroRegressor by default: the demo's (linear
# algebra and arithmetic, random initial programs), which finds linear models
# trained by gradient descent; a `config` gives any other.
_DEFAULT_SEARCH: dict[str, Any] = {
    "num_scalar_addresses": 4, "num_vector_addresses": 3, "num_matrix_addresses": 1,
    "setup_ops": ["SCALAR_CONST_SET_OP", "VECTOR_INNER_PRODUCT_OP", "SCALAR_DIFF_OP",
                  "SCALAR_PRODUCT_OP", "SCALAR_VECTOR_PRODUCT_OP", "VECTOR_SUM_OP"],
    "setup_size_init": 10, "predict_size_init": 2, "learn_size_init": 8,
    "population_size": 1000, "tournament_size": 10,
    "initial_population": "RANDOM_ALGORITHM",
    "allowed_mutation_types": ["ALTER_PARAM_MUTATION_TYPE",
                               "RANDOMIZE_INSTRUCTION_MUTATION_TYPE",
                               "RANDOMIZE_COMPONENT_FUNCTION_MUTATION_TYPE"],
    "mutate_prob": 0.9, "progress_every": 10000,
    "fec": {"num_train_examples": 10, "num_valid_examples": 10},
}
_DEFAULT_SEARCH["predict_ops"] = _DEFAULT_SEARCH["learn_ops"] = _DEFAULT_SEARCH["setup_ops"]
_TASK_KEYS = ("search_tasks", "select_tasks", "final_tasks", "island_groups")


class AutoMLZeroRegressor(RegressorMixin, BaseEstimator):
    """Evolve a regression algorithm on (X, y) inside ``fit`` (docs/export.md).

    ``fit`` standardises X and y (the statistics are kept and applied again
    by ``predict``), makes ``num_tasks`` search tasks of random train /
    validation splits of the rows and ``num_tasks`` other splits as T_select,
    runs a search for ``time_limit`` seconds (or until an algorithm passes
    ``sufficient_fitness`` on T_select), then trains the best algorithm
    (``algorithm_``) on all of X, y as :class:`EvolvedRegressor` does
    (``model_``); ``predict`` is that model's.

    Parameters
    ----------
    time_limit : float, default 60
        Seconds of search (``time_limit_seconds``).
    max_individuals : int, optional
        Also stop after one experiment of this many individuals (per island):
        a budget that, unlike time, gives the same result on every machine.
    config : str or path, optional
        A TOML config whose search settings (memory, ops, sizes, population,
        mutations...) replace the default ones (the demo's linear search
        space); its task collections are ignored: the tasks come from X, y.
    num_tasks, valid_fraction, search_examples, epochs
        Tasks per collection, the validation share of each split, at most
        this many training (and validation) examples per search task (the
        demo's 100: short tasks make a fast search; the final training uses
        all rows), passes over the training examples.
    sufficient_fitness : float, optional
        Stop as soon as the best algorithm's T_select fitness exceeds it.
    islands, workers : int
        Islands of the search and worker processes running them.
    random_state : int, default 0
        Seed of the search, the splits and the final training.
    """

    def __init__(self, time_limit: float = 60.0, max_individuals: int | None = None,
                 config: Any = None, num_tasks: int = 10,
                 valid_fraction: float = 0.2, search_examples: int = 100,
                 epochs: int = 1,
                 sufficient_fitness: float | None = None, islands: int = 1,
                 workers: int = 1, random_state: Any = 0) -> None:
        self.time_limit = time_limit
        self.max_individuals = max_individuals
        self.config = config
        self.num_tasks = num_tasks
        self.valid_fraction = valid_fraction
        self.search_examples = search_examples
        self.epochs = epochs
        self.sufficient_fitness = sufficient_fitness
        self.islands = islands
        self.workers = workers
        self.random_state = random_state

    def _search_settings(self) -> dict[str, Any]:
        if self.config is None:
            return dict(_DEFAULT_SEARCH)
        import tomllib

        from automl_zero.errors import ConfigError

        try:
            with open(self.config, "rb") as f:
                data = tomllib.load(f)
        except (OSError, tomllib.TOMLDecodeError) as err:
            raise ConfigError(f"config {self.config}: {err}") from None
        return {k: v for k, v in data.items() if k not in _TASK_KEYS}

    def fit(self, X: Any, y: Any) -> AutoMLZeroRegressor:
        """Search an algorithm on tasks made from X, y; train it on all of them."""
        import tempfile

        from automl_zero.config import config_from_dict
        from automl_zero.run.driver import search
        from automl_zero.tasks.from_arrays import user_task_spec

        X, y = _validate_data(self, X, y, y_numeric=True, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if not 0.0 < float(self.valid_fraction) < 1.0:
            raise ValueError(f"valid_fraction must be in (0, 1), got {self.valid_fraction!r}")
        if len(X) < 4:
            raise ValueError(f"{type(self).__name__} needs at least 4 samples, got {len(X)}")
        seed = _seed(self.random_state)
        self.x_mean_, self.x_scale_ = X.mean(axis=0), _scale(X.std(axis=0))
        self.y_mean_, self.y_scale_ = float(y.mean()), float(_scale(np.array([y.std()]))[0])
        xs = (X - self.x_mean_) / self.x_scale_
        ys = (y - self.y_mean_) / self.y_scale_
        # Search tasks: short splits (a fast search); T_select and T_final:
        # splits of all rows, the size the chosen algorithm is trained at.
        n_valid = max(1, int(round(len(X) * float(self.valid_fraction))))
        n_train = len(X) - n_valid
        short = min(n_train, int(self.search_examples)), min(n_valid,
                                                              int(self.search_examples))
        data = self._search_settings()
        data.update(time_limit_seconds=float(self.time_limit), max_experiments=0,
                    islands=int(self.islands), random_seed=seed + 1)
        data.setdefault("max_train_steps", 10**15)
        if self.sufficient_fitness is not None:
            data["sufficient_fitness"] = float(self.sufficient_fitness)
        if self.max_individuals is not None:  # a budget that does not depend on time
            data.update(max_individuals=int(self.max_individuals), max_experiments=1)
        with tempfile.TemporaryDirectory(prefix="automl-zero-fit-") as tmp:
            def spec(split_seed: int, sizes: tuple[int, int]) -> dict:
                return user_task_spec(
                    xs, ys, tmp, num_tasks=self.num_tasks, num_train_examples=sizes[0],
                    num_valid_examples=sizes[1], num_train_epochs=self.epochs,
                    seed=split_seed, standardize_features=False).to_dict()

            data["search_tasks"] = [spec(seed, short)]
            data["select_tasks"] = [spec(seed + 1_000_003, (n_train, n_valid))]
            data["final_tasks"] = [spec(seed + 2_000_006, (n_train, n_valid))]
            cfg = config_from_dict(data, f"{type(self).__name__} search")
            result = search(cfg, seed=seed + 1, out=None, workers=self.workers)
        if result.best_algorithm is None:
            raise RuntimeError(f"{type(self).__name__}: the search evaluated no "
                               f"algorithm within time_limit={self.time_limit}")
        self.search_result_ = result
        self.algorithm_ = result.best_algorithm
        self.model_ = EvolvedRegressor(self.algorithm_, epochs=self.epochs,
                                       random_state=seed).fit(xs, ys)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """The trained algorithm's predictions, in the units of y."""
        check_is_fitted(self, "model_")
        X = _validate_data(self, X, reset=False, dtype=np.float64)
        return self.model_.predict((X - self.x_mean_) / self.x_scale_) * self.y_scale_ \
            + self.y_mean_


def _scale(std: np.ndarray) -> np.ndarray:
    """Standard deviations as divisors (constant columns: 1)."""
    return np.where(std > 0, std, 1.0)
