"""A slow, obviously-correct reference interpreter for AutoML-Zero (tests only).

Written from docs/semantics.md (§1 memory, §3 ops and numerics, §5 execution), not from
the ``body`` strings of ``automl_zero/ops.py``, so that the numba kernel can be
checked against an independent implementation.

Conventions:

* Memory is three float64 banks: ``s`` (S,), ``v`` (V, F), ``m`` (M, F, F).
* Every op computes its whole right-hand side into a fresh value first and then
  assigns it, so aliasing (``m0 = matmul(m0, m0)``) is correct by construction.
  Only the const-set ops write a single element (docs/semantics.md §3.5).
* Reductions (dot, norms, means, standard deviations, matrix products) add
  their terms in the original's order (docs/semantics.md §3.5, "Order of
  additions in sums"), one addition at a time, never through numpy's sums:
  :func:`_lanes_sum` for a run of F terms (4 strided lanes, then
  ``(p0 + p2) + (p1 + p3)``), :func:`_tree_sum` for all F * F terms of a matrix
  (packets of 4 added lane-wise in a neighbour tree, then the lanes),
  :func:`_pairwise_sum` for column norms and for the matrix product below
  F = 8, a running sum from +0.0 for the matrix product from F = 8 on. Sums
  start from their first term, so a sum of -0.0 terms is -0.0 (not so for the
  matrix-vector and matrix products from F = 8 on).
* Scalar transcendental functions use :mod:`math` (the C library's ``sin``,
  ``exp``...), with IEEE special cases (NaN, +-inf) spelled out explicitly,
  because :mod:`math` raises where C returns NaN or inf.
* Random ops (59-64) draw from a ``numpy.random.Generator``: the distributions
  and interval conventions of docs/semantics.md §3.5 are followed, the streams of the numba
  kernel are not reproduced.
* MULTICLASS_ACCURACY tasks (K classes, labels the class ids 0..K-1): Predict
  sees s0 = 0, v0 = the features and v1 = 0 (the label is hidden); the logits
  are v2[:K]; their softmax (shifted by the first-wins maximum, the
  exponentials added left to right from +0.0) is written back into v2 in
  training (v2[K:] = 0) and the error is |1 - p(label)|; Learn sees s0 = 0,
  v1 = one-hot(label), v0 = the features; validation scores the argmax of the
  probabilities (ties to the last class, so NaN gives class 0) and does not
  write them back (docs/semantics.md §4.13).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "ACCURACY",
    "MIN_FITNESS",
    "MULTICLASS_ACCURACY",
    "NAIVE_SIGNATURES",
    "RANDOM_OPS",
    "RMS_ERROR",
    "NaiveMemory",
    "NaiveRun",
    "flip_and_squash",
    "float_to_index",
    "last_argmax",
    "naive_evaluate",
    "naive_op",
    "naive_run",
    "naive_train_steps",
    "sigmoid",
    "softmax",
]

RMS_ERROR = 1
ACCURACY = 4
MULTICLASS_ACCURACY = 5
MIN_FITNESS = 0.0
MINUS_TWO_OVER_PI = -0.63661977236758138243  # the original's kMinusTwoOverPi

NAN = float("nan")
INF = float("inf")


# --------------------------------------------------------------------------
# Memory
# --------------------------------------------------------------------------


@dataclass
class NaiveMemory:
    """Scalars ``s`` (S,), vectors ``v`` (V, F), matrices ``m`` (M, F, F)."""

    s: np.ndarray
    v: np.ndarray
    m: np.ndarray

    @classmethod
    def zeros(cls, num_scalars: int, num_vectors: int, num_matrices: int,
              features_size: int) -> NaiveMemory:
        f = features_size
        return cls(np.zeros(num_scalars), np.zeros((num_vectors, f)),
                   np.zeros((num_matrices, f, f)))

    def copy(self) -> NaiveMemory:
        return NaiveMemory(self.s.copy(), self.v.copy(), self.m.copy())


# --------------------------------------------------------------------------
# Scalar helpers (IEEE semantics of the C library, without Python exceptions)
# --------------------------------------------------------------------------


def _div(x: float, y: float) -> float:
    with np.errstate(all="ignore"):
        return float(np.float64(x) / np.float64(y))


def _sqrt(x: float) -> float:
    return math.sqrt(x) if x >= 0.0 else NAN  # NaN and negatives -> NaN


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return INF


def _log(x: float) -> float:
    if math.isnan(x) or x < 0.0:
        return NAN
    if x == 0.0:
        return -INF
    return math.log(x)


def _periodic(fn: Callable[[float], float]) -> Callable[[float], float]:
    def wrapped(x: float) -> float:
        return NAN if math.isinf(x) else fn(x)  # sin(inf) = NaN in C

    return wrapped


def _inverse_trig(fn: Callable[[float], float]) -> Callable[[float], float]:
    def wrapped(x: float) -> float:
        return NAN if abs(x) > 1.0 else fn(x)  # outside [-1, 1] -> NaN

    return wrapped


_sin = _periodic(math.sin)
_cos = _periodic(math.cos)
_tan = _periodic(math.tan)
_asin = _inverse_trig(math.asin)
_acos = _inverse_trig(math.acos)


def sigmoid(x: float) -> float:
    """``1 / (1 + exp(-x))``: sigmoid(+inf) = 1, sigmoid(-inf) = 0, NaN -> NaN."""
    return 1.0 / (1.0 + _exp(-x))


def softmax(logits: Sequence[float]) -> list[float]:
    """Class probabilities of ``logits`` (the K entries of v2): exp(z_i - mx)
    over their sum, with mx the maximum found scanning left to right and
    replacing only on a strictly larger value (so a NaN first logit is the
    maximum, later NaNs never are). Any NaN or +inf logit, or all logits -inf,
    gives all-NaN probabilities (NaN - x, inf - inf, -inf + inf)."""
    z = [float(x) for x in logits]
    mx = z[0]
    for x in z[1:]:
        if x > mx:
            mx = x
    exps = [_exp(x - mx) for x in z]  # Python floats: inf - inf is NaN, no error
    total = 0.0
    for e in exps:
        total += e
    return [_div(e, total) for e in exps]


def last_argmax(probabilities: Sequence[float]) -> int:
    """The predicted class: the index of the largest probability, the last one
    among ties; a NaN never wins a comparison, so all-NaN gives class 0."""
    best = 0
    for i in range(1, len(probabilities)):
        if probabilities[i] >= probabilities[best]:  # False with a NaN
            best = i
    return best


def flip_and_squash(x: float) -> float:
    """Map an RMS error in [0, inf) to a fitness in (0, 1]; NaN or inf give 0."""
    if math.isnan(x) or math.isinf(x):
        return 0.0
    return 1.0 + MINUS_TWO_OVER_PI * math.atan(x)


def float_to_index(d: float, features_size: int) -> int:
    """The original's FloatToIndex: int(float32(F) * float32(d)) (docs/semantics.md §1.4)."""
    return int(np.float32(features_size) * np.float32(d))


