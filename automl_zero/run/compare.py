"""``automl-zero compare``: programs against baselines on the same tasks.

Every method is scored per task with the executor's fitness (docs/semantics.md
§5: ``1 - (2/pi) * atan(RMSE)`` on regression tasks, accuracy on
classification tasks), so the numbers are comparable:

* programs (files) and the hand-designed programs (``linear``,
  ``logistic``, ``neural_net``) run in the executor, each with its own
  evaluator seeded ``seed`` (a program's result does not depend on what else
  is compared);
* the scikit-learn models (``sklearn_linear``: ``RidgeCV`` on regression
  tasks, ``LogisticRegression`` (C = 1) on classification tasks;
  ``sklearn_mlp``: ``MLPRegressor`` / ``MLPClassifier`` with one hidden layer
  of F ReLU units, the hand-designed network's shape, trained by L-BFGS;
  ``random_state`` 0) are fitted on each task's training
  examples and their validation predictions are scored by
  :func:`fitness_from_predictions`, the executor's scoring of one validation
  pass (for classifiers the prediction is the logit, as ``s1``; for
  multi-class tasks the class probabilities, as ``v2``).

On MULTICLASS_ACCURACY tasks (docs/semantics.md §4.13) ``logistic`` is
softmax regression and ``neural_net`` a 2-layer ReLU network with softmax
outputs, both trained by SGD (``softmax_regression_algorithm``,
``multiclass_neural_net_algorithm``); ``linear`` does not apply.

The table gives the mean ± SEM over tasks of each method and, for each
program and baseline, the fraction of tasks on which the program's fitness is
strictly higher (the paper's Table S5 counts).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from automl_zero.config import TASK_COLLECTIONS, Config
from automl_zero.engine.evaluator import Evaluator
from automl_zero.errors import AutoMLZeroError, excerpt
from automl_zero.executor import DEFAULT_MAX_ABS_ERROR, MemorySpec, TaskBatch
from automl_zero.language.algorithm import Algorithm
from automl_zero.language.algorithm_io import load_algorithm
from automl_zero.language.generator import (
    DEFAULT_LEARNING_RATE,
    linear_algorithm,
    logistic_regression_algorithm,
    multiclass_neural_net_algorithm,
    neural_net_algorithm,
    softmax_regression_algorithm,
)
from automl_zero.run import build
from automl_zero.tasks import EvalType, Task, make_tasks

__all__ = ["BASELINES", "CompareError", "Comparison", "MethodResult", "compare",
           "default_baselines", "default_collection", "fitness_from_predictions",
           "load_program", "parse_baselines", "sklearn_fitness"]

HAND_DESIGNED: dict[str, tuple[str, Callable[[float], Algorithm]]] = {
    "linear": ("hand-designed linear regression (LINEAR_ALGORITHM)", linear_algorithm),
    "logistic": ("hand-designed logistic regression", logistic_regression_algorithm),
    "neural_net": ("hand-designed 2-layer ReLU network (NEURAL_NET_ALGORITHM)",
                   neural_net_algorithm),
}
# Their counterparts on MULTICLASS_ACCURACY tasks (predictions in v2).
HAND_DESIGNED_MULTICLASS: dict[str, tuple[str, Callable[[float], Algorithm]]] = {
    "logistic": ("hand-designed softmax regression", softmax_regression_algorithm),
    "neural_net": ("hand-designed 2-layer ReLU network, softmax outputs",
                   multiclass_neural_net_algorithm),
}
SKLEARN = ("sklearn_linear", "sklearn_mlp")
BASELINES = (*HAND_DESIGNED, *SKLEARN)
# The executor's -2/pi (executor/_kernel.py), so that fitnesses agree bit for bit.
_MINUS_TWO_OVER_PI = -0.63661977236758138243
SKLEARN_SEED = 0
# Ridge's penalty is chosen among these by leave-one-out cross-validation on
# the training examples (cheap; no validation example is used).
RIDGE_ALPHAS = (1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0)


class CompareError(AutoMLZeroError):
    """Bad input to ``compare`` (unknown baseline, no tasks, bad program path)."""


# ------------------------------------------------------------------- fitness
def fitness_from_predictions(labels: np.ndarray, predictions: np.ndarray,
                             eval_type: EvalType | str,
                             max_abs_error: float = DEFAULT_MAX_ABS_ERROR) -> float:
    """The executor's fitness of one validation pass (docs/semantics.md §4.4,
    §5). ``predictions`` are the values of ``s1``: the predicted labels of a
    regression task, the logits of a classification task (scored as
    ``sigmoid(s1) > 0.5``; NaN counts as the negative class). A per-example
    error above ``max_abs_error`` (or NaN) scores 0, as the executor's
    validation stop does. MULTICLASS_ACCURACY: ``predictions`` (n, K) are class
    probabilities (or logits: same argmax), the predicted class their argmax,
    ties to the last class (docs/semantics.md §4.13)."""
    accuracy = EvalType[eval_type] if isinstance(eval_type, str) else EvalType(eval_type)
    if accuracy == EvalType.MULTICLASS_ACCURACY:
        y = np.asarray(labels, dtype=np.float64).ravel()
        p = np.asarray(predictions, dtype=np.float64)
        if p.ndim != 2 or p.shape[0] != y.size or y.size == 0:
            raise ValueError(f"need (labels, classes) predictions for {y.size} labels, "
                             f"got shape {p.shape}")
        # The executor's argmax: ties go to the last class, NaN never wins
        # (a row of NaN predicts class 0).
        arg = np.zeros(y.size, dtype=np.int64)
        for i in range(1, p.shape[1]):
            arg = np.where(p[:, i] >= p[np.arange(y.size), arg], i, arg)
        wrong = (arg != y).astype(np.float64)
        return 1.0 - float(np.add.accumulate(wrong)[-1]) / y.size
    y = np.asarray(labels, dtype=np.float64).ravel()
    s1 = np.asarray(predictions, dtype=np.float64).ravel()
    if y.shape != s1.shape or y.size == 0:
        raise ValueError(f"need one prediction per label, got {s1.size} predictions "
                         f"for {y.size} labels")
    if accuracy == EvalType.ACCURACY:
        with np.errstate(over="ignore"):
            prob = 1.0 / (1.0 + np.exp(-s1))
        err = np.where((y > 0.5) == (prob > 0.5), 0.0, 1.0)
        terms = err
    else:
        diff = y - s1
        err = np.abs(diff)
        with np.errstate(over="ignore", invalid="ignore"):
            terms = diff * diff
    if not np.all(err <= max_abs_error):  # NaN fails too
        return 0.0
    # Added one after another, as the executor does.
    loss = float(np.add.accumulate(terms)[-1]) / y.size
    if accuracy == EvalType.ACCURACY:
        return 1.0 - loss
    rms = math.sqrt(loss)
    if math.isnan(rms) or math.isinf(rms):
        return 0.0
    return 1.0 + _MINUS_TWO_OVER_PI * math.atan(rms)


def _sklearn_model(name: str, task: Task, seed: int) -> Any:
    from sklearn.linear_model import LogisticRegression, RidgeCV
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    accuracy = task.eval_type in (EvalType.ACCURACY, EvalType.MULTICLASS_ACCURACY)
    if name == "sklearn_linear":
        if accuracy:
            return LogisticRegression(max_iter=1000)
        return RidgeCV(alphas=RIDGE_ALPHAS)
    mlp = MLPClassifier if accuracy else MLPRegressor
    return mlp(hidden_layer_sizes=(task.features_size,), solver="lbfgs", max_iter=500,
               random_state=seed)


def sklearn_fitness(name: str, task: Task, max_abs_error: float = DEFAULT_MAX_ABS_ERROR,
                    seed: int = SKLEARN_SEED) -> float:
    """Fit the scikit-learn baseline ``name`` on the task's training examples
    and score its validation predictions with the executor's fitness."""
    from sklearn.exceptions import ConvergenceWarning

    x, y = task.train_features, task.train_labels
    if task.num_classes:
        model = _sklearn_model(name, task, seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(x, y.astype(int))
        probs = np.zeros((task.num_valid_examples, task.num_classes))
        probs[:, model.classes_.astype(int)] = model.predict_proba(task.valid_features)
        return fitness_from_predictions(task.valid_labels, probs, task.eval_type,
                                        max_abs_error)
    accuracy = task.eval_type == EvalType.ACCURACY
    if accuracy and np.unique(y).size < 2:  # one class only: predict it
        logits = np.full(task.num_valid_examples, math.inf if y[0] > 0.5 else -math.inf)
        return fitness_from_predictions(task.valid_labels, logits, task.eval_type,
                                        max_abs_error)
    model = _sklearn_model(name, task, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x, (y > 0.5).astype(int) if accuracy else y)
    vx = task.valid_features
    if not accuracy:
        pred = model.predict(vx)
    elif hasattr(model, "decision_function"):
        pred = model.decision_function(vx)
    else:  # MLPClassifier: the logit of its probability
        p = model.predict_proba(vx)[:, list(model.classes_).index(1)]
        with np.errstate(divide="ignore"):
            pred = np.log(p) - np.log1p(-p)
    return fitness_from_predictions(task.valid_labels, pred, task.eval_type,
                                    max_abs_error)


# ------------------------------------------------------------------- methods
@dataclass
class MethodResult:
    """One program or baseline: its fitness on every task."""

    name: str  # program path or baseline name
    label: str
    kind: str  # "program", "hand-designed", "scikit-learn"
    per_task: np.ndarray

    @property
    def mean(self) -> float:
        return float(np.mean(self.per_task))

    @property
    def sem(self) -> float | None:
        """Standard error of the mean over tasks (None for one task)."""
        n = self.per_task.size
        if n < 2:
            return None
        return float(np.std(self.per_task, ddof=1) / math.sqrt(n))

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label, "kind": self.kind,
                "mean": self.mean, "sem": self.sem,
                "per_task": [float(f) for f in self.per_task]}


