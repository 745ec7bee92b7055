"""The op table: all 65 AutoML-Zero ops, declared once (docs/semantics.md §3).

Everything op-specific is derived from ``OPS``: the numba executor's dispatch
(generated into ``_kernel.py`` by ``codegen.py``), the printer and the parser
(``text_format.py``), random instruction generation (``randomizer.py``), the
compute-cost train budget and the JSON format. Adding an op is one row here,
``python -m automl_zero.executor.codegen`` and a reference test in ``tests/naive.py``.

Names of the kernel variables an op ``body`` may use (numba code, exactly one
component function's memory and one decoded instruction):

``s`` float64[S], ``v`` float64[V, F], ``m`` float64[M, F, F]: memory.
``a``, ``b``, ``o``: input 1, input 2 and output address. ``d0``, ``d1``, ``d2``:
the instruction's stored constants as float64 (SCALAR_CONST_SET: the value; the
other const-set ops: float32-coded indices in [0, 1) decoded with the original's
``FloatToIndex`` = int(float32(F) * float32(d)) clamped to F - 1, then the
value; uniform: low,
high; gaussian: mean, stdev). ``F``: feature size.
``tv`` float64[F] and ``tm`` float64[F, F]: scratch space for ops whose output
may alias an input; ``tr`` float64[F * F]: scratch for sums in tree order.
Temporaries: ``acc``, ``acc2``, ``mu``, ``x``, ``y``, ``p0``..``p3``; other names
assigned in a body (``width``, loop variables) must not depend on memory. ``rng``: the program's random state, drawn from with
``_uniform(rng, low, high)`` and ``_gaussian(rng)``.

The ``numpy`` column is the same op as one vectorised NumPy statement, run by
the pure-NumPy runtime (``automl_zero/export/runtime.py``) and written, with
addresses and constants substituted, into exported models. It may use ``s``,
``v``, ``m`` (one task's memory as NumPy arrays), ``a``, ``b``, ``o``, ``d0``..``d2``,
``F``, ``np``, ``rng`` (the runtime's ``Xoshiro256Plus``: ``rng.uniform(low, high,
shape)`` with the body's empty-range rule, ``rng.gaussian(shape)``, drawing
elements in row-major order like the body) and the runtime's helpers:
``lane_sum``, ``tree_sum``, ``pairwise_sum``, ``matvec``, ``matmul`` (the
body's orders of additions, so results are bit-identical), ``float_to_index``
and ``c_sin``.. ``c_log`` (the C library's functions, as the numba kernel calls
them, with IEEE results instead of Python exceptions). The right-hand side is
evaluated completely before it is stored (aliasing safe);
``tests/test_numpy_ops.py`` checks each statement against its ``body``.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass

import numpy as np

__all__ = [
    "Kind",
    "DataKind",
    "Op",
    "OPS",
    "OP_BY_NAME",
    "NUM_OPS",
    "op_by_name",
    "table_hash",
]


class Kind(enum.IntEnum):
    """Address space of an op's input or output."""

    NONE = 0
    SCALAR = 1
    VECTOR = 2
    MATRIX = 3

    @property
    def letter(self) -> str:
        return "_svm"[self]


class DataKind(enum.IntEnum):
    """What an instruction's stored constants mean (docs/semantics.md §2, §8.9)."""

    NONE = 0
    ACTIVATION = 1  # SCALAR_CONST_SET: one float64 value
    VECTOR_INDEX_VALUE = 2  # VECTOR_CONST_SET: float32 index in [0,1), float32 value
    MATRIX_INDEX_VALUE = 3  # MATRIX_CONST_SET: two float32 indices, float32 value
    UNIFORM = 4  # *_UNIFORM_SET: float32 low, high (unordered)
    GAUSSIAN = 5  # *_GAUSSIAN_SET: float32 mean, stdev


S, V, M, N = Kind.SCALAR, Kind.VECTOR, Kind.MATRIX, Kind.NONE