def _uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    """absl::Uniform(IntervalOpen, lo, hi): lo when lo >= hi or hi - lo is not
    finite (docs/semantics.md §3.4); otherwise a draw from the open interval."""
    if not lo < hi or not math.isfinite(hi - lo):
        return lo
    while True:
        x = float(rng.uniform(lo, hi))
        if lo < x < hi:
            return x


def _gaussian(rng: np.random.Generator, mu: float, sigma: float) -> float:
    return mu + sigma * float(rng.standard_normal())


# --------------------------------------------------------------------------
# Sums: the order of additions (docs/semantics.md §3.5)
# --------------------------------------------------------------------------

#: From this F on the original's matrix-vector and matrix products take
#: Eigen's large-matrix kernels (EIGEN_CACHEFRIENDLY_PRODUCT_THRESHOLD).
LARGE_PRODUCT_F = 8


def _seq_sum(values: Any) -> float:
    """A plain running sum from +0.0 in iteration order (a sum of -0.0 is +0.0)."""
    acc = 0.0
    for x in values:
        acc += float(x)
    return acc


def _lane_combine(p: Sequence[float]) -> float:
    """Lanes p0..p3 to one value: (p0 + p2) + (p1 + p3), absent lanes left out."""
    if len(p) == 4:
        return (p[0] + p[2]) + (p[1] + p[3])
    if len(p) == 3:
        return (p[0] + p[2]) + p[1]
    if len(p) == 2:
        return p[0] + p[1]
    return p[0]