@dataclass
class Comparison:
    """The fitness of programs and baselines on one task collection."""

    config: str
    collection: str
    eval_types: list[str]
    programs: list[MethodResult]
    baselines: list[MethodResult]
    learning_rate: float
    seed: int

    @property
    def num_tasks(self) -> int:
        methods = self.programs + self.baselines
        return int(methods[0].per_task.size) if methods else 0

    def wins(self, program: MethodResult, baseline: MethodResult) -> tuple[int, int, int]:
        """Tasks where the program's fitness is higher, equal, lower."""
        a, b = program.per_task, baseline.per_task
        return int(np.sum(a > b)), int(np.sum(a == b)), int(np.sum(a < b))

    def to_dict(self) -> dict[str, Any]:
        return {
            "config": self.config, "tasks": self.collection,
            "num_tasks": self.num_tasks, "eval_types": self.eval_types,
            "learning_rate": self.learning_rate, "seed": self.seed,
            "programs": [p.to_dict() for p in self.programs],
            "baselines": [b.to_dict() for b in self.baselines],
            "beats": [{"program": p.name, "baseline": b.name,
                       "wins": w, "ties": t, "losses": lo,
                       "fraction": w / self.num_tasks if self.num_tasks else None}
                      for p in self.programs for b in self.baselines
                      for w, t, lo in [self.wins(p, b)]],
        }

    def format(self) -> str:
        """The text table."""
        measure = {("RMS_ERROR",): "fitness 1 - (2/pi)*atan(RMSE)",
                   ("ACCURACY",): "fitness = accuracy",
                   ("MULTICLASS_ACCURACY",): "fitness = accuracy"
                   }.get(tuple(self.eval_types),
                                                              "fitness")
        lines = [f"{self.collection} tasks of {self.config}: {self.num_tasks} tasks "
                 f"({'/'.join(self.eval_types)}; {measure}), mean ± SEM over tasks"]
        methods = self.programs + self.baselines
        width = max([len(m.name) for m in methods] + [len("method")])
        what = max([len(m.label) for m in methods] + [len("what")])
        lines.append(f"  {'method':{width}s}  {'what':{what}s}  fitness (mean ± SEM)")
        for m in methods:
            sem = ("n/a" if m.sem is None else f"{m.sem:.6f}" if m.sem >= 5e-6
                   else f"{m.sem:.1e}")
            lines.append(f"  {m.name:{width}s}  {m.label:{what}s}  {m.mean:.6f} ± {sem}")
        if self.programs and self.baselines:
            lines.append("")
            lines.append("tasks where the program's fitness is strictly higher than "
                         "the baseline's (ties in brackets):")
            cols = [b.name for b in self.baselines]
            cw = max(6, *(len(c) for c in cols))
            pw = max(len("program"), *(len(p.name) for p in self.programs))
            lines.append(f"  {'program':{pw}s}" + "".join(f"  {c:>{cw}s}" for c in cols))
            for p in self.programs:
                cells = []
                for b in self.baselines:
                    w, t, _ = self.wins(p, b)
                    cell = f"{w / self.num_tasks:.0%}" + (f" ({t})" if t else "")
                    cells.append(f"  {cell:>{cw}s}")
                lines.append(f"  {p.name:{pw}s}" + "".join(cells))
        lines.append("")
        lines.append(f"programs: random-init seed {self.seed}; hand-designed programs: "
                     f"learning rate {self.learning_rate:g}")
        lines.append(f"scikit-learn: fixed models (random_state {SKLEARN_SEED}) fitted "
                     f"on each task's training examples, scored on its validation "
                     f"examples")
        return "\n".join(lines)