@dataclass(frozen=True)
class Op:
    """One row of the op table.

    ``fmt`` is the printed form (paper style) with ``{o}``, ``{a}``, ``{b}`` for
    addresses and ``{d0}``..``{d2}`` for stored constants; ``alt_fmts`` are
    further forms the parser accepts (the original's and the paper's variants).
    ``numpy`` is the op as one vectorised NumPy statement (names: the module
    docstring), run by the pure-NumPy runtime and written into exported models.
    """

    code: int  # stable id (= instruction.proto enum = paper OP number); never reuse
    name: str  # instruction.proto enum name, e.g. "SCALAR_SUM_OP"
    in1: Kind
    in2: Kind
    out: Kind
    data: DataKind
    random: bool  # draws random numbers at execution time
    fmt: str
    body: str
    cost: int  # compute-cost units of the original's compute_cost.cc (train budget)
    alt_fmts: tuple[str, ...] = ()
    numpy: str = ""  # the NumPy statement; not part of table_hash (the kernel
    # is not generated from it)

    @property
    def num_inputs(self) -> int:
        return (self.in1 != N) + (self.in2 != N)


def _ew(kind: Kind, expr: str) -> str:
    """Element-wise body over a vector or matrix; ``X`` and ``Y`` are the inputs."""
    if kind == V:
        e = expr.replace("X", "v[a, i]").replace("Y", "v[b, i]")
        return f"for i in range(F):\n    v[o, i] = {e}"
    e = expr.replace("X", "m[a, i, j]").replace("Y", "m[b, i, j]")
    return f"for i in range(F):\n    for j in range(F):\n        m[o, i, j] = {e}"


def _minmax(x: str, y: str, rule: str) -> str:
    # NaN behaviour differs between the original's scalar/vector (std::min/max,
    # Eigen cwise) and matrix (explicit ternary) ops; reproduce each.
    return {
        "std_min": f"{y} if {y} < {x} else {x}",
        "std_max": f"{y} if {x} < {y} else {x}",
        "tern_min": f"{x} if {x} < {y} else {y}",
        "tern_max": f"{x} if {x} > {y} else {y}",
    }[rule]


# Sums add their terms in the original's order (docs/semantics.md §3.5, "Order of
# additions in sums"); the bodies below are generated from three rules.
def _indent(text: str, levels: int) -> str:
    return "\n".join("    " * levels + line for line in text.splitlines())


def _lanes_sum(term, out: str = "acc", n: str = "F") -> str:
    """Sum of term(j), j < n, in 4 strided lanes (lane l adds terms l, l + 4, ...
    left to right from its first term), then (p0 + p2) + (p1 + p3): the
    original's SIMD order for a run of F terms."""
    t = term
    rest = f"{n} - {n} % 4"
    return f"""\
if {n} >= 4:
    p0 = {t('0')}
    p1 = {t('1')}
    p2 = {t('2')}
    p3 = {t('3')}
    for j4 in range(4, {n} - 3, 4):
        p0 += {t('j4')}
        p1 += {t('j4 + 1')}
        p2 += {t('j4 + 2')}
        p3 += {t('j4 + 3')}
    if {n} % 4 > 0:
        p0 += {t(rest)}
    if {n} % 4 > 1:
        p1 += {t(rest + ' + 1')}
    if {n} % 4 > 2:
        p2 += {t(rest + ' + 2')}
    {out} = (p0 + p2) + (p1 + p3)
elif {n} == 3:
    {out} = ({t('0')} + {t('2')}) + {t('1')}
elif {n} == 2:
    {out} = {t('0')} + {t('1')}
else:
    {out} = {t('0')}"""


def _tree_sum(term, out: str) -> str:
    """Sum of term(i, j) over a whole F x F matrix, row-major: packets of 4
    terms added lane-wise in a binary tree (neighbours first), then the lanes
    as (p0 + p2) + (p1 + p3). Uses the scratch ``tr``."""
    return f"""\
for i in range(F):
    for j in range(F):
        tr[i * F + j] = {term('i', 'j')}
width = 4
while width < F * F:
    for k in range(0, F * F - width, 2 * width):
        for l in range(min(4, F * F - k - width)):
            tr[k + l] = tr[k + l] + tr[k + width + l]
    width = width * 2
if F * F >= 4:
    {out} = (tr[0] + tr[2]) + (tr[1] + tr[3])
elif F * F == 3:
    {out} = (tr[0] + tr[2]) + tr[1]
elif F * F == 2:
    {out} = tr[0] + tr[1]
else:
    {out} = tr[0]"""


