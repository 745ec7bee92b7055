"""A pure-NumPy runtime for evolved programs: train and run one program as a model.

It does what the numba executor does for one task (docs/semantics.md §4),
without numba and without the rest of automl_zero:

* ``Xoshiro256Plus``: the kernel's random generator, draw for draw;
* the op helpers the ``numpy`` column of the op table uses (sums in the
  kernel's order of additions, the C library's scalar functions, ...);
* ``generate_epochs``: the executor's epoch orders;
* ``ProgramModel``: Setup once, then ``epochs`` passes of Predict (+ sigmoid
  for binary classification, + softmax of v2 for multi-class classification)
  + Learn over the training examples; predictions run Predict on each row,
  memory persisting from row to row.

Everything between the two ``EMBEDDED RUNTIME`` marker lines is copied verbatim
into the modules written by ``automl_zero.export.python_module``: that part
uses only ``math`` and ``numpy`` (imported above it) and never automl_zero. Below
the markers: the interpreter that runs programs held as instruction rows
through the op table's statements (the in-package estimators use it).

Differences from the executor, by design: no validation passes between epochs
(a model has no validation set; the executor validates after every epoch, and
those Predicts change memory), and a training prediction that fails the error
check stops training and marks the model diverged (its predictions are NaN)
instead of scoring the task.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable, Mapping, Sequence

import numpy as np

__all__ = [
    "Xoshiro256Plus",
    "ProgramModel",
    "RowComponent",
    "compile_statement",
    "generate_epochs",
    "sigmoid",
    "class_probabilities",
    "argmax_last",
    "task_kind",
    "lane_sum",
    "tree_sum",
    "pairwise_sum",
    "matvec",
    "matmul",
    "float_to_index",
    "c_sin",
    "c_cos",
    "c_tan",
    "c_arcsin",
    "c_arccos",
    "c_arctan",
    "c_exp",
    "c_log",
    "DEFAULT_MAX_ABS_ERROR",
    "EPOCHS_SEED_OFFSET",
    "RUNTIME_BEGIN",
    "RUNTIME_END",
]

RUNTIME_BEGIN = "# ==== EMBEDDED RUNTIME: begin ===="
RUNTIME_END = "# ==== EMBEDDED RUNTIME: end ===="

# ==== EMBEDDED RUNTIME: begin ====
# ---------------------------------------------------------------------------
# Runtime: trains and runs the program exactly as automl_zero's executor runs
# it on one task (same operations, same order of additions, same random draws).
# ---------------------------------------------------------------------------

DEFAULT_MAX_ABS_ERROR = 100.0
# Epoch orders come from Generator(MT19937((seed + this) mod 2**32)), as the executor's.
EPOCHS_SEED_OFFSET = 3274582109

_MASK64 = (1 << 64) - 1
_SM_GAMMA = 0x9E3779B97F4A7C15
_SM_MUL1 = 0xBF58476D1CE4E5B9
_SM_MUL2 = 0x94D049BB133111EB
_TWO_TO_MINUS_53 = 1.0 / 9007199254740992.0


class Xoshiro256Plus:
    """The random generator of the random ops, draw for draw the executor's:
    xoshiro256+ seeded through splitmix64 (64-bit arithmetic on Python ints,
    masked), uniforms with 53 random bits, standard normals by Marsaglia's polar
    method with the second value of each pair cached for the next draw."""

    __slots__ = ("state", "has_cached", "cached")

    def __init__(self, seed: int = 0) -> None:
        self.seed(seed)

    def seed(self, seed: int) -> None:
        """Reset the state from ``seed`` (taken modulo 2**64), dropping any cached normal."""
        x = int(seed) & _MASK64
        state = []
        for _ in range(4):
            x = (x + _SM_GAMMA) & _MASK64
            z = ((x ^ (x >> 30)) * _SM_MUL1) & _MASK64
            z = ((z ^ (z >> 27)) * _SM_MUL2) & _MASK64
            state.append(z ^ (z >> 31))
        self.state = state
        self.has_cached = False
        self.cached = 0.0

    def copy(self) -> Xoshiro256Plus:
        """An independent generator in the same state."""
        other = Xoshiro256Plus.__new__(Xoshiro256Plus)
        other.state = list(self.state)
        other.has_cached = self.has_cached
        other.cached = self.cached
        return other

    def uniform01(self) -> float:
        """One draw in [0, 1): the top 53 bits of the xoshiro256+ output."""
        s0, s1, s2, s3 = self.state
        result = (s0 + s3) & _MASK64
        t = (s1 << 17) & _MASK64
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = ((s3 << 45) & _MASK64) | (s3 >> 19)
        self.state = [s0, s1, s2, s3]
        return (result >> 11) * _TWO_TO_MINUS_53

    def normal(self) -> float:
        """One standard normal draw (the cached second value of a pair first)."""
        if self.has_cached:
            self.has_cached = False
            return self.cached
        while True:
            x = 2.0 * self.uniform01() - 1.0
            y = 2.0 * self.uniform01() - 1.0
            r = x * x + y * y
            if r < 1.0 and r != 0.0:
                break
        f = math.sqrt(-2.0 * math.log(r) / r)
        self.has_cached = True
        self.cached = y * f
        return x * f

    def _fill(self, draw, shape) -> np.ndarray:
        # Elements are drawn in row-major order (i, then j), as the kernel's loops.
        out = np.empty(shape)
        flat = out.reshape(-1)  # a view: out is C-contiguous
        for k in range(flat.size):
            flat[k] = draw()
        return out

    def uniform(self, low: float, high: float, shape=None):
        """Uniform draws in [low, high): a float (``shape`` None) or an array of
        ``shape``. An empty, reversed or non-finite range gives ``low`` without
        drawing (the original's rule)."""
        low = float(low)
        high = float(high)
        if not (low < high and math.isfinite(high - low)):
            return low if shape is None else np.full(shape, low)
        if shape is None:
            return low + (high - low) * self.uniform01()
        return low + (high - low) * self._fill(self.uniform01, shape)

    def gaussian(self, shape=None):
        """Standard normal draws: a float (``shape`` None) or an array of ``shape``."""
        if shape is None:
            return self.normal()
        return self._fill(self.normal, shape)


# Scalar functions of the C library, which the executor calls: they can differ
# from NumPy's own implementations in the last bit. IEEE results (NaN, inf)
# replace Python's exceptions.
def c_exp(x: float) -> float:
    """exp(x); inf on overflow."""
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def c_log(x: float) -> float:
    """Natural log; -inf at 0, NaN below 0."""
    if x > 0.0 or x != x:
        return math.log(x)
    return -math.inf if x == 0.0 else math.nan


def _nan_outside_domain(f, x: float) -> float:
    try:
        return f(x)
    except ValueError:  # sin(inf), arcsin(2), ...
        return math.nan


def c_sin(x: float) -> float:
    """sin(x); NaN at +-inf."""
    return _nan_outside_domain(math.sin, x)


def c_cos(x: float) -> float:
    """cos(x); NaN at +-inf."""
    return _nan_outside_domain(math.cos, x)


def c_tan(x: float) -> float:
    """tan(x); NaN at +-inf."""
    return _nan_outside_domain(math.tan, x)


def c_arcsin(x: float) -> float:
    """arcsin(x); NaN outside [-1, 1]."""
    return _nan_outside_domain(math.asin, x)


def c_arccos(x: float) -> float:
    """arccos(x); NaN outside [-1, 1]."""
    return _nan_outside_domain(math.acos, x)


def c_arctan(x: float) -> float:
    """arctan(x)."""
    return math.atan(x)


def sigmoid(x: float) -> float:
    """1 / (1 + exp(-x)), the probability of the positive class."""
    return 1.0 / (1.0 + c_exp(-x))


def class_probabilities(logits: np.ndarray, k: int) -> np.ndarray:
    """The executor's truncating softmax of ``logits[:k]`` (multi-class tasks):
    the maximum taken left to right with ``>`` (a NaN first entry stays the
    maximum), ``e_i = exp(logits[i] - max)``, the sum added left to right,
    ``e_i / sum``. NaN in, NaN out; never divides by zero (the largest term is 1)."""
    values = [float(logits[i]) for i in range(k)]
    mx = values[0]
    for x in values[1:]:
        if x > mx:
            mx = x
    terms = [c_exp(x - mx) for x in values]
    total = 0.0
    for e in terms:
        total += e
    return np.array([e / total for e in terms])


def argmax_last(probabilities: np.ndarray) -> np.ndarray:
    """The predicted class of each row of ``probabilities`` (n, K): the index of
    the largest entry, ties to the last one (the executor's rule: ``arg = 0;
    for i in 1..K-1: if p[i] >= p[arg]: arg = i``); a row of NaN gives 0."""
    p = np.asarray(probabilities, dtype=np.float64)
    arg = np.zeros(p.shape[0], dtype=np.intp)
    best = p[:, 0].copy()
    for i in range(1, p.shape[1]):
        take = p[:, i] >= best  # False for NaN on either side
        arg[take] = i
        best[take] = p[take, i]
    return arg


_TASK_KINDS = {"regression": "regression", "binary": "binary", "multiclass": "multiclass"}


def task_kind(classification) -> str:
    """"regression", "binary" or "multiclass" from ``classification``: False or
    "regression"; True or "binary" (the prediction is sigmoid(s1), as in
    ACCURACY tasks); "multiclass" (softmax of v2[:K], as in MULTICLASS_ACCURACY
    tasks)."""
    if isinstance(classification, (bool, np.bool_)):
        return "binary" if classification else "regression"
    if isinstance(classification, str) and classification in _TASK_KINDS:
        return _TASK_KINDS[classification]
    raise ValueError(f"classification must be False, True, 'regression', 'binary' or "
                     f"'multiclass', got {classification!r}")


def float_to_index(code: float, F: int) -> int:
    """The element index of a const-set op's index code: int(float32(F) *
    float32(code)) computed in float32, clamped to F - 1."""
    return min(int(np.float32(F) * np.float32(code)), F - 1)


# Sums add their terms in the executor's (the original's) order, so results
# are bit-identical to it (docs/semantics.md §3.5, "Order of additions").
def lane_sum(x: np.ndarray):
    """Sum over the last axis in 4 strided lanes (lane l adds terms l, l + 4, ...
    left to right), then (p0 + p2) + (p1 + p3). A vector gives a scalar, a
    matrix the sum of each row."""
    n = x.shape[-1]
    if n >= 4:
        p = x[..., 0:4].copy()
        full = n - n % 4
        for j in range(4, full, 4):
            p += x[..., j:j + 4]
        if full < n:
            p[..., :n - full] += x[..., full:]
        return (p[..., 0] + p[..., 2]) + (p[..., 1] + p[..., 3])
    if n == 3:
        return (x[..., 0] + x[..., 2]) + x[..., 1]
    if n == 2:
        return x[..., 0] + x[..., 1]
    return x[..., 0]


def tree_sum(x: np.ndarray) -> float:
    """Sum of all elements of a matrix, row-major: packets of 4 terms added
    lane-wise in a neighbour tree, then the lanes as (p0 + p2) + (p1 + p3)."""
    t = np.array(x, dtype=np.float64).reshape(-1)
    n = t.size
    width = 4
    while width < n:
        starts = np.arange(0, n - width, 2 * width)
        # Packet k adds packet k + width lane by lane; the lanes a short last
        # packet lacks keep their value. Within a level no index is both read
        # and written, so the level is one vectorised step per lane.
        for lane in range(4):
            k = starts[starts + width + lane < n] + lane
            t[k] += t[k + width]
        width *= 2
    if n >= 4:
        return (t[0] + t[2]) + (t[1] + t[3])
    if n == 3:
        return (t[0] + t[2]) + t[1]
    if n == 2:
        return t[0] + t[1]
    return t[0]


def pairwise_sum(x: np.ndarray):
    """Sum over the first axis, neighbours first: ((x0 + x1) + (x2 + x3)) + ...
    (an odd last term moves up unchanged)."""
    t = np.array(x, dtype=np.float64)
    n = t.shape[0]
    width = 1
    while width < n:
        t[0:n - width:2 * width] += t[width:n:2 * width]
        width *= 2
    return t[0]


def matvec(mat: np.ndarray, vec: np.ndarray) -> np.ndarray:
    """Matrix-vector product: each row's lane sum; from F = 8 on, 0.0 + it
    (the original's large-matrix kernel starts from +0.0)."""
    out = lane_sum(mat * vec[np.newaxis, :])
    if mat.shape[0] >= 8:
        out = 0.0 + out
    return out


def matmul(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Matrix product: element (i, j) adds x[i, k] * y[k, j] over k pairwise
    below F = 8, as a running sum from +0.0 from F = 8 on."""
    n = x.shape[0]
    if n < 8:
        return pairwise_sum(x.T[:, :, np.newaxis] * y[:, np.newaxis, :])
    out = np.zeros((n, n))
    for k in range(n):
        out += x[:, k, np.newaxis] * y[np.newaxis, k, :]
    return out


def generate_epochs(num_examples: int, num_epochs: int, seed: int) -> np.ndarray:
    """The executor's visiting orders of the training examples, int32
    (num_epochs, num_examples): row 0 the identity, row k the order after k
    shuffles by Generator(MT19937((seed + 3274582109) mod 2**32))."""
    gen = np.random.Generator(np.random.MT19937((int(seed) + EPOCHS_SEED_OFFSET) % 2**32))
    order = np.arange(num_examples, dtype=np.int32)
    epochs = np.empty((num_epochs, num_examples), dtype=np.int32)
    for k in range(num_epochs):
        epochs[k] = order
        gen.shuffle(order)
    return epochs


def _as_2d_float(X, what: str) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"{what} must be a 2-D array (n_samples, n_features), "
                         f"got shape {X.shape}")
    return np.ascontiguousarray(X)


class ProgramModel:
    """One program trained and run on data as the executor runs it on one task.

    ``components`` = (setup, predict, learn), each a function ``f(s, v, m, rng)``
    over the memory: scalars ``s`` (S,), vectors ``v`` (V, F), matrices ``m``
    (M, F, F) and the generator ``rng``. ``memory_sizes`` = (S, V, M) (at least
    2 scalars and 1 vector are allocated). ``random_state`` seeds the
    generator (mod 2**32, as the executor's program seeds; it only matters for
    programs with random ops), ``epoch_seed`` the epoch orders (default:
    ``random_state``). ``features_size``: the number of features X must have
    (None: any, fixed at fit).

    ``classification``: False or "regression" (RMS_ERROR tasks), True or
    "binary" (ACCURACY tasks: labels 0 / 1, the prediction sigmoid(s1)),
    "multiclass" (MULTICLASS_ACCURACY tasks: labels are class ids
    0..K-1, the prediction softmax(v2[:K]); at least 3 vectors are
    allocated). ``num_classes``: K for "multiclass" (None: the largest label
    + 1, at least 2, fixed at fit); K <= F, as the one-hot label fills v1.

    ``fit`` zeroes the memory, seeds the generator, runs Setup, then for each
    epoch and each training example in the executor's order: ``v0 = x``,
    ``s0 = 0``, Predict, ``s1 = sigmoid(s1)`` if binary, the error check
    (``|y - s1|``), ``v0 = x``, ``s0 = y``, Learn. Multi-class: ``v0 = x``,
    ``s0 = 0``, ``v1 = 0``, Predict, ``v2[:K] = softmax(v2[:K])`` and ``v2[K:]
    = 0`` (written back), the error check (``|1 - v2[y]|``), ``v0 = x``,
    ``s0 = 0``, ``v1 = one-hot(y)``, Learn. A prediction whose error is >
    max_abs_error or NaN stops training: the model is ``diverged`` and
    predicts NaN. There is no validation between epochs (the executor's
    validation Predicts change memory, so after more than one epoch the memory
    can differ from the executor's). ``predict`` runs Predict on each row in
    order (``v0 = row``, ``s0 = 0``, multi-class also ``v1 = 0``) from a copy
    of the fitted memory and generator, memory persisting from row to row,
    and returns ``s1`` per row (binary: ``sigmoid(s1)``; multi-class: the
    (n, K) class probabilities softmax(v2[:K]); neither written back).
    """

    def __init__(self, components, memory_sizes, *, classification=False,
                 num_classes: int | None = None, epochs: int = 1, random_state: int = 0, epoch_seed: int | None = None,
                 max_abs_error: float = DEFAULT_MAX_ABS_ERROR,
                 features_size: int | None = None) -> None:
        components = tuple(components)
        if len(components) != 3 or not all(callable(c) for c in components):
            raise ValueError("components must be three functions (setup, predict, learn)")
        sizes = tuple(int(n) for n in memory_sizes)
        if len(sizes) != 3 or min(sizes) < 0:
            raise ValueError(f"memory_sizes must be 3 non-negative numbers, got {memory_sizes!r}")
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
            raise ValueError(f"epochs must be an integer >= 1, got {epochs!r}")
        if isinstance(random_state, bool) or not isinstance(random_state, (int, np.integer)):
            raise ValueError(f"random_state must be an integer, got {random_state!r}")
        if epoch_seed is not None and (isinstance(epoch_seed, bool)
                                       or not isinstance(epoch_seed, (int, np.integer))):
            raise ValueError(f"epoch_seed must be an integer or None, got {epoch_seed!r}")
        try:
            max_abs_error = float(max_abs_error)
        except (TypeError, ValueError):
            raise ValueError(f"max_abs_error must be a number > 0, got {max_abs_error!r}") from None
        if not max_abs_error > 0.0:  # NaN fails too
            raise ValueError(f"max_abs_error must be a number > 0, got {max_abs_error!r}")
        kind = task_kind(classification)
        if num_classes is not None:
            if kind != "multiclass":
                raise ValueError("num_classes is only for classification='multiclass'")
            if (isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer))
                    or num_classes < 2):
                raise ValueError(f"num_classes must be an integer >= 2, got {num_classes!r}")
            num_classes = int(num_classes)
            if features_size is not None and num_classes > int(features_size):
                raise ValueError(_too_many_classes(num_classes, int(features_size)))
        self.components = components
        # Multi-class tasks read the label from v1 and the prediction from v2.
        self.memory_sizes = (max(sizes[0], 2), max(sizes[1], 3 if kind == "multiclass" else 1),
                             sizes[2])
        self.kind = kind
        self.classification = kind != "regression"
        self.num_classes = num_classes
        self.epochs = int(epochs)
        self.random_state = int(random_state)
        self.epoch_seed = self.random_state if epoch_seed is None else int(epoch_seed)
        self.max_abs_error = max_abs_error
        self.features_size = None if features_size is None else int(features_size)
        # Fitted state: memory (s, v, m) and generator after training.
        self.memory: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self.rng: Xoshiro256Plus | None = None
        self.diverged = False
        self.diverged_at: int | None = None  # the training step that failed (0-based)
        self.train_steps = 0  # Predicts run in training, a failing one included

    def _check_features(self, X: np.ndarray) -> None:
        if self.features_size is not None and X.shape[1] != self.features_size:
            raise ValueError(f"X has {X.shape[1]} features, but the program expects "
                             f"{self.features_size} features")

    def _check_classes(self, y: np.ndarray, F: int) -> int:
        """K of a multi-class fit; the labels must be class ids 0..K-1."""
        if not np.all((y >= 0) & (y == np.floor(y))):  # NaN fails too
            raise ValueError("multi-class labels y must be class ids 0, 1, ..., "
                             "num_classes - 1")
        k = self.num_classes
        if k is None:
            k = max(int(y.max()) + 1, 2)
        elif not np.all(y < k):
            raise ValueError(f"multi-class labels y must be class ids 0..{k - 1} "
                             f"(num_classes={k}), found {y.max()!r}")
        if k > F:
            raise ValueError(_too_many_classes(k, F))
        return k

    def fit(self, X, y) -> ProgramModel:
        """Train on examples ``X`` (n, F) with labels ``y`` (n,) (binary: 0 or 1;
        multi-class: class ids 0..K-1)."""
        X = _as_2d_float(X, "X")
        y = np.asarray(y, dtype=np.float64)
        if y.ndim != 1 or y.shape[0] != X.shape[0]:
            raise ValueError(f"y must be 1-D with one label per row of X ({X.shape[0]}), "
                             f"got shape {y.shape}")
        if X.shape[0] == 0 or X.shape[1] == 0:
            raise ValueError(f"X must have at least one row and one column, got shape {X.shape}")
        self._check_features(X)
        n, F = X.shape
        multiclass = self.kind == "multiclass"
        k = self._check_classes(y, F) if multiclass else 0
        binary = self.kind == "binary"
        S, V, M = self.memory_sizes
        s = np.zeros(S)
        v = np.zeros((V, F))
        m = np.zeros((M, F, F))
        rng = Xoshiro256Plus(self.random_state % 2**32)
        setup, predict, learn = self.components
        max_abs_error = self.max_abs_error
        self.diverged = False
        self.diverged_at = None
        steps = 0
        with np.errstate(all="ignore"):
            setup(s, v, m, rng)
            for order in generate_epochs(n, self.epochs, self.epoch_seed):
                for i in order:
                    x = X[i]
                    label = y[i]
                    v[0] = x
                    s[0] = 0.0
                    if multiclass:
                        v[1] = 0.0  # Predict cannot see the label
                    predict(s, v, m, rng)
                    steps += 1
                    if multiclass:
                        # Written back: Learn sees the probabilities.
                        v[2, :k] = class_probabilities(v[2], k)
                        v[2, k:] = 0.0
                        error = abs(1.0 - v[2, int(label)])
                    else:
                        if binary:
                            # Written back: Learn sees the probability.
                            s[1] = sigmoid(s[1])
                        error = abs(label - s[1])
                    if not error <= max_abs_error:  # NaN fails too
                        self.diverged = True
                        self.diverged_at = steps - 1
                        break
                    v[0] = x
                    if multiclass:
                        s[0] = 0.0
                        v[1] = 0.0
                        v[1, int(label)] = 1.0
                    else:
                        s[0] = label
                    learn(s, v, m, rng)
                if self.diverged:
                    break
        self.features_size = F
        if multiclass:
            self.num_classes = k
        self.memory = (s, v, m)
        self.rng = rng
        self.train_steps = steps
        return self

    def predict(self, X) -> np.ndarray:
        """``s1`` after Predict for each row of ``X`` in order (binary: the
        probability of class 1; multi-class: an (n, K) array, the class
        probabilities); all NaN if training diverged."""
        if self.memory is None or self.rng is None:
            raise ValueError("this ProgramModel is not fitted yet; call fit first")
        X = _as_2d_float(X, "X")
        self._check_features(X)
        multiclass = self.kind == "multiclass"
        k = self.num_classes
        out = np.full((X.shape[0], k) if multiclass else X.shape[0], np.nan)
        if self.diverged:
            return out
        s, v, m = (a.copy() for a in self.memory)
        rng = self.rng.copy()
        predict = self.components[1]
        binary = self.kind == "binary"
        with np.errstate(all="ignore"):
            for i in range(X.shape[0]):
                v[0] = X[i]
                s[0] = 0.0
                if multiclass:
                    v[1] = 0.0
                predict(s, v, m, rng)
                if multiclass:  # not written back, as in the executor's validation
                    out[i] = class_probabilities(v[2], k)
                else:
                    out[i] = sigmoid(s[1]) if binary else s[1]
        return out


def _too_many_classes(k: int, F: int) -> str:
    return (f"{k} classes need at least {k} features, got {F}: a multi-class program "
            f"reads the one-hot label from v1 and writes the class scores to v2, "
            f"vectors of F = {F} entries, so it tells at most {F} classes apart")
# ==== EMBEDDED RUNTIME: end ====


# ---------------------------------------------------------------------------
# Interpreter: programs held as instruction rows, run through the statements
# of the op table's ``numpy`` column (in-package only; exported modules hold
# the program as straight-line functions instead).
# ---------------------------------------------------------------------------

_COMPILED: dict[str, Callable] = {}
_OP_ARGS = "s, v, m, a, b, o, d0, d1, d2, F, rng"


def compile_statement(statement: str) -> Callable:
    """The function ``f(s, v, m, a, b, o, d0, d1, d2, F, rng)`` that runs one
    op statement in this module's namespace (compiled once per statement)."""
    fn = _COMPILED.get(statement)
    if fn is None:
        source = f"def _op({_OP_ARGS}):\n{textwrap.indent(statement, '    ')}\n"
        namespace: dict = {}
        exec(compile(source, f"<op statement {statement!r}>", "exec"), globals(), namespace)
        fn = _COMPILED[statement] = namespace["_op"]
    return fn


class RowComponent:
    """A component function held as rows (op, in1, in2, out, d0, d1, d2) and
    run instruction by instruction through ``statements`` (op code -> NumPy
    statement); call it as ``f(s, v, m, rng)``. Pickles as its rows."""

    def __init__(self, rows: Sequence[Sequence[float]], statements: Mapping[int, str]) -> None:
        self.rows = tuple((int(r[0]), int(r[1]), int(r[2]), int(r[3]),
                           float(r[4]), float(r[5]), float(r[6])) for r in rows)
        missing = sorted({r[0] for r in self.rows} - set(statements))
        if missing:
            raise ValueError(f"no NumPy statement for op codes {missing}")
        self.statements = {r[0]: statements[r[0]] for r in self.rows}
        self._compile()

    def _compile(self) -> None:
        # Statements that do nothing (NO_OP) are dropped.
        self._calls = [(compile_statement(self.statements[c]), a, b, o, d0, d1, d2)
                       for c, a, b, o, d0, d1, d2 in self.rows
                       if self.statements[c].strip() != "pass"]

    def __call__(self, s: np.ndarray, v: np.ndarray, m: np.ndarray,
                 rng: Xoshiro256Plus) -> None:
        F = v.shape[1]
        for fn, a, b, o, d0, d1, d2 in self._calls:
            fn(s, v, m, a, b, o, d0, d1, d2, F, rng)

    def __getstate__(self) -> dict:
        return {"rows": self.rows, "statements": self.statements}

    def __setstate__(self, state: dict) -> None:
        self.rows = state["rows"]
        self.statements = state["statements"]
        self._compile()