def default_collection(cfg: Config) -> str:
    """``final`` if the config has final tasks, else ``select``, else ``search``."""
    for which in ("final", "select"):
        if getattr(cfg, f"{which}_tasks"):
            return which
    return "search"


def default_baselines(tasks: Sequence[Task]) -> list[str]:
    """The baselines that fit the tasks: linear regression for regression
    tasks, logistic regression for classification tasks (both if mixed), the
    network and both scikit-learn models."""
    kinds = {t.eval_type for t in tasks}
    names = []
    if EvalType.RMS_ERROR in kinds:
        names.append("linear")
    if kinds & {EvalType.ACCURACY, EvalType.MULTICLASS_ACCURACY}:
        names.append("logistic")
    return [*names, "neural_net", *SKLEARN]


def parse_baselines(text: str | None, tasks: Sequence[Task]) -> list[str]:
    """``--baselines``: comma-separated names, ``none``, or None (the default)."""
    if text is None or text.strip().lower() in ("", "default"):
        return default_baselines(tasks)
    if text.strip().lower() == "none":
        return []
    names = [n.strip().lower() for n in text.split(",") if n.strip()]
    for n in names:
        if n not in BASELINES:
            raise CompareError(f"unknown baseline {excerpt(n)}; valid: "
                               f"{', '.join(BASELINES)}, none")
    return list(dict.fromkeys(names))