# Pairwise sum of tr[0 .. F): neighbours first, result in tr[0].
_PAIRWISE = """\
width = 1
while width < F:
    for k in range(0, F - width, 2 * width):
        tr[k] = tr[k] + tr[k + width]
    width = width * 2"""

_STD_ROW = f"""\
for i in range(F):
{_indent(_lanes_sum(lambda j: f"m[a, i, {j}]"), 1)}
{_indent(_lanes_sum(lambda j: f"m[a, i, {j}] * m[a, i, {j}]", "acc2"), 1)}
    mu = acc / F
    tv[i] = np.sqrt(acc2 / F - mu * mu)
for i in range(F):
    v[o, i] = tv[i]"""

# absl returns lo when the range is empty, reversed or not finite.
_UNIFORM = "(_uniform(rng, d0, d1) if d0 < d1 and np.isfinite(d1 - d0) else d0)"
_GAUSS = "(d0 + d1 * _gaussian(rng))"

OPS: tuple[Op, ...] = (
    Op(0, "NO_OP", N, N, N, DataKind.NONE, False, "no_op", "pass", 3013921,
       ("NoOp()", "no_op()", "NO_OP"),
       numpy="pass"),
    Op(1, "SCALAR_SUM_OP", S, S, S, DataKind.NONE, False,
       "s{o} = s{a} + s{b}", "s[o] = s[a] + s[b]", 4703759,
       numpy="s[o] = s[a] + s[b]"),
    Op(2, "SCALAR_DIFF_OP", S, S, S, DataKind.NONE, False,
       "s{o} = s{a} - s{b}", "s[o] = s[a] - s[b]", 5102027,
       numpy="s[o] = s[a] - s[b]"),
    Op(3, "SCALAR_PRODUCT_OP", S, S, S, DataKind.NONE, False,
       "s{o} = s{a} * s{b}", "s[o] = s[a] * s[b]", 4418347,
       numpy="s[o] = s[a] * s[b]"),
    Op(4, "SCALAR_DIVISION_OP", S, S, S, DataKind.NONE, False,
       "s{o} = s{a} / s{b}", "s[o] = s[a] / s[b]", 3963916,
       numpy="s[o] = s[a] / s[b]"),
    Op(5, "SCALAR_ABS_OP", S, N, S, DataKind.NONE, False,
       "s{o} = abs(s{a})", "s[o] = abs(s[a])", 3684352,
       numpy="s[o] = abs(s[a])"),
    Op(6, "SCALAR_RECIPROCAL_OP", S, N, S, DataKind.NONE, False,
       "s{o} = 1 / s{a}", "s[o] = 1.0 / s[a]", 4212086,
       numpy="s[o] = 1.0 / s[a]"),
    Op(7, "SCALAR_SIN_OP", S, N, S, DataKind.NONE, False,
       "s{o} = sin(s{a})", "s[o] = np.sin(s[a])", 7538523,
       numpy="s[o] = c_sin(s[a])"),
    Op(8, "SCALAR_COS_OP", S, N, S, DataKind.NONE, False,
       "s{o} = cos(s{a})", "s[o] = np.cos(s[a])", 7452807,
       numpy="s[o] = c_cos(s[a])"),
    Op(9, "SCALAR_TAN_OP", S, N, S, DataKind.NONE, False,
       "s{o} = tan(s{a})", "s[o] = np.tan(s[a])", 7583203,
       numpy="s[o] = c_tan(s[a])"),
    Op(10, "SCALAR_ARCSIN_OP", S, N, S, DataKind.NONE, False,
       "s{o} = arcsin(s{a})", "s[o] = np.arcsin(s[a])", 9145616,
       numpy="s[o] = c_arcsin(s[a])"),
    Op(11, "SCALAR_ARCCOS_OP", S, N, S, DataKind.NONE, False,
       "s{o} = arccos(s{a})", "s[o] = np.arccos(s[a])", 7673039,
       numpy="s[o] = c_arccos(s[a])"),
    Op(12, "SCALAR_ARCTAN_OP", S, N, S, DataKind.NONE, False,
       "s{o} = arctan(s{a})", "s[o] = np.arctan(s[a])", 9273978,
       numpy="s[o] = c_arctan(s[a])"),
    Op(13, "SCALAR_EXP_OP", S, N, S, DataKind.NONE, False,
       "s{o} = exp(s{a})", "s[o] = np.exp(s[a])", 11755929,
       numpy="s[o] = c_exp(s[a])"),
    Op(14, "SCALAR_LOG_OP", S, N, S, DataKind.NONE, False,
       "s{o} = log(s{a})", "s[o] = np.log(s[a])", 11627725,
       numpy="s[o] = c_log(s[a])"),
    # Heaviside: scalar uses >= 0, vector and matrix use > 0 (the original's code).
    Op(15, "SCALAR_HEAVYSIDE_OP", S, N, S, DataKind.NONE, False,
       "s{o} = heaviside(s{a}, 1.0)", "s[o] = 1.0 if s[a] >= 0.0 else 0.0", 4057075,
       ("s{o} = heaviside(s{a})",),
       numpy="s[o] = 1.0 if s[a] >= 0.0 else 0.0"),
    Op(16, "VECTOR_HEAVYSIDE_OP", V, N, V, DataKind.NONE, False,
       "v{o} = heaviside(v{a}, 1.0)", _ew(V, "1.0 if X > 0.0 else 0.0"), 3965743,
       ("v{o} = heaviside(v{a})",),
       numpy="v[o] = np.where(v[a] > 0.0, 1.0, 0.0)"),
    Op(17, "MATRIX_HEAVYSIDE_OP", M, N, M, DataKind.NONE, False,
       "m{o} = heaviside(m{a}, 1.0)", _ew(M, "1.0 if X > 0.0 else 0.0"), 6728311,
       ("m{o} = heaviside(m{a})",),
       numpy="m[o] = np.where(m[a] > 0.0, 1.0, 0.0)"),
    Op(18, "SCALAR_VECTOR_PRODUCT_OP", S, V, V, DataKind.NONE, False,
       "v{o} = s{a} * v{b}",
       "x = s[a]\nfor i in range(F):\n    v[o, i] = v[b, i] * x", 3705015,
       ("v{o} = v{b} * s{a}",),
       numpy="v[o] = v[b] * s[a]"),
    Op(19, "SCALAR_BROADCAST_OP", S, N, V, DataKind.NONE, False,
       "v{o} = bcast(s{a})", "x = s[a]\nfor i in range(F):\n    v[o, i] = x", 4165814,
       numpy="v[o] = s[a]"),
    Op(20, "VECTOR_RECIPROCAL_OP", V, N, V, DataKind.NONE, False,
       "v{o} = 1 / v{a}", _ew(V, "1.0 / X"), 6311851,
       numpy="v[o] = 1.0 / v[a]"),
    Op(21, "VECTOR_NORM_OP", V, N, S, DataKind.NONE, False,
       "s{o} = norm(v{a})",
       "\n".join([_lanes_sum(lambda j: f"v[a, {j}] * v[a, {j}]"), "s[o] = np.sqrt(acc)"]),
       4810562,
       numpy="s[o] = np.sqrt(lane_sum(v[a] * v[a]))"),
    Op(22, "VECTOR_ABS_OP", V, N, V, DataKind.NONE, False,
       "v{o} = abs(v{a})", _ew(V, "abs(X)"), 3713533,
       numpy="v[o] = np.abs(v[a])"),
    Op(23, "VECTOR_SUM_OP", V, V, V, DataKind.NONE, False,
       "v{o} = v{a} + v{b}", _ew(V, "X + Y"), 4701519,
       numpy="v[o] = v[a] + v[b]"),
    Op(24, "VECTOR_DIFF_OP", V, V, V, DataKind.NONE, False,
       "v{o} = v{a} - v{b}", _ew(V, "X - Y"), 4165747,
       numpy="v[o] = v[a] - v[b]"),
    Op(25, "VECTOR_PRODUCT_OP", V, V, V, DataKind.NONE, False,
       "v{o} = v{a} * v{b}", _ew(V, "X * Y"), 4504555,
       numpy="v[o] = v[a] * v[b]"),
    Op(26, "VECTOR_DIVISION_OP", V, V, V, DataKind.NONE, False,
       "v{o} = v{a} / v{b}", _ew(V, "X / Y"), 4556237,
       numpy="v[o] = v[a] / v[b]"),
    Op(27, "VECTOR_INNER_PRODUCT_OP", V, V, S, DataKind.NONE, False,
       "s{o} = dot(v{a}, v{b})",
       "\n".join([_lanes_sum(lambda j: f"v[a, {j}] * v[b, {j}]"), "s[o] = acc"]),
       4294617,
       numpy="s[o] = lane_sum(v[a] * v[b])"),
    Op(28, "VECTOR_OUTER_PRODUCT_OP", V, V, M, DataKind.NONE, False,
       "m{o} = outer(v{a}, v{b})",
       "for i in range(F):\n    for j in range(F):\n        m[o, i, j] = v[a, i] * v[b, j]",
       9833707,
       numpy="m[o] = np.outer(v[a], v[b])"),
    Op(29, "SCALAR_MATRIX_PRODUCT_OP", S, M, M, DataKind.NONE, False,
       "m{o} = s{a} * m{b}",
       "x = s[a]\nfor i in range(F):\n    for j in range(F):\n"
       "        m[o, i, j] = m[b, i, j] * x", 5986302,
       ("m{o} = m{b} * s{a}",),
       numpy="m[o] = m[b] * s[a]"),
    Op(30, "MATRIX_RECIPROCAL_OP", M, N, M, DataKind.NONE, False,
       "m{o} = 1 / m{a}", _ew(M, "1.0 / X"), 24336141,
       numpy="m[o] = 1.0 / m[a]"),
    Op(31, "MATRIX_VECTOR_PRODUCT_OP", M, V, V, DataKind.NONE, False,
       "v{o} = dot(m{a}, v{b})",
       "\n".join([
           "for i in range(F):",
           _indent(_lanes_sum(lambda j: f"m[a, i, {j}] * v[b, {j}]"), 1),
           "    if F >= 8:",  # Eigen's matrix-vector kernel starts from 0.0
           "        acc = 0.0 + acc",
           "    tv[i] = acc",
           "for i in range(F):",
           "    v[o, i] = tv[i]"]), 9310002,
       numpy="v[o] = matvec(m[a], v[b])"),
    Op(32, "VECTOR_COLUMN_BROADCAST_OP", V, N, M, DataKind.NONE, False,
       "m{o} = bcast(v{a}, axis=0)",
       "for i in range(F):\n    x = v[a, i]\n    for j in range(F):\n        m[o, i, j] = x",
       10993088,
       numpy="m[o] = v[a][:, np.newaxis]"),
    Op(33, "VECTOR_ROW_BROADCAST_OP", V, N, M, DataKind.NONE, False,
       "m{o} = bcast(v{a}, axis=1)",
       "for i in range(F):\n    for j in range(F):\n        m[o, i, j] = v[a, j]",
       11087322,
       numpy="m[o] = v[a][np.newaxis, :]"),
    Op(34, "MATRIX_NORM_OP", M, N, S, DataKind.NONE, False,
       "s{o} = norm(m{a})",
       "\n".join([_tree_sum(lambda i, j: f"m[a, {i}, {j}] * m[a, {i}, {j}]", "acc"),
                  "s[o] = np.sqrt(acc)"]), 6422746,
       numpy="s[o] = np.sqrt(tree_sum(m[a] * m[a]))"),
    Op(35, "MATRIX_COLUMN_NORM_OP", M, N, V, DataKind.NONE, False,
       "v{o} = norm(m{a}, axis=0)",
       "\n".join([
           "for j in range(F):",
           "    for i in range(F):",
           "        tr[i] = m[a, i, j] * m[a, i, j]",
           _indent(_PAIRWISE, 1),
           "    tv[j] = np.sqrt(tr[0])",
           "for j in range(F):",
           "    v[o, j] = tv[j]"]), 6682187,
       numpy="v[o] = np.sqrt(pairwise_sum(m[a] * m[a]))"),
    Op(36, "MATRIX_ROW_NORM_OP", M, N, V, DataKind.NONE, False,
       "v{o} = norm(m{a}, axis=1)",
       "\n".join([
           "for i in range(F):",
           _indent(_lanes_sum(lambda j: f"m[a, i, {j}] * m[a, i, {j}]"), 1),
           "    tv[i] = np.sqrt(acc)",
           "for i in range(F):",
           "    v[o, i] = tv[i]"]), 13351123,
       numpy="v[o] = np.sqrt(lane_sum(m[a] * m[a]))"),
    Op(37, "MATRIX_TRANSPOSE_OP", M, N, M, DataKind.NONE, False,
       "m{o} = transpose(m{a})",
       "for i in range(F):\n    for j in range(F):\n        tm[i, j] = m[a, j, i]\n"
       "for i in range(F):\n    for j in range(F):\n        m[o, i, j] = tm[i, j]",
       9394756,
       numpy="m[o] = m[a].T.copy()"),
    Op(38, "MATRIX_ABS_OP", M, N, M, DataKind.NONE, False,
       "m{o} = abs(m{a})", _ew(M, "abs(X)"), 4630926,
       numpy="m[o] = np.abs(m[a])"),
    Op(39, "MATRIX_SUM_OP", M, M, M, DataKind.NONE, False,
       "m{o} = m{a} + m{b}", _ew(M, "X + Y"), 5579381,
       numpy="m[o] = m[a] + m[b]"),
    Op(40, "MATRIX_DIFF_OP", M, M, M, DataKind.NONE, False,
       "m{o} = m{a} - m{b}", _ew(M, "X - Y"), 5429452,
       numpy="m[o] = m[a] - m[b]"),
    Op(41, "MATRIX_PRODUCT_OP", M, M, M, DataKind.NONE, False,
       "m{o} = m{a} * m{b}", _ew(M, "X * Y"), 5475227,
       numpy="m[o] = m[a] * m[b]"),
    Op(42, "MATRIX_DIVISION_OP", M, M, M, DataKind.NONE, False,
       "m{o} = m{a} / m{b}", _ew(M, "X / Y"), 18234378,
       numpy="m[o] = m[a] / m[b]"),
    Op(43, "MATRIX_MATRIX_PRODUCT_OP", M, M, M, DataKind.NONE, False,
       "m{o} = matmul(m{a}, m{b})",
       "\n".join([
           "if F < 8:",  # Eigen's small product adds pairwise, its large one from 0.0
           "    for i in range(F):",
           "        for j in range(F):",
           "            for k in range(F):",
           "                tr[k] = m[a, i, k] * m[b, k, j]",
           _indent(_PAIRWISE, 3),
           "            tm[i, j] = tr[0]",
           "else:",
           "    for i in range(F):",
           "        for j in range(F):",
           "            tm[i, j] = 0.0",
           "        for k in range(F):",
           "            x = m[a, i, k]",
           "            for j in range(F):",
           "                tm[i, j] += x * m[b, k, j]",
           "for i in range(F):",
           "    for j in range(F):",
           "        m[o, i, j] = tm[i, j]"]),
       14516296,
       numpy="m[o] = matmul(m[a], m[b])"),
    Op(44, "SCALAR_MIN_OP", S, S, S, DataKind.NONE, False,
       "s{o} = minimum(s{a}, s{b})",
       "x = s[a]\ny = s[b]\ns[o] = " + _minmax("x", "y", "std_min"), 3677265,
       numpy="s[o] = s[b] if s[b] < s[a] else s[a]"),
    Op(45, "VECTOR_MIN_OP", V, V, V, DataKind.NONE, False,
       "v{o} = minimum(v{a}, v{b})", _ew(V, _minmax("X", "Y", "std_min")), 3989956,
       numpy="v[o] = np.where(v[b] < v[a], v[b], v[a])"),
    Op(46, "MATRIX_MIN_OP", M, M, M, DataKind.NONE, False,
       "m{o} = minimum(m{a}, m{b})", _ew(M, _minmax("X", "Y", "tern_min")), 5457728,
       numpy="m[o] = np.where(m[a] < m[b], m[a], m[b])"),
    Op(47, "SCALAR_MAX_OP", S, S, S, DataKind.NONE, False,
       "s{o} = maximum(s{a}, s{b})",
       "x = s[a]\ny = s[b]\ns[o] = " + _minmax("x", "y", "std_max"), 4573695,
       numpy="s[o] = s[b] if s[a] < s[b] else s[a]"),
    Op(48, "VECTOR_MAX_OP", V, V, V, DataKind.NONE, False,
       "v{o} = maximum(v{a}, v{b})", _ew(V, _minmax("X", "Y", "std_max")), 3974229,
       numpy="v[o] = np.where(v[a] < v[b], v[b], v[a])"),
    Op(49, "MATRIX_MAX_OP", M, M, M, DataKind.NONE, False,
       "m{o} = maximum(m{a}, m{b})", _ew(M, _minmax("X", "Y", "tern_max")), 5840952,
       numpy="m[o] = np.where(m[a] > m[b], m[a], m[b])"),
    Op(50, "VECTOR_MEAN_OP", V, N, S, DataKind.NONE, False,
       "s{o} = mean(v{a})",
       "\n".join([_lanes_sum(lambda j: f"v[a, {j}]"), "s[o] = acc / F"]), 4280443,
       numpy="s[o] = lane_sum(v[a]) / F"),
    Op(51, "MATRIX_MEAN_OP", M, N, S, DataKind.NONE, False,
       "s{o} = mean(m{a})",
       "\n".join([_tree_sum(lambda i, j: f"m[a, {i}, {j}]", "acc"),
                  "s[o] = acc / (F * F)"]), 4595196,
       numpy="s[o] = tree_sum(m[a]) / (F * F)"),
    Op(52, "MATRIX_ROW_MEAN_OP", M, N, V, DataKind.NONE, False,
       "v{o} = mean(m{a}, axis=1)",
       "\n".join([
           "for i in range(F):",
           _indent(_lanes_sum(lambda j: f"m[a, i, {j}]"), 1),
           "    tv[i] = acc / F",
           "for i in range(F):",
           "    v[o, i] = tv[i]"]), 9763956,
       numpy="v[o] = lane_sum(m[a]) / F"),
    # Standard deviations use the naive formula sqrt(E[x^2] - E[x]^2): it can be NaN.
    Op(53, "MATRIX_ROW_ST_DEV_OP", M, N, V, DataKind.NONE, False,
       "v{o} = std(m{a}, axis=1)", _STD_ROW, 16766477,
       numpy="v[o] = np.sqrt(lane_sum(m[a] * m[a]) / F - np.square(lane_sum(m[a]) / F))"),
    Op(54, "VECTOR_ST_DEV_OP", V, N, S, DataKind.NONE, False,
       "s{o} = std(v{a})",
       "\n".join([
           _lanes_sum(lambda j: f"v[a, {j}]"),
           _lanes_sum(lambda j: f"v[a, {j}] * v[a, {j}]", "acc2"),
           "mu = acc / F",
           "s[o] = np.sqrt(acc2 / F - mu * mu)"]),
       5585730,
       numpy="s[o] = np.sqrt(lane_sum(v[a] * v[a]) / F - np.square(lane_sum(v[a]) / F))"),
    Op(55, "MATRIX_ST_DEV_OP", M, N, S, DataKind.NONE, False,
       "s{o} = std(m{a})",
       "\n".join([
           _tree_sum(lambda i, j: f"m[a, {i}, {j}]", "acc"),
           _tree_sum(lambda i, j: f"m[a, {i}, {j}] * m[a, {i}, {j}]", "acc2"),
           "mu = acc / (F * F)",
           "s[o] = np.sqrt(acc2 / (F * F) - mu * mu)"]), 10640216,
       numpy="s[o] = np.sqrt(tree_sum(m[a] * m[a]) / (F * F)"
       " - np.square(tree_sum(m[a]) / (F * F)))"),
    Op(56, "SCALAR_CONST_SET_OP", N, N, S, DataKind.ACTIVATION, False,
       "s{o} = {d0}", "s[o] = d0", 3691108,
       numpy="s[o] = d0"),
    Op(57, "VECTOR_CONST_SET_OP", N, N, V, DataKind.VECTOR_INDEX_VALUE, False,
       "v{o}[{d0}] = {d1}", "v[o, min(int(np.float32(F) * np.float32(d0)), F - 1)] = d1", 3991421,
       numpy="v[o, float_to_index(d0, F)] = d1"),
    Op(58, "MATRIX_CONST_SET_OP", N, N, M, DataKind.MATRIX_INDEX_VALUE, False,
       "m{o}[{d0}, {d1}] = {d2}",
       "m[o, min(int(np.float32(F) * np.float32(d0)), F - 1),"
       " min(int(np.float32(F) * np.float32(d1)), F - 1)] = d2", 3693035,
       numpy="m[o, float_to_index(d0, F), float_to_index(d1, F)] = d2"),
    Op(59, "SCALAR_UNIFORM_SET_OP", N, N, S, DataKind.UNIFORM, True,
       "s{o} = uniform({d0}, {d1})", "s[o] = " + _UNIFORM, 26610704,
       numpy="s[o] = rng.uniform(d0, d1)"),
    Op(60, "VECTOR_UNIFORM_SET_OP", N, N, V, DataKind.UNIFORM, True,
       "v{o} = uniform({d0}, {d1})",
       "for i in range(F):\n    v[o, i] = " + _UNIFORM, 57817372,
       ("v{o} = uniform({d0}, {d1}, n_features)",),
       numpy="v[o] = rng.uniform(d0, d1, F)"),
    Op(61, "MATRIX_UNIFORM_SET_OP", N, N, M, DataKind.UNIFORM, True,
       "m{o} = uniform({d0}, {d1})",
       "for i in range(F):\n    for j in range(F):\n        m[o, i, j] = " + _UNIFORM,
       208339446, ("m{o} = uniform({d0}, {d1}, (n_features, n_features))",),
       numpy="m[o] = rng.uniform(d0, d1, (F, F))"),
    Op(62, "SCALAR_GAUSSIAN_SET_OP", N, N, S, DataKind.GAUSSIAN, True,
       "s{o} = gaussian({d0}, {d1})", "s[o] = " + _GAUSS, 20775635,
       numpy="s[o] = d0 + d1 * rng.gaussian()"),
    Op(63, "VECTOR_GAUSSIAN_SET_OP", N, N, V, DataKind.GAUSSIAN, True,
       "v{o} = gaussian({d0}, {d1})",
       "for i in range(F):\n    v[o, i] = " + _GAUSS, 77483018,
       ("v{o} = gaussian({d0}, {d1}, n_features)",),
       numpy="v[o] = d0 + d1 * rng.gaussian(F)"),
    Op(64, "MATRIX_GAUSSIAN_SET_OP", N, N, M, DataKind.GAUSSIAN, True,
       "m{o} = gaussian({d0}, {d1})",
       "for i in range(F):\n    for j in range(F):\n        m[o, i, j] = " + _GAUSS,
       277690384, ("m{o} = gaussian({d0}, {d1}, (n_features, n_features))",),
       numpy="m[o] = d0 + d1 * rng.gaussian((F, F))"),
)