def _neighbour_tree(items: list, add: Callable[[Any, Any], Any]) -> Any:
    """Reduce ``items`` by adding neighbours, level by level ((0+1), (2+3), ...;
    an odd last item moves up unchanged) until one is left. For a power-of-two
    count this is the balanced tree (first half) + (second half)."""
    while len(items) > 1:
        items = [add(items[k], items[k + 1]) if k + 1 < len(items) else items[k]
                 for k in range(0, len(items), 2)]
    return items[0]


def _add_packets(left: list[float], right: list[float]) -> list[float]:
    """Lane-wise sum; lanes the (short, last) right packet lacks keep the left value."""
    return [a + b for a, b in zip(left, right, strict=False)] + left[len(right):]


def _lanes_sum(terms: Sequence[float]) -> float:
    """A run of F terms (a vector, a matrix row) in the original's SIMD order:
    4 strided lanes, lane l adding terms l, l + 4, ... left to right from its
    first term (no 0.0), then (p0 + p2) + (p1 + p3)."""
    lanes = [list(terms[lane::4]) for lane in range(min(4, len(terms)))]
    return _lane_combine([_left_to_right(lane) for lane in lanes])


def _left_to_right(terms: Sequence[float]) -> float:
    acc = terms[0]
    for x in terms[1:]:
        acc += x
    return acc


def _tree_sum(terms: Sequence[float]) -> float:
    """The F * F terms of a matrix (row-major) in the original's SIMD order:
    packets of 4 terms added lane-wise in a neighbour tree, then the lanes as
    (p0 + p2) + (p1 + p3). Starts from the first term (no 0.0)."""
    packets = [list(terms[k:k + 4]) for k in range(0, len(terms), 4)]
    return _lane_combine(_neighbour_tree(packets, _add_packets))


def _pairwise_sum(terms: Sequence[float]) -> float:
    """Scalar additions in a neighbour tree: ((t0 + t1) + (t2 + t3)) + ..."""
    return _neighbour_tree(list(terms), lambda a, b: a + b)


def _simd_sum(values: np.ndarray) -> float:
    """A vector's or a matrix's sum in the original's order (_lanes_sum for a
    vector or row, _tree_sum for a whole matrix)."""
    flat = _flat(values)
    return _tree_sum(flat) if np.ndim(values) == 2 else _lanes_sum(flat)


def _flat(values: np.ndarray) -> list[float]:
    return [float(x) for x in np.ravel(values)]  # row-major for matrices


def _dot(x: np.ndarray, y: np.ndarray) -> float:
    return _lanes_sum([float(a) * float(b) for a, b in zip(x, y, strict=True)])


def _naive_std(values: np.ndarray) -> float:
    """Population std with the naive formula sqrt(E[x^2] - E[x]^2) (docs/semantics.md §3.5)."""
    flat = np.asarray(values, dtype=np.float64)
    n = flat.size
    mean = _simd_sum(flat) / n
    with np.errstate(all="ignore"):
        squares = flat * flat
    return _sqrt(_simd_sum(squares) / n - mean * mean)


# --------------------------------------------------------------------------
# Ops
# --------------------------------------------------------------------------

# Each entry: (in1 kind, in2 kind, out kind, rhs). Kinds are "s", "v", "m" or
# None. ``rhs(mem, a, b, d, F, rng)`` returns the new value of the output
# address (a float, an (F,) or an (F, F) array), or None when it wrote memory
# itself (the const-set ops, which change one element only).
_Rhs = Callable[[NaiveMemory, int, int, tuple, int, Any], Any]