def _sklearn_label(name: str, tasks: Sequence[Task]) -> str:
    kinds = {t.eval_type for t in tasks}
    models = {"sklearn_linear": {EvalType.RMS_ERROR: "RidgeCV",
                                 EvalType.ACCURACY: "LogisticRegression",
                                 EvalType.MULTICLASS_ACCURACY: "LogisticRegression"},
              "sklearn_mlp": {EvalType.RMS_ERROR: "MLPRegressor",
                              EvalType.ACCURACY: "MLPClassifier",
                              EvalType.MULTICLASS_ACCURACY: "MLPClassifier"}}[name]
    return "scikit-learn " + " / ".join(models[k] for k in sorted(kinds))


def load_program(path: str | Path, features_size: int | None = None
                 ) -> tuple[str, Algorithm]:
    """(label, program) of a program file, or of a run directory's best
    algorithm (``best_algorithm.json``)."""
    path = Path(path)
    if path.is_dir():
        best = path / "best_algorithm.json"
        if not best.exists():
            raise CompareError(f"{path}: a directory without best_algorithm.json "
                               f"(give a program file or a finished run directory)")
        path = best
    return str(path), load_algorithm(path, feature_size=features_size)


def _evaluator(cfg: Config, which: str, batch: TaskBatch, memory: MemorySpec,
               seed: int) -> Evaluator:
    """As ``automl-zero evaluate``: search tasks with the config's combination
    and train budget, select and final tasks plain; no FEC."""
    if which != "search":
        return Evaluator(batch, memory, max_abs_error=cfg.max_abs_error, seed=seed)
    return Evaluator(batch, memory, fitness_combination_mode=cfg.fitness_combination_mode,
                     max_abs_error=cfg.max_abs_error, train_budget=build.train_budget(cfg),
                     seed=seed)