NUM_OPS = len(OPS)
OP_BY_NAME: dict[str, Op] = {op.name: op for op in OPS}

assert all(op.code == i for i, op in enumerate(OPS)), "OPS must be ordered by code"

# Derived arrays for vectorised use (mutator, budget, codegen).
IN1_KIND = np.array([op.in1 for op in OPS], dtype=np.int8)
IN2_KIND = np.array([op.in2 for op in OPS], dtype=np.int8)
OUT_KIND = np.array([op.out for op in OPS], dtype=np.int8)
DATA_KIND = np.array([op.data for op in OPS], dtype=np.int8)
IS_RANDOM = np.array([op.random for op in OPS], dtype=np.bool_)
COST = np.array([op.cost for op in OPS], dtype=np.int64)


def op_by_name(name: str, where: str = "op") -> Op:
    """Look an op up by its enum name; ``SCALAR_SUM_OP`` and ``SCALAR_SUM`` both work.

    Raises ``KeyError`` with a message naming ``where`` for unknown names.
    """
    key = name.strip().upper()
    op = OP_BY_NAME.get(key) or OP_BY_NAME.get(key + "_OP")
    if op is None:
        raise KeyError(f"{where}: unknown op {name!r} (valid: NO_OP, SCALAR_SUM_OP, ...,"
                       f" MATRIX_GAUSSIAN_SET_OP; see `automl-zero ops`)")
    return op


def table_hash() -> str:
    """A short hash of everything in the table that generated code depends on."""
    h = hashlib.sha256()
    for op in OPS:
        h.update(repr((op.code, op.name, int(op.in1), int(op.in2), int(op.out),
                       int(op.data), op.random, op.body)).encode())
    return h.hexdigest()[:16]