def _ew(fn: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
    """Element-wise numpy expression with IEEE errors silenced."""

    def wrapped(*args: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            return np.array(fn(*args), dtype=np.float64)

    return wrapped


_recip = _ew(lambda x: 1.0 / x)
_vabs = _ew(np.abs)
_add = _ew(lambda x, y: x + y)
_sub = _ew(lambda x, y: x - y)
_mul = _ew(lambda x, y: x * y)
_vdiv = _ew(lambda x, y: x / y)
_step_strict = _ew(lambda x: np.where(x > 0.0, 1.0, 0.0))  # NaN -> 0
# std::min(x, y) = y < x ? y : x; std::max(x, y) = x < y ? y : x.
_std_min = _ew(lambda x, y: np.where(y < x, y, x))
_std_max = _ew(lambda x, y: np.where(x < y, y, x))
# The original's matrix ops: x < y ? x : y and x > y ? x : y.
_tern_min = _ew(lambda x, y: np.where(x < y, x, y))
_tern_max = _ew(lambda x, y: np.where(x > y, x, y))


def _matvec(mat: np.ndarray, vec: np.ndarray) -> np.ndarray:
    """Each element the dot of a row and ``vec``; from F = 8 on plus +0.0 (a
    -0.0 result becomes +0.0), as Eigen's matrix-vector kernel."""
    if mat.shape[0] >= LARGE_PRODUCT_F:
        return np.array([0.0 + _dot(row, vec) for row in mat])
    return np.array([_dot(row, vec) for row in mat])


def _matmul(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """out[i, j] sums x[i, k] * y[k, j] over k: pairwise below F = 8, a running
    sum from +0.0 from F = 8 on."""
    f = x.shape[0]
    reduce = _pairwise_sum if f < LARGE_PRODUCT_F else _seq_sum
    out = np.zeros((f, f))
    for i in range(f):
        for j in range(f):
            out[i, j] = reduce([float(x[i, k]) * float(y[k, j]) for k in range(f)])
    return out


def _outer(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    f = x.shape[0]
    out = np.zeros((f, f))
    with np.errstate(all="ignore"):
        for i in range(f):
            for j in range(f):
                out[i, j] = x[i] * y[j]
    return out


def _norm(values: np.ndarray) -> float:
    values = np.asarray(values, dtype=np.float64)
    with np.errstate(all="ignore"):
        return _sqrt(_simd_sum(values * values))


def _column_norms(mat: np.ndarray) -> np.ndarray:
    """Norm of each column, its squares summed pairwise over the rows."""
    return np.array([_sqrt(_pairwise_sum([x * x for x in _flat(col)]))
                     for col in mat.T])


def _mean(values: np.ndarray) -> float:
    return _simd_sum(np.asarray(values, dtype=np.float64)) / np.size(values)


def _vector_const_set(mem: NaiveMemory, o: int, d: tuple, f: int) -> None:
    mem.v[o, float_to_index(d[0], f)] = d[1]


def _matrix_const_set(mem: NaiveMemory, o: int, d: tuple, f: int) -> None:
    mem.m[o, float_to_index(d[0], f), float_to_index(d[1], f)] = d[2]


def _fill(f: int, shape: tuple[int, ...], draw: Callable[[], float]) -> np.ndarray:
    # Row-major draw order (i, then j), as the original's FillUniform/FillGaussian.
    out = np.zeros(shape)
    for idx in np.ndindex(*shape):
        out[idx] = draw()
    return out


_S, _V, _M = "s", "v", "m"

_OPS: dict[int, tuple[str | None, str | None, str | None, _Rhs | None]] = {
    0: (None, None, None, None),  # NO_OP
    # Scalar arithmetic.
    1: (_S, _S, _S, lambda M, a, b, d, F, r: float(M.s[a]) + float(M.s[b])),
    2: (_S, _S, _S, lambda M, a, b, d, F, r: float(M.s[a]) - float(M.s[b])),
    3: (_S, _S, _S, lambda M, a, b, d, F, r: float(M.s[a]) * float(M.s[b])),
    4: (_S, _S, _S, lambda M, a, b, d, F, r: _div(M.s[a], M.s[b])),
    5: (_S, None, _S, lambda M, a, b, d, F, r: abs(float(M.s[a]))),
    6: (_S, None, _S, lambda M, a, b, d, F, r: _div(1.0, M.s[a])),
    7: (_S, None, _S, lambda M, a, b, d, F, r: _sin(float(M.s[a]))),
    8: (_S, None, _S, lambda M, a, b, d, F, r: _cos(float(M.s[a]))),
    9: (_S, None, _S, lambda M, a, b, d, F, r: _tan(float(M.s[a]))),
    10: (_S, None, _S, lambda M, a, b, d, F, r: _asin(float(M.s[a]))),
    11: (_S, None, _S, lambda M, a, b, d, F, r: _acos(float(M.s[a]))),
    12: (_S, None, _S, lambda M, a, b, d, F, r: math.atan(float(M.s[a]))),
    13: (_S, None, _S, lambda M, a, b, d, F, r: _exp(float(M.s[a]))),
    14: (_S, None, _S, lambda M, a, b, d, F, r: _log(float(M.s[a]))),
    # Heaviside: >= 0 for scalars, strict > 0 for vectors and matrices.
    15: (_S, None, _S, lambda M, a, b, d, F, r: 1.0 if M.s[a] >= 0.0 else 0.0),
    16: (_V, None, _V, lambda M, a, b, d, F, r: _step_strict(M.v[a])),
    17: (_M, None, _M, lambda M, a, b, d, F, r: _step_strict(M.m[a])),
    # Vector ops.
    18: (_S, _V, _V, lambda M, a, b, d, F, r: _mul(M.v[b], M.s[a])),
    19: (_S, None, _V, lambda M, a, b, d, F, r: np.full(F, M.s[a])),
    20: (_V, None, _V, lambda M, a, b, d, F, r: _recip(M.v[a])),
    21: (_V, None, _S, lambda M, a, b, d, F, r: _norm(M.v[a])),
    22: (_V, None, _V, lambda M, a, b, d, F, r: _vabs(M.v[a])),
    23: (_V, _V, _V, lambda M, a, b, d, F, r: _add(M.v[a], M.v[b])),
    24: (_V, _V, _V, lambda M, a, b, d, F, r: _sub(M.v[a], M.v[b])),
    25: (_V, _V, _V, lambda M, a, b, d, F, r: _mul(M.v[a], M.v[b])),
    26: (_V, _V, _V, lambda M, a, b, d, F, r: _vdiv(M.v[a], M.v[b])),
    27: (_V, _V, _S, lambda M, a, b, d, F, r: _dot(M.v[a], M.v[b])),
    28: (_V, _V, _M, lambda M, a, b, d, F, r: _outer(M.v[a], M.v[b])),
    # Matrix ops.
    29: (_S, _M, _M, lambda M, a, b, d, F, r: _mul(M.m[b], M.s[a])),
    30: (_M, None, _M, lambda M, a, b, d, F, r: _recip(M.m[a])),
    31: (_M, _V, _V, lambda M, a, b, d, F, r: _matvec(M.m[a], M.v[b])),
    # Column broadcast: every column equals v (m[i, j] = v[i]); row broadcast:
    # every row equals v (m[i, j] = v[j]).
    32: (_V, None, _M, lambda M, a, b, d, F, r: np.repeat(M.v[a][:, None], F, 1)),
    33: (_V, None, _M, lambda M, a, b, d, F, r: np.repeat(M.v[a][None, :], F, 0)),
    34: (_M, None, _S, lambda M, a, b, d, F, r: _norm(M.m[a])),
    35: (_M, None, _V, lambda M, a, b, d, F, r: _column_norms(M.m[a])),
    36: (_M, None, _V, lambda M, a, b, d, F, r: np.array(
        [_norm(M.m[a][i, :]) for i in range(F)])),  # row norms
    37: (_M, None, _M, lambda M, a, b, d, F, r: M.m[a].T.copy()),
    38: (_M, None, _M, lambda M, a, b, d, F, r: _vabs(M.m[a])),
    39: (_M, _M, _M, lambda M, a, b, d, F, r: _add(M.m[a], M.m[b])),
    40: (_M, _M, _M, lambda M, a, b, d, F, r: _sub(M.m[a], M.m[b])),
    41: (_M, _M, _M, lambda M, a, b, d, F, r: _mul(M.m[a], M.m[b])),
    42: (_M, _M, _M, lambda M, a, b, d, F, r: _vdiv(M.m[a], M.m[b])),
    43: (_M, _M, _M, lambda M, a, b, d, F, r: _matmul(M.m[a], M.m[b])),
    # Min / max with the original's NaN conventions.
    44: (_S, _S, _S, lambda M, a, b, d, F, r: float(_std_min(M.s[a], M.s[b]))),
    45: (_V, _V, _V, lambda M, a, b, d, F, r: _std_min(M.v[a], M.v[b])),
    46: (_M, _M, _M, lambda M, a, b, d, F, r: _tern_min(M.m[a], M.m[b])),
    47: (_S, _S, _S, lambda M, a, b, d, F, r: float(_std_max(M.s[a], M.s[b]))),
    48: (_V, _V, _V, lambda M, a, b, d, F, r: _std_max(M.v[a], M.v[b])),
    49: (_M, _M, _M, lambda M, a, b, d, F, r: _tern_max(M.m[a], M.m[b])),
    # Statistics.
    50: (_V, None, _S, lambda M, a, b, d, F, r: _mean(M.v[a])),
    51: (_M, None, _S, lambda M, a, b, d, F, r: _mean(M.m[a])),
    52: (_M, None, _V, lambda M, a, b, d, F, r: np.array(
        [_mean(M.m[a][i, :]) for i in range(F)])),
    53: (_M, None, _V, lambda M, a, b, d, F, r: np.array(
        [_naive_std(M.m[a][i, :]) for i in range(F)])),
    54: (_V, None, _S, lambda M, a, b, d, F, r: _naive_std(M.v[a])),
    55: (_M, None, _S, lambda M, a, b, d, F, r: _naive_std(M.m[a])),
    # Constants.
    56: (None, None, _S, lambda M, a, b, d, F, r: float(d[0])),
    57: (None, None, _V, None),  # VECTOR_CONST_SET: one element (below)
    58: (None, None, _M, None),  # MATRIX_CONST_SET: one element (below)
    # Random initialisation.
    59: (None, None, _S, lambda M, a, b, d, F, r: _uniform(r, d[0], d[1])),
    60: (None, None, _V, lambda M, a, b, d, F, r: _fill(
        F, (F,), lambda: _uniform(r, d[0], d[1]))),
    61: (None, None, _M, lambda M, a, b, d, F, r: _fill(
        F, (F, F), lambda: _uniform(r, d[0], d[1]))),
    62: (None, None, _S, lambda M, a, b, d, F, r: _gaussian(r, d[0], d[1])),
    63: (None, None, _V, lambda M, a, b, d, F, r: _fill(
        F, (F,), lambda: _gaussian(r, d[0], d[1]))),
    64: (None, None, _M, lambda M, a, b, d, F, r: _fill(
        F, (F, F), lambda: _gaussian(r, d[0], d[1]))),
}

#: op code -> (in1, in2, out) address kinds, each "s", "v", "m" or None (docs/semantics.md §3.2).
NAIVE_SIGNATURES: dict[int, tuple[str | None, str | None, str | None]] = {
    code: entry[:3] for code, entry in _OPS.items()
}
#: Ops that draw random numbers at execution time.
RANDOM_OPS = frozenset(range(59, 65))


def naive_op(op_code: int, instruction: Any, memory: NaiveMemory, F: int,
             rng: np.random.Generator | None = None) -> None:
    """Execute one op on ``memory`` in place.

    ``instruction`` needs ``in1``, ``in2``, ``out`` and ``data`` (three stored
    constants); ``op_code`` selects the op (normally ``instruction.op``).
    """
    in1_kind, in2_kind, out_kind, rhs = _OPS[op_code]
    a, b, o, d = instruction.in1, instruction.in2, instruction.out, instruction.data
    if op_code == 0:
        return
    if op_code == 57:
        _vector_const_set(memory, o, d, F)
        return
    if op_code == 58:
        _matrix_const_set(memory, o, d, F)
        return
    if op_code in RANDOM_OPS and rng is None:
        raise ValueError(f"op {op_code} draws random numbers: pass rng")
    assert rhs is not None
    value = rhs(memory, a, b, d, F, rng)  # the whole right-hand side first
    if out_kind == _S:
        memory.s[o] = value
    elif out_kind == _V:
        memory.v[o] = value
    else:
        memory.m[o] = value


def _run_component(component: Sequence[Any], memory: NaiveMemory, F: int,
                   rng: np.random.Generator) -> None:
    for ins in component:
        naive_op(ins.op, ins, memory, F, rng)


# --------------------------------------------------------------------------
# Execution of one algorithm on one task (docs/semantics.md §4)
# --------------------------------------------------------------------------


@dataclass
class NaiveRun:
    """Outcome of :func:`naive_run`."""

    fitness: float
    train_steps: int
    memory: NaiveMemory
    epoch_fitness: list[float] = field(default_factory=list)  # per validation
    train_failed: bool = False  # training stopped early (NaN / large error)
    validation_failed: bool = False  # some validation returned early with 0
    failed_validations: list[int] = field(default_factory=list)  # their epochs
    # The last validation pass's predictions (s1, or sigmoid(s1) for ACCURACY,
    # or the list of K class probabilities for MULTICLASS_ACCURACY), up to and
    # including the example where it stopped.
    predictions: list = field(default_factory=list)
    # The per-example errors a fingerprint run records (docs/semantics.md §7.2):
    # training errors of the steps of the first epoch that passed the check
    # (|y - s1|, or |1 - p(label)| for MULTICLASS_ACCURACY), and the errors of
    # the first validation pass before any failing example (|y - s1|, or the
    # 0/1 error of classification). Not truncated to a recording length.
    train_errors: list[float] = field(default_factory=list)
    valid_errors: list[float] = field(default_factory=list)


def naive_run(algorithm: Any, task: Any, num_scalars: int, num_vectors: int,
              num_matrices: int, max_abs_error: float = 100.0,
              num_train_examples: int | None = None,
              rng: np.random.Generator | None = None,
              num_valid_examples: int | None = None) -> NaiveRun:
    """Run ``algorithm`` on ``task`` exactly as docs/semantics.md §4 describes.

    ``task`` needs ``train_features`` (N, F), ``train_labels`` (N,),
    ``valid_features``, ``valid_labels``, ``epochs`` (E, N) visiting orders and
    ``eval_type`` (1 = RMS_ERROR, 4 = ACCURACY, 5 = MULTICLASS_ACCURACY, which
    also needs ``num_classes``). ``num_train_examples`` is the
    original's ``num_all_train_examples`` (default: all epochs);
    ``num_valid_examples`` limits validation (the loss is still divided by the
    number of validation examples).
    """
    if rng is None:
        rng = np.random.default_rng(0)
    tx = np.asarray(task.train_features, dtype=np.float64)
    ty = np.asarray(task.train_labels, dtype=np.float64)
    vx = np.asarray(task.valid_features, dtype=np.float64)
    vy = np.asarray(task.valid_labels, dtype=np.float64)
    epochs = np.asarray(task.epochs)
    eval_type = int(task.eval_type)
    assert eval_type in (RMS_ERROR, ACCURACY, MULTICLASS_ACCURACY)
    F = tx.shape[1]
    multiclass = eval_type == MULTICLASS_ACCURACY
    K = int(getattr(task, "num_classes", 0)) if multiclass else 0
    if multiclass:
        assert 2 <= K <= F, K
        if num_vectors < 3:
            raise ValueError("a MULTICLASS_ACCURACY task needs 3 vector addresses")
    per_epoch = tx.shape[0]
    num_epochs = epochs.shape[0]
    assert num_epochs >= 1
    order = epochs.reshape(-1)  # the train iterator: epoch after epoch
    valid_steps = vx.shape[0]

    mem = NaiveMemory.zeros(num_scalars, num_vectors, num_matrices, F)
    run = NaiveRun(0.0, 0, mem)
    # Constructor: wipe the memory (done above) and run Setup once, unchecked.
    _run_component(algorithm.setup, mem, F, rng)

    position = 0  # of the train iterator; persists across epochs

    def before_predict(x: np.ndarray) -> None:
        mem.v[0] = x
        mem.s[0] = 0.0  # hide the label from Predict
        if multiclass:
            mem.v[1] = np.zeros(F)  # ... and the one-hot label vector

    def train(max_steps: int) -> bool:
        nonlocal position
        for _ in range(max_steps):
            run.train_steps += 1
            k = int(order[position])
            x, y = tx[k], float(ty[k])
            before_predict(x)
            _run_component(algorithm.predict, mem, F, rng)
            if multiclass:
                probs = softmax(mem.v[2, :K])
                # Written back: Learn (and the next Predict) see the probabilities.
                mem.v[2] = np.array(probs + [0.0] * (F - K))
                err = abs(1.0 - probs[int(y)])
            else:
                if eval_type == ACCURACY:
                    mem.s[1] = sigmoid(float(mem.s[1]))  # written back: Learn sees it
                err = abs(y - float(mem.s[1]))
            if math.isnan(err) or err > max_abs_error:
                return False
            if position < per_epoch:  # the first epoch's errors
                run.train_errors.append(err)
            mem.v[0] = x  # re-written before Learn
            if multiclass:
                mem.s[0] = 0.0  # the label is in v1 only
                one_hot = np.zeros(F)
                one_hot[int(y)] = 1.0
                mem.v[1] = one_hot
            else:
                mem.s[0] = y
            _run_component(algorithm.learn, mem, F, rng)
            position += 1
            if position >= per_epoch * num_epochs:
                break
        return True

    def validate() -> float:
        loss = 0.0
        run.predictions = []
        n = valid_steps if num_valid_examples is None else min(num_valid_examples,
                                                               valid_steps)
        for i in range(n):
            before_predict(vx[i])
            _run_component(algorithm.predict, mem, F, rng)  # no Learn
            y = float(vy[i])
            if multiclass:
                probs = softmax(mem.v[2, :K])  # not written back
                run.predictions.append(probs)
                e = 0.0 if last_argmax(probs) == int(y) else 1.0
                loss += e
            elif eval_type == RMS_ERROR:
                run.predictions.append(float(mem.s[1]))
                e = y - float(mem.s[1])
                loss += e * e
            else:
                p = sigmoid(float(mem.s[1]))  # not written back
                run.predictions.append(p)
                if p > 1.0 or p < 0.0:
                    e = INF
                else:
                    e = 0.0 if (y > 0.5) == (p > 0.5) else 1.0
                loss += e
            if math.isnan(abs(e)) or abs(e) > max_abs_error:
                run.validation_failed = True
                run.failed_validations.append(len(run.epoch_fitness))
                return MIN_FITNESS
            if not run.epoch_fitness:  # the first validation pass
                run.valid_errors.append(abs(e))
        loss /= valid_steps  # all validation examples, even if n < valid_steps
        if eval_type == RMS_ERROR:
            return flip_and_squash(_sqrt(loss))
        return 1.0 - loss

    n_all = per_epoch * num_epochs
    if num_train_examples is not None:
        n_all = min(int(num_train_examples), n_all)
    remaining = n_all
    best = MIN_FITNESS
    while remaining > 0:
        if not train(min(per_epoch, remaining)):
            run.train_failed = True
            if remaining == n_all:  # failure during the first epoch
                best = MIN_FITNESS
            break
        remaining -= per_epoch
        f = validate()
        run.epoch_fitness.append(f)
        best = max(best, f)
    run.fitness = best
    return run


def naive_evaluate(algorithm: Any, task: Any, num_scalars: int, num_vectors: int,
                   num_matrices: int, max_abs_error: float = 100.0,
                   num_train_examples: int | None = None,
                   rng: np.random.Generator | None = None,
                   num_valid_examples: int | None = None) -> float:
    """Fitness of ``algorithm`` on ``task`` (docs/semantics.md §4)."""
    return naive_run(algorithm, task, num_scalars, num_vectors, num_matrices,
                     max_abs_error, num_train_examples, rng,
                     num_valid_examples).fitness


def naive_train_steps(algorithm: Any, task: Any, num_scalars: int, num_vectors: int,
                      num_matrices: int, max_abs_error: float = 100.0,
                      num_train_examples: int | None = None,
                      rng: np.random.Generator | None = None) -> int:
    """Training steps (docs/semantics.md §4.8): one per Predict in training, the failing one
    included; validation is not counted."""
    return naive_run(algorithm, task, num_scalars, num_vectors, num_matrices,
                     max_abs_error, num_train_examples, rng).train_steps