def compare(programs: Sequence[tuple[str, Algorithm]], cfg: Config,
            which: str | None = None, baselines: Sequence[str] | None = None, *,
            learning_rate: float = DEFAULT_LEARNING_RATE, seed: int = 0,
            tasks: Sequence[Task] | None = None,
            note: Callable[[str], None] | None = None) -> Comparison:
    """Score ``programs`` ((label, program) pairs) and ``baselines`` (names
    of ``BASELINES``; None: :func:`default_baselines`) on the config's task
    collection ``which`` (None: :func:`default_collection`); ``tasks``
    replaces the collection's tasks (already made). ``note`` receives remarks
    (memory extended)."""
    which = default_collection(cfg) if which is None else which
    if which not in TASK_COLLECTIONS:
        raise CompareError(f"unknown task collection {excerpt(which)}; valid: "
                           f"{', '.join(TASK_COLLECTIONS)}")
    if tasks is None:
        tasks = make_tasks(cfg.tasks(which))  # ConfigError if there are none
    tasks = list(tasks)
    names = default_baselines(tasks) if baselines is None else list(baselines)
    for n in names:
        if n not in BASELINES:
            raise CompareError(f"unknown baseline {excerpt(n)}; valid: "
                               f"{', '.join(BASELINES)}")
    if not math.isfinite(learning_rate):
        raise CompareError(f"learning rate must be a finite number, got {learning_rate}")
    batch = TaskBatch.from_tasks(tasks)
    designs = HAND_DESIGNED
    if batch.num_classes:
        if not batch.multiclass:
            raise CompareError("the tasks mix MULTICLASS_ACCURACY and other tasks; "
                               "compare them separately")
        designs = HAND_DESIGNED_MULTICLASS
        if "linear" in names:
            raise CompareError("baseline 'linear' is for regression tasks; on "
                               "multi-class tasks use logistic (softmax regression)")
    hand = [(n, designs[n][1](learning_rate)) for n in names if n in designs]
    user_memory = cfg.memory.covering(*(alg for _, alg in programs))
    if user_memory != cfg.memory and note is not None:
        note(f"the programs need memory {'/'.join(map(str, user_memory.sizes))} "
             f"(scalars/vectors/matrices); the config has "
             f"{'/'.join(map(str, cfg.memory.sizes))}: extended")
    memory = user_memory.covering(*(alg for _, alg in hand))

    def run(alg: Algorithm) -> np.ndarray:
        result = _evaluator(cfg, which, batch, memory, seed).evaluate_many([alg])
        return np.asarray(result.per_task[0], dtype=np.float64)

    program_results = [MethodResult(label, "program", "program", run(alg))
                       for label, alg in programs]
    baseline_results = []
    for n in names:
        if n in HAND_DESIGNED:
            alg = dict(hand)[n]
            baseline_results.append(MethodResult(n, designs[n][0],
                                                 "hand-designed", run(alg)))
        else:
            per_task = np.array([sklearn_fitness(n, t, cfg.max_abs_error)
                                 for t in tasks])
            baseline_results.append(MethodResult(n, _sklearn_label(n, tasks),
                                                 "scikit-learn", per_task))
    eval_types = sorted({t.eval_type.name for t in tasks})
    return Comparison(config=cfg.source, collection=which, eval_types=eval_types,
                      programs=program_results, baselines=baseline_results,
                      learning_rate=learning_rate, seed=seed)
