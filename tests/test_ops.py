"""Every op of the numba kernel against the reference interpreter ``naive.py``
and against the values docs/semantics.md and the original's executor_test.cc give.

Single ops are run through the public executor: Setup = const-set instructions
that write the inputs, then the op under test; ``num_train_examples=0`` with
``return_memory=True`` returns the memory right after Setup.

Kernel variants compiled here: F=4, F=8 and F=16 (one per feature size).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import make
from naive import NAIVE_SIGNATURES, RANDOM_OPS, NaiveMemory, float_to_index, naive_op

from automl_zero.executor.executor import MemorySpec, TaskBatch, execute
from automl_zero.language.algorithm import Algorithm
from automl_zero.language.instruction import Instruction, index_to_float
from automl_zero.language.ops import IN1_KIND, IN2_KIND, IS_RANDOM, OPS, OUT_KIND, Kind
from automl_zero.tasks import Task

S_N, V_N, M_N = 6, 6, 3  # memory used by the op tests
MEMORY = MemorySpec(S_N, V_N, M_N)
NUM_TRIALS = 40  # random memories / address choices per op
KIND_LETTER = {Kind.NONE: None, Kind.SCALAR: "s", Kind.VECTOR: "v", Kind.MATRIX: "m"}
# Ops whose result is a sum over several products / squares: compared with a
# relative tolerance so that a (legitimate) change of summation order in the
# kernel does not fail the test. Everything else must match exactly.
REDUCTIONS = frozenset({21, 27, 31, 34, 35, 36, 43, 50, 51, 52, 53, 54, 55})
INF = float("inf")
NAN = float("nan")

_BATCHES: dict[int, TaskBatch] = {}


def batch(f: int) -> TaskBatch:
    """A one-task batch of feature size ``f`` (the task data is never used)."""
    if f not in _BATCHES:
        z = np.zeros((2, f))
        _BATCHES[f] = TaskBatch.from_tasks(
            [Task.from_arrays(z, np.zeros(2), z, np.zeros(2))])
    return _BATCHES[f]


def after_setup(algorithms: list[Algorithm], f: int = 4, seeds=None,
                memory: MemorySpec = MEMORY) -> list[NaiveMemory]:
    """Memory of each algorithm right after its Setup, from the kernel."""
    if seeds is None:
        seeds = np.zeros(len(algorithms), dtype=np.int64)
    res = execute(algorithms, batch(f), memory, seeds, num_train_examples=0,
                  return_memory=True)
    s, v, m = res.final_memory
    return [NaiveMemory(s[p, 0], v[p, 0], m[p, 0]) for p in range(len(algorithms))]


# --------------------------------------------------------------------------
# Random memory with edge-case values.
# --------------------------------------------------------------------------

FINITE_SPECIALS = (0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, 1e30, -1e30, 1e-30, 1e6,
                   -7.0)
NONFINITE = (NAN, INF, -INF)


def random_values(rng: np.random.Generator, n: int, nonfinite: bool,
                  float32: bool) -> np.ndarray:
    """``n`` values: mostly N(0, 1) and U(-1.2, 1.2), plus edge cases."""
    out = np.where(rng.random(n) < 0.5, rng.standard_normal(n),
                   rng.uniform(-1.2, 1.2, n))
    pick = rng.random(n)
    specials = np.array(FINITE_SPECIALS + ((700.0, -800.0, 1e200, 1e-300)
                                           if not float32 else ()))
    special = specials[rng.integers(0, len(specials), n)]
    out = np.where(pick < 0.25, special, out)
    if nonfinite:
        bad = np.array(NONFINITE)[rng.integers(0, 3, n)]
        out = np.where(pick > 0.93, bad, out)
    if float32:
        out = out.astype(np.float32).astype(np.float64)
    return out


def random_memory(rng: np.random.Generator, f: int) -> NaiveMemory:
    nonfinite = rng.random() < 0.5  # half the trials are all-finite
    s = random_values(rng, S_N, nonfinite, float32=False)
    v = random_values(rng, V_N * f, nonfinite, float32=True).reshape(V_N, f)
    m = random_values(rng, M_N * f * f, nonfinite, float32=True).reshape(M_N, f, f)
    return NaiveMemory(s, v, m)


def load(mem: NaiveMemory, f: int) -> list[Instruction]:
    """Const-set instructions that write ``mem`` (vector/matrix entries must be
    float32 values: the const-set ops store float32)."""
    out = [make("SCALAR_CONST_SET_OP", out=k, data=(float(x),))
           for k, x in enumerate(mem.s)]
    for k in range(mem.v.shape[0]):
        for i in range(f):
            out.append(make("VECTOR_CONST_SET_OP", out=k,
                         data=(index_to_float(i, f), float(mem.v[k, i]))))
    for k in range(mem.m.shape[0]):
        for i in range(f):
            for j in range(f):
                out.append(make("MATRIX_CONST_SET_OP", out=k,
                             data=(index_to_float(i, f), index_to_float(j, f),
                                   float(mem.m[k, i, j]))))
    return out


# Edge values laid out pairwise over the inputs of every op (all float32).
EDGE = tuple(float(np.float32(x))
             for x in (NAN, INF, -INF, 0.0, -0.0, 1.0, -1.0, 2.5, 1e30, -1e-30))
# Input / output addresses of the edge-grid trials, per address kind.
GRID_ADDRESSES = {Kind.SCALAR: (1, 2, 3), Kind.VECTOR: (1, 2, 3), Kind.MATRIX: (0, 1, 2)}


def grid_trials(code: int, f: int) -> list[tuple[NaiveMemory, Instruction]]:
    """Trials that cover every pair (x, y) of EDGE values as (in1, in2) entries
    (every single EDGE value for one-input ops); other memory is zero."""
    k1, k2, ko = Kind(IN1_KIND[code]), Kind(IN2_KIND[code]), Kind(OUT_KIND[code])
    if k1 == Kind.NONE:
        return []
    sizes = {Kind.SCALAR: 1, Kind.VECTOR: f, Kind.MATRIX: f * f}
    n1 = sizes[k1]
    n2 = sizes[k2] if k2 != Kind.NONE else 0
    n = max(n1, n2)
    num_edge = len(EDGE)
    total = num_edge * num_edge if n2 else num_edge
    trials = []
    for t in range(-(-total // n)):
        idx = [(t * n + i) % total for i in range(n)]
        if n2:
            xs = [EDGE[j // num_edge] for j in idx]
            ys = [EDGE[j % num_edge] for j in idx]
        else:
            xs, ys = [EDGE[j] for j in idx], []
        mem = NaiveMemory.zeros(S_N, V_N, M_N, f)
        a = GRID_ADDRESSES[k1][0]
        b = GRID_ADDRESSES[k2][1] if n2 else 0
        o = GRID_ADDRESSES[ko][2]
        for kind, addr, values in ((k1, a, xs[:n1]), (k2, b, ys[:n2])):
            if kind == Kind.SCALAR:
                mem.s[addr] = values[0]
            elif kind == Kind.VECTOR:
                mem.v[addr] = values
            elif kind == Kind.MATRIX:
                mem.m[addr] = np.reshape(values, (f, f))
        trials.append((mem, make(code, out=o, in1=a, in2=b)))
    return trials


def random_addresses(rng: np.random.Generator, code: int) -> tuple[int, int, int]:
    sizes = {Kind.SCALAR: S_N, Kind.VECTOR: V_N, Kind.MATRIX: M_N, Kind.NONE: 1}
    k1, k2, ko = Kind(IN1_KIND[code]), Kind(IN2_KIND[code]), Kind(OUT_KIND[code])
    a = int(rng.integers(sizes[k1]))
    b = int(rng.integers(sizes[k2]))
    o = int(rng.integers(sizes[ko]))
    u = rng.random()
    # Aliasing is frequent on purpose: out == in1, out == in2, in1 == in2.
    if u < 0.3 and ko == k1 and k1 != Kind.NONE:
        o = a
    elif u < 0.5 and ko == k2 and k2 != Kind.NONE:
        o = b
    elif u < 0.65 and k1 == k2 and k1 != Kind.NONE:
        b = a
    return a, b, o


def random_data(rng: np.random.Generator, code: int) -> tuple[float, ...]:
    if code == 56:
        return (float(random_values(rng, 1, rng.random() < 0.3, float32=False)[0]),)
    if code in (57, 58):
        idx = [float(rng.uniform(0.0, 0.999)) for _ in range(code - 56)]
        value = float(random_values(rng, 1, rng.random() < 0.3, float32=True)[0])
        return (*idx, value)
    if code in RANDOM_OPS:
        lo, hi = rng.normal(0, 2, 2)
        if code in (59, 60, 61) and rng.random() < 0.3:
            hi = lo - abs(hi)  # alpha > beta: the op returns alpha
        return (float(lo), float(hi))
    return ()


def float32_data(data: tuple[float, ...], code: int) -> tuple[float, ...]:
    """The constants as the instruction stores them (float32 except SCALAR_CONST_SET)."""
    if code == 56:
        return data
    return tuple(float(np.float32(x)) for x in data)


# --------------------------------------------------------------------------
# The op table agrees with the signatures of docs/semantics.md §3.2.
# --------------------------------------------------------------------------


def test_naive_covers_every_op_with_the_table_signatures():
    assert sorted(NAIVE_SIGNATURES) == [op.code for op in OPS] == list(range(65))
    for op in OPS:
        expected = NAIVE_SIGNATURES[op.code]
        got = (KIND_LETTER[op.in1], KIND_LETTER[op.in2], KIND_LETTER[op.out])
        assert got == expected, op.name
    assert {op.code for op in OPS if op.random} == set(RANDOM_OPS)
    assert set(np.flatnonzero(IS_RANDOM)) == set(RANDOM_OPS)


# --------------------------------------------------------------------------
# Every op against the naive interpreter on random memory.
# --------------------------------------------------------------------------


def _compare(code: int, got: NaiveMemory, want: NaiveMemory, skip: tuple | None,
             context: str) -> None:
    for bank in ("s", "v", "m"):
        g, w = getattr(got, bank).copy(), getattr(want, bank).copy()
        if skip is not None and skip[0] == bank:
            g[skip[1]] = 0.0
            w[skip[1]] = 0.0
        if code in REDUCTIONS:
            np.testing.assert_allclose(g, w, rtol=1e-12, atol=0, equal_nan=True,
                                       err_msg=f"{context} bank {bank}")
        else:
            np.testing.assert_array_equal(g, w, err_msg=f"{context} bank {bank}")


@pytest.mark.parametrize("code", [op.code for op in OPS],
                         ids=[op.name for op in OPS])
def test_op_matches_naive_on_random_memory(code):
    f = 4
    rng = np.random.default_rng(1000 + code)
    algorithms, memories, instructions = [], [], []
    for _ in range(NUM_TRIALS):
        mem = random_memory(rng, f)
        a, b, o = random_addresses(rng, code)
        ins = make(code, out=o, in1=a, in2=b, data=random_data(rng, code))
        assert ins.data == float32_data(ins.data, code)
        algorithms.append(Algorithm(setup=load(mem, f) + [ins]))
        memories.append(mem)
        instructions.append(ins)
    for mem, ins in grid_trials(code, f):
        algorithms.append(Algorithm(setup=load(mem, f) + [ins]))
        memories.append(mem)
        instructions.append(ins)
    got_all = after_setup(algorithms, f, seeds=np.arange(len(algorithms)) + 1)
    naive_rng = np.random.default_rng(0)
    out_letter = NAIVE_SIGNATURES[code][2]
    for t, (mem, ins, got) in enumerate(zip(memories, instructions, got_all,
                                            strict=True)):
        want = mem.copy()
        naive_op(code, ins, want, f, naive_rng)
        context = f"{OPS[code].name} trial {t}: {ins}"
        if code not in RANDOM_OPS:
            _compare(code, got, want, None, context)
            continue
        # Random ops: everything but the output is untouched, and the output
        # follows the op's interval convention.
        _compare(code, got, want, (out_letter, ins.out), context)
        value = np.asarray(getattr(got, out_letter)[ins.out])
        lo, hi = ins.data[0], ins.data[1]
        if code in (59, 60, 61):
            if lo >= hi:
                assert np.all(value == lo), context
            else:
                assert np.all((value > lo) & (value < hi)), context
        else:
            assert np.all(np.isfinite(value)), context
            if hi == 0.0:
                assert np.all(value == lo), context


# --------------------------------------------------------------------------
# Aliasing: the output address equals an input address.
# --------------------------------------------------------------------------

ALIASING_CASES = [
    # (instruction, expected result of the output as a function of the inputs)
    (make("MATRIX_MATRIX_PRODUCT_OP", out=0, in1=0, in2=0),
     lambda mem: ("m", 0, mem.m[0] @ mem.m[0])),
    (make("MATRIX_MATRIX_PRODUCT_OP", out=1, in1=0, in2=1),
     lambda mem: ("m", 1, mem.m[0] @ mem.m[1])),
    (make("MATRIX_MATRIX_PRODUCT_OP", out=1, in1=1, in2=0),
     lambda mem: ("m", 1, mem.m[1] @ mem.m[0])),
    (make("MATRIX_VECTOR_PRODUCT_OP", out=1, in1=0, in2=1),
     lambda mem: ("v", 1, mem.m[0] @ mem.v[1])),
    (make("MATRIX_TRANSPOSE_OP", out=0, in1=0),
     lambda mem: ("m", 0, mem.m[0].T)),
    (make("VECTOR_OUTER_PRODUCT_OP", out=2, in1=1, in2=1),
     lambda mem: ("m", 2, np.outer(mem.v[1], mem.v[1]))),
    (make("MATRIX_ROW_MEAN_OP", out=3, in1=1),
     lambda mem: ("v", 3, mem.m[1].mean(axis=1))),
    (make("MATRIX_ROW_ST_DEV_OP", out=2, in1=2),
     lambda mem: ("v", 2, mem.m[2].std(axis=1))),
    (make("MATRIX_COLUMN_NORM_OP", out=1, in1=1),
     lambda mem: ("v", 1, np.linalg.norm(mem.m[1], axis=0))),
    (make("MATRIX_ROW_NORM_OP", out=1, in1=1),
     lambda mem: ("v", 1, np.linalg.norm(mem.m[1], axis=1))),
    (make("VECTOR_DIFF_OP", out=3, in1=3, in2=3),
     lambda mem: ("v", 3, np.zeros(4))),
    (make("SCALAR_VECTOR_PRODUCT_OP", out=2, in1=2, in2=2),
     lambda mem: ("v", 2, mem.s[2] * mem.v[2])),
    (make("SCALAR_MATRIX_PRODUCT_OP", out=0, in1=0, in2=0),
     lambda mem: ("m", 0, mem.s[0] * mem.m[0])),
    (make("VECTOR_INNER_PRODUCT_OP", out=3, in1=3, in2=3),
     lambda mem: ("s", 3, float(mem.v[3] @ mem.v[3]))),
    (make("SCALAR_DIVISION_OP", out=4, in1=4, in2=5),
     lambda mem: ("s", 4, mem.s[4] / mem.s[5])),
    (make("MATRIX_MIN_OP", out=1, in1=2, in2=1),
     lambda mem: ("m", 1, np.minimum(mem.m[2], mem.m[1]))),
    (make("VECTOR_COLUMN_BROADCAST_OP", out=0, in1=0),
     lambda mem: ("m", 0, np.repeat(mem.v[0][:, None], 4, axis=1))),
]


@pytest.mark.parametrize("case", range(len(ALIASING_CASES)),
                         ids=[str(c[0]).strip() for c in ALIASING_CASES])
def test_aliasing(case):
    """``m0 = matmul(m0, m0)`` etc. compute the whole right-hand side first."""
    ins, expected = ALIASING_CASES[case]
    rng = np.random.default_rng(77 + case)
    mems = []
    for _ in range(5):
        mem = NaiveMemory(rng.normal(size=S_N),
                          rng.normal(size=(V_N, 4)).astype(np.float32).astype(float),
                          rng.normal(size=(M_N, 4, 4)).astype(np.float32).astype(float))
        mems.append(mem)
    got_all = after_setup([Algorithm(setup=load(m, 4) + [ins]) for m in mems])
    for mem, got in zip(mems, got_all, strict=True):
        bank, addr, value = expected(mem)
        np.testing.assert_allclose(getattr(got, bank)[addr], value, rtol=1e-12,
                                   atol=1e-15)
        want = mem.copy()
        naive_op(ins.op, ins, want, 4)
        np.testing.assert_allclose(getattr(want, bank)[addr], value, rtol=1e-12,
                                   atol=1e-15)
        _compare(ins.op, got, want, None, str(ins))


# --------------------------------------------------------------------------
# Values from docs/semantics.md and the original's ExecuteInstructionTest (F = 4).
# The inputs are loaded exactly (in double precision) through one-hot vectors:
# s5 = x_i; v4 = s5 * e_i; v_k = v_k + v4 (scratch s5, v3, v4, v5, m2).
# --------------------------------------------------------------------------


def load_vector_exact(k: int, values, f: int = 4) -> list[Instruction]:
    out = []
    for i, x in enumerate(values):
        out += [make("VECTOR_CONST_SET_OP", out=5, data=(index_to_float(i, f), 1.0)),
                make("SCALAR_CONST_SET_OP", out=5, data=(float(x),)),
                make("SCALAR_VECTOR_PRODUCT_OP", out=4, in1=5, in2=5),
                make("VECTOR_SUM_OP", out=k, in1=k, in2=4),
                make("VECTOR_CONST_SET_OP", out=5, data=(index_to_float(i, f), 0.0))]
    return out


def load_matrix_exact(k: int, values, f: int = 4) -> list[Instruction]:
    rows = np.asarray(values, dtype=float).reshape(f, f)
    out = []
    for i in range(f):
        out += [make("VECTOR_DIFF_OP", out=3, in1=3, in2=3)]  # v3 = 0
        out += load_vector_exact(3, rows[i], f)
        out += [make("VECTOR_CONST_SET_OP", out=5, data=(index_to_float(i, f), 1.0)),
                make("VECTOR_OUTER_PRODUCT_OP", out=2, in1=5, in2=3),  # row i
                make("MATRIX_SUM_OP", out=k, in1=k, in2=2),
                make("VECTOR_CONST_SET_OP", out=5, data=(index_to_float(i, f), 0.0))]
    return out


def load_exact(kind: str, addr: int, value) -> list[Instruction]:
    if kind == "s":
        return [make("SCALAR_CONST_SET_OP", out=addr, data=(float(value),))]
    if kind == "v":
        return load_vector_exact(addr, value)
    return load_matrix_exact(addr, value)


MA = [0.1, 2.5, -0.5, -2.2, 10.3, -0.06, 0.7, -2.1, 22.0, 5.0, -5.0, -22.0,
      0.4, 19.05, -0.05, -0.22]
MB = [10.0, 2.0, -0.5, 0.003, 10.3, 0.06, -7.3, -8.0, -28.0, 0.076, 3.0, -32.0,
      0.4, -2.0, 0.08, -0.7]
MT = [0.0, 0.5, -0.5, -2.2, 2.2, -0.5, 0.5, -2.2, 22.0, 5.0, -5.0, -22.0,
      0.22, 0.05, -0.05, -0.22]
PI = math.pi

# (op, in1 value, in2 value or None, expected output). As in executor_test.cc,
# in1 = address 1, in2 = address 0 and out = address 1 (so out aliases in1).
SPEC_CASES = [
    ("SCALAR_SUM_OP", 0.5, 2.0, 2.5),
    ("SCALAR_DIFF_OP", -0.2, 2.3, -2.5),
    ("SCALAR_PRODUCT_OP", -0.2, 2.3, -0.46),
    ("SCALAR_DIVISION_OP", 8.8, -2.0, -4.4),
    ("SCALAR_DIVISION_OP", 0.0, 0.0, NAN),
    ("SCALAR_DIVISION_OP", 1.0, 0.0, INF),
    ("SCALAR_DIVISION_OP", -1.0, 0.0, -INF),
    ("SCALAR_MIN_OP", 0.5, 2.2, 0.5),
    ("SCALAR_MIN_OP", 2.2, -0.5, -0.5),
    ("SCALAR_MAX_OP", -2.2, -0.5, -0.5),
    ("SCALAR_MAX_OP", 0.5, -2.2, 0.5),
    ("SCALAR_ABS_OP", -2.5, None, 2.5),
    ("SCALAR_RECIPROCAL_OP", -4.0, None, -0.25),
    ("SCALAR_RECIPROCAL_OP", 0.0, None, INF),
    ("SCALAR_HEAVYSIDE_OP", -0.5, None, 0.0),
    ("SCALAR_HEAVYSIDE_OP", 0.5, None, 1.0),
    ("SCALAR_HEAVYSIDE_OP", 0.0, None, 1.0),  # >= 0 for scalars
    ("SCALAR_SIN_OP", PI / 6.0, None, 0.5),
    ("SCALAR_SIN_OP", 3 * PI / 2, None, -1.0),
    ("SCALAR_COS_OP", PI / 3.0, None, 0.5),
    ("SCALAR_COS_OP", PI, None, -1.0),
    ("SCALAR_TAN_OP", PI / 4.0, None, 1.0),
    ("SCALAR_TAN_OP", 3 * PI / 4.0, None, -1.0),
    ("SCALAR_ARCSIN_OP", 0.5, None, PI / 6.0),
    ("SCALAR_ARCSIN_OP", 1.5, None, NAN),
    ("SCALAR_ARCCOS_OP", -1.0, None, PI),
    ("SCALAR_ARCCOS_OP", -1.5, None, NAN),
    ("SCALAR_ARCTAN_OP", -1.0, None, -PI / 4.0),
    ("SCALAR_ARCTAN_OP", INF, None, PI / 2.0),
    ("SCALAR_EXP_OP", 1.0, None, math.e),
    ("SCALAR_EXP_OP", 1000.0, None, INF),
    ("SCALAR_EXP_OP", -INF, None, 0.0),
    ("SCALAR_LOG_OP", math.e, None, 1.0),
    ("SCALAR_LOG_OP", 0.0, None, -INF),
    ("SCALAR_LOG_OP", -0.1, None, NAN),
    ("SCALAR_LOG_OP", INF, None, INF),
    ("VECTOR_SUM_OP", [0.1, -0.1, 1.2, -10.0], [2.3, -0.3, 0.5, -0.001],
     [2.4, -0.4, 1.7, -10.001]),
    ("VECTOR_DIFF_OP", [0.1, -0.1, 1.2, -10.0], [2.3, -0.3, 0.5, -0.001],
     [-2.2, 0.2, 0.7, -9.999]),
    ("VECTOR_PRODUCT_OP", [0.1, -0.1, 1.2, -10.0], [2.3, -0.3, 0.5, -0.001],
     [0.23, 0.03, 0.6, 0.01]),
    ("VECTOR_DIVISION_OP", [7.0, -18.18, 1.0, 0.0], [2.0, 3.0, 0.5, -0.5],
     [3.5, -6.06, 2.0, -0.0]),
    ("VECTOR_DIVISION_OP", [7.0, 1.0, 0.0, -1.0], [2.0, 0.0, 0.0, 0.0],
     [3.5, INF, NAN, -INF]),
    ("VECTOR_MIN_OP", [0.5, 2.2, -2.2, 2.2], [2.2, 0.5, -0.5, -0.5],
     [0.5, 0.5, -2.2, -0.5]),
    ("VECTOR_MAX_OP", [0.5, 2.2, -2.2, 0.5], [2.2, 0.5, -0.5, -2.2],
     [2.2, 2.2, -0.5, 0.5]),
    ("VECTOR_ABS_OP", [0.5, 0.0, -2.2, 100.5], None, [0.5, 0.0, 2.2, 100.5]),
    ("VECTOR_HEAVYSIDE_OP", [-0.01, 0.001, 1.3, 0.0], None, [0.0, 1.0, 1.0, 0.0]),
    ("VECTOR_RECIPROCAL_OP", [2.0, -0.5, 0.0, 4.0], None, [0.5, -2.0, INF, 0.25]),
    ("SCALAR_BROADCAST_OP", -1.25, None, [-1.25] * 4),
    ("SCALAR_VECTOR_PRODUCT_OP", -0.2, [2.3, -0.3, 0.5, -0.001],
     [-0.46, 0.06, -0.1, 0.0002]),
    ("VECTOR_INNER_PRODUCT_OP", [-0.01, 0.0, 1.3, -0.001], [2.3, 0.3, 0.5, -0.001],
     0.627001),
    ("VECTOR_OUTER_PRODUCT_OP", [0.1, -0.1, 1.2, -10.0], [2.3, -0.3, 0.5, -0.001],
     [0.23, -0.03, 0.05, -0.0001, -0.23, 0.03, -0.05, 0.0001,
      2.76, -0.36, 0.6, -0.0012, -23, 3.0, -5.0, 0.01]),
    ("VECTOR_NORM_OP", [2.2, -0.5, 0.0, 0.01], None, 2.25612499654),
    ("VECTOR_MEAN_OP", [-0.01, -0.2, 1.3, -0.001], None, 0.27225),
    ("VECTOR_ST_DEV_OP", [2.2, -0.5, 0.0, 0.01], None, 1.04391989635),
    ("VECTOR_COLUMN_BROADCAST_OP", [1.0, 2.0, 3.0, 4.0], None,
     [1.0] * 4 + [2.0] * 4 + [3.0] * 4 + [4.0] * 4),
    ("VECTOR_ROW_BROADCAST_OP", [1.0, 2.0, 3.0, 4.0], None, [1.0, 2.0, 3.0, 4.0] * 4),
    ("SCALAR_MATRIX_PRODUCT_OP", 0.5, MT, [0.5 * x for x in MT]),
    ("MATRIX_VECTOR_PRODUCT_OP",
     [-0.2, 1.0, 0.03, 0.0, 0.0, 0.8, -0.01, 0.0, 2.0, 0.0, 2.0, 5.0,
      -0.001, -0.1, 2.5, -3.2],
     [0.1, -2.2, 10.0, 0.0], [-1.92, -1.86, 20.2, 25.2199]),
    ("MATRIX_NORM_OP", MT, None, 32.149989113528484),
    ("MATRIX_TRANSPOSE_OP", MT, None,
     [0.0, 2.2, 22.0, 0.22, 0.5, -0.5, 5.0, 0.05, -0.5, 0.5, -5.0, -0.05,
      -2.2, -2.2, -22.0, -0.22]),
    ("MATRIX_MATRIX_PRODUCT_OP", MA, MB,
     [39.87, 4.712, -19.976, -2.4597, 81.942, 24.8496, -2.78, -20.4191,
      402.7, 87.92, -64.26, 135.466, 201.527, 2.3792, -139.4326, -150.6448]),
    ("MATRIX_MEAN_OP", MA, None, 1.745),
    ("MATRIX_ST_DEV_OP", MA, None, 9.5352523563878488),
    ("MATRIX_ROW_MEAN_OP", MA, None, [-0.025, 2.21, 0.0, 4.795]),
    ("MATRIX_ROW_ST_DEV_OP", MA, None,
     [1.68430252627, 4.78166289067, 15.9530561335, 8.23324510749]),
    ("MATRIX_ROW_NORM_OP", MT, None,
     [math.hypot(0.0, 0.5, -0.5, -2.2), math.hypot(2.2, -0.5, 0.5, -2.2),
      math.hypot(22.0, 5.0, -5.0, -22.0), math.hypot(0.22, 0.05, -0.05, -0.22)]),
    ("MATRIX_COLUMN_NORM_OP", MT, None,
     [math.hypot(0.0, 2.2, 22.0, 0.22), math.hypot(0.5, -0.5, 5.0, 0.05),
      math.hypot(-0.5, 0.5, -5.0, -0.05), math.hypot(-2.2, -2.2, -22.0, -0.22)]),
    ("MATRIX_ABS_OP", MT, None, [abs(x) for x in MT]),
    ("MATRIX_HEAVYSIDE_OP", MT, None, [1.0 if x > 0 else 0.0 for x in MT]),
    ("MATRIX_RECIPROCAL_OP", MB, None, [1.0 / x for x in MB]),
    ("MATRIX_SUM_OP", MA, MB, [x + y for x, y in zip(MA, MB, strict=True)]),
    ("MATRIX_DIFF_OP", MA, MB, [x - y for x, y in zip(MA, MB, strict=True)]),
    ("MATRIX_PRODUCT_OP", MA, MB, [x * y for x, y in zip(MA, MB, strict=True)]),
    ("MATRIX_DIVISION_OP", MA, MB, [x / y for x, y in zip(MA, MB, strict=True)]),
    ("MATRIX_MIN_OP", MA, MB, [min(x, y) for x, y in zip(MA, MB, strict=True)]),
    ("MATRIX_MAX_OP", MA, MB, [max(x, y) for x, y in zip(MA, MB, strict=True)]),
]


def _spec_case_algorithm(name: str, x1, x2) -> tuple[Algorithm, str]:
    op = OPS[make(name).op]
    letters = NAIVE_SIGNATURES[op.code]
    setup = load_exact(letters[0], 1, x1)
    if x2 is not None:
        setup += load_exact(letters[1], 0, x2)
    setup.append(make(op, out=1, in1=1, in2=0))
    return Algorithm(setup=setup), letters[2]


def test_spec_values():
    """Kernel and naive interpreter reproduce executor_test.cc's expected values."""
    algorithms, outs = [], []
    for name, x1, x2, _ in SPEC_CASES:
        alg, out = _spec_case_algorithm(name, x1, x2)
        algorithms.append(alg)
        outs.append(out)
    got_all = after_setup(algorithms)
    for (name, x1, x2, expected), alg, out, got in zip(SPEC_CASES, algorithms, outs,
                                                       got_all, strict=True):
        want = NaiveMemory.zeros(S_N, V_N, M_N, 4)
        for ins in alg.setup:
            naive_op(ins.op, ins, want, 4)
        expected = np.asarray(expected, dtype=float)
        for label, mem in (("kernel", got), ("naive", want)):
            value = getattr(mem, out)[1]
            np.testing.assert_allclose(np.ravel(value), np.ravel(expected),
                                       rtol=1e-9, atol=1e-12, equal_nan=True,
                                       err_msg=f"{label} {name}({x1}, {x2})")
        _compare(alg.setup[-1].op, got, want, None, name)


def test_vector_st_dev_spec_value():
    """docs/semantics.md §5.4: std([2.2, -0.5, 0, 0.01]) = 1.04391989635 at F = 4."""
    alg = Algorithm(setup=load_vector_exact(1, [2.2, -0.5, 0.0, 0.01])
                    + [make("VECTOR_ST_DEV_OP", out=2, in1=1)])
    (got,) = after_setup([alg])
    np.testing.assert_array_equal(got.v[1], [2.2, -0.5, 0.0, 0.01])
    assert got.s[2] == pytest.approx(1.04391989635, rel=1e-11)


def test_st_dev_uses_the_naive_formula():
    """sqrt(E[x^2] - E[x]^2) can take the root of a tiny negative number: NaN,
    where np.std gives a tiny positive number (docs/semantics.md §3.5). F = 16, a
    vector equal to c but for one element one ulp away. (A constant vector gives
    exactly 0: with the sums' order of §3.5, 16 equal terms add up exactly.)"""
    c, c2 = 1.5256928779971, 1.5256928779971002  # E[x^2] - E[x]^2 < 0
    setup = [make("SCALAR_CONST_SET_OP", out=2, data=(c,)),
             make("SCALAR_CONST_SET_OP", out=5, data=(c2,)),
             make("SCALAR_DIFF_OP", out=5, in1=5, in2=2),  # c2 - c, exact
             make("VECTOR_CONST_SET_OP", out=2, data=(index_to_float(4, 16), 1.0)),
             make("SCALAR_VECTOR_PRODUCT_OP", out=2, in1=5, in2=2),
             make("SCALAR_BROADCAST_OP", out=1, in1=2),
             make("VECTOR_SUM_OP", out=1, in1=1, in2=2),  # c, but c2 at index 4
             make("VECTOR_ST_DEV_OP", out=3, in1=1),
             make("VECTOR_ROW_BROADCAST_OP", out=0, in1=1),
             make("MATRIX_ROW_ST_DEV_OP", out=2, in1=0),
             make("MATRIX_ST_DEV_OP", out=4, in1=0)]
    (got,) = after_setup([Algorithm(setup=setup)], f=16)
    want = NaiveMemory.zeros(S_N, V_N, M_N, 16)
    for ins in setup:
        naive_op(ins.op, ins, want, 16)
    assert want.v[1, 4] == c2 and np.all(np.delete(want.v[1], 4) == c)
    assert math.isnan(want.s[3]) and math.isnan(got.s[3])
    assert np.all(np.isnan(got.v[2])) and np.all(np.isnan(want.v[2]))
    _compare(55, got, want, None, "std of a nearly constant vector")
    assert np.std(want.v[1]) > 0.0


def test_heaviside_asymmetry():
    """heaviside(0) is 1 for scalars (>=) and 0 for vectors and matrices (>);
    NaN gives 0 everywhere (docs/semantics.md §3.7, §3.5)."""
    xs = [0.0, -0.0, 1e-30, -1e-30, NAN, INF, -INF, 2.0]
    scalar_expected = [1.0, 1.0, 1.0, 0.0, 0.0, 1.0, 0.0, 1.0]
    ew_expected = [0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 1.0]
    algorithms = []
    for x in xs:
        algorithms.append(Algorithm(setup=[
            make("SCALAR_CONST_SET_OP", out=2, data=(x,)),
            make("SCALAR_HEAVYSIDE_OP", out=3, in1=2),
            make("VECTOR_CONST_SET_OP", out=1, data=(index_to_float(2, 4), x)),
            make("VECTOR_HEAVYSIDE_OP", out=2, in1=1),
            make("MATRIX_CONST_SET_OP", out=0,
              data=(index_to_float(1, 4), index_to_float(3, 4), x)),
            make("MATRIX_HEAVYSIDE_OP", out=1, in1=0)]))
    got_all = after_setup(algorithms)
    for x, se, ee, got, alg in zip(xs, scalar_expected, ew_expected, got_all,
                                   algorithms, strict=True):
        assert got.s[3] == se, x
        np.testing.assert_array_equal(got.v[2], [0.0, 0.0, ee, 0.0])
        expected_m = np.zeros((4, 4))
        expected_m[1, 3] = ee
        np.testing.assert_array_equal(got.m[1], expected_m)
        want = NaiveMemory.zeros(S_N, V_N, M_N, 4)
        for ins in alg.setup:
            naive_op(ins.op, ins, want, 4)
        _compare(17, got, want, None, f"heaviside({x})")


# --------------------------------------------------------------------------
# Const-set index decoding (docs/semantics.md §1.4).
# --------------------------------------------------------------------------


@pytest.mark.parametrize(("f", "row", "col"), [(16, 8, 4), (8, 4, 2), (4, 2, 1)])
def test_const_set_index_decoding(f, row, col):
    """(0.501, 0.251) is entry (8, 4) at F = 16 and (4, 2) at F = 8."""
    alg = Algorithm(setup=[
        make("MATRIX_CONST_SET_OP", out=1, data=(0.501, 0.251, -2.5)),
        make("VECTOR_CONST_SET_OP", out=2, data=(0.501, 3.25)),
        make("VECTOR_CONST_SET_OP", out=3, data=(0.251, 0.1))])
    (got,) = after_setup([alg], f=f)
    expected_m = np.zeros((f, f))
    expected_m[row, col] = -2.5
    np.testing.assert_array_equal(got.m[1], expected_m)
    expected_v = np.zeros(f)
    expected_v[row] = 3.25
    np.testing.assert_array_equal(got.v[2], expected_v)
    assert got.v[3, col] == float(np.float32(0.1))  # the value is stored as float32
    assert np.count_nonzero(got.v[3]) == 1
    assert (float_to_index(0.501, f), float_to_index(0.251, f)) == (row, col)


@pytest.mark.parametrize("f", [4, 16])
def test_index_to_float_round_trips(f):
    """Every element is reachable: IndexToFloat(i) decodes back to i."""
    setup = []
    for i in range(f):
        setup.append(make("VECTOR_CONST_SET_OP", out=1,
                       data=(index_to_float(i, f), float(i + 1))))
        for j in range(f):
            setup.append(make("MATRIX_CONST_SET_OP", out=2,
                           data=(index_to_float(i, f), index_to_float(j, f),
                                 float(i * f + j + 1))))
    (got,) = after_setup([Algorithm(setup=setup)], f=f)
    np.testing.assert_array_equal(got.v[1], np.arange(1, f + 1))
    np.testing.assert_array_equal(got.m[2], np.arange(1, f * f + 1).reshape(f, f))
    assert [float_to_index(index_to_float(i, f), f) for i in range(f)] == list(range(f))


# --------------------------------------------------------------------------
# Random ops (59-64), F = 16.
# --------------------------------------------------------------------------


def _random_setup(lo: float, hi: float, mu: float, sigma: float) -> list[Instruction]:
    return [make("SCALAR_UNIFORM_SET_OP", out=2, data=(lo, hi)),
            make("VECTOR_UNIFORM_SET_OP", out=1, data=(lo, hi)),
            make("MATRIX_UNIFORM_SET_OP", out=0, data=(lo, hi)),
            make("SCALAR_GAUSSIAN_SET_OP", out=3, data=(mu, sigma)),
            make("VECTOR_GAUSSIAN_SET_OP", out=2, data=(mu, sigma)),
            make("MATRIX_GAUSSIAN_SET_OP", out=1, data=(mu, sigma))]


def test_uniform_draws_lie_in_the_open_interval():
    lo, hi = -0.5, 0.625
    n_alg = 20
    mems = after_setup([Algorithm(setup=_random_setup(lo, hi, 0.0, 1.0))] * n_alg,
                       f=16, seeds=np.arange(n_alg) + 100)
    draws = np.concatenate([np.concatenate([[m.s[2]], m.v[1], m.m[0].ravel()])
                            for m in mems])
    assert draws.size == n_alg * (1 + 16 + 256)
    assert np.all(draws > lo) and np.all(draws < hi)
    width = hi - lo
    assert abs(draws.mean() - (lo + hi) / 2) < 0.02 * width
    assert draws.min() - lo < 0.01 * width and hi - draws.max() < 0.01 * width
    # Roughly uniform: each tenth of the interval gets ~10% of the draws.
    counts, _ = np.histogram(draws, bins=10, range=(lo, hi))
    assert np.all(np.abs(counts / draws.size - 0.1) < 0.02)
    # The naive interpreter follows the same convention.
    naive_rng = np.random.default_rng(5)
    want = NaiveMemory.zeros(S_N, V_N, M_N, 16)
    for ins in _random_setup(lo, hi, 0.0, 1.0):
        naive_op(ins.op, ins, want, 16, naive_rng)
    assert np.all((want.m[0] > lo) & (want.m[0] < hi))


@pytest.mark.parametrize(("lo", "hi"), [(2.5, 2.5), (3.0, -1.0), (0.6, 0.2),
                                        (-0.1, -0.2)])
def test_uniform_with_alpha_not_below_beta_gives_alpha(lo, hi):
    """absl::Uniform returns lo when lo >= hi: uniform(0.6, 0.2) is 0.6."""
    (got,) = after_setup([Algorithm(setup=_random_setup(lo, hi, 0.0, 1.0))], f=16,
                         seeds=[3])
    alpha = float(np.float32(lo))
    assert got.s[2] == alpha
    np.testing.assert_array_equal(got.v[1], np.full(16, alpha))
    np.testing.assert_array_equal(got.m[0], np.full((16, 16), alpha))
    want = NaiveMemory.zeros(S_N, V_N, M_N, 16)
    for ins in _random_setup(lo, hi, 0.0, 1.0)[:3]:
        naive_op(ins.op, ins, want, 16, np.random.default_rng(0))
    np.testing.assert_array_equal(want.m[0], got.m[0])


def test_uniform_with_a_non_finite_range_gives_alpha():
    algs = [Algorithm(setup=[make("SCALAR_UNIFORM_SET_OP", out=2, data=(lo, hi)),
                             make("VECTOR_UNIFORM_SET_OP", out=1, data=(lo, hi)),
                             make("MATRIX_UNIFORM_SET_OP", out=0, data=(lo, hi))])
            for lo, hi in ((-INF, INF), (0.0, INF), (-INF, 0.0))]
    got_all = after_setup(algs, f=16, seeds=[1, 2, 3])
    for alg, got in zip(algs, got_all, strict=True):
        alpha = alg.setup[0].data[0]
        want = NaiveMemory.zeros(S_N, V_N, M_N, 16)
        for ins in alg.setup:
            naive_op(ins.op, ins, want, 16, np.random.default_rng(0))
        assert want.s[2] == alpha  # the reference follows absl
        assert got.s[2] == alpha
        np.testing.assert_array_equal(got.v[1], np.full(16, alpha))
        np.testing.assert_array_equal(got.m[0], np.full((16, 16), alpha))


def test_gaussian_sample_statistics():
    mu, sigma = -2.0, 1.3
    n_alg = 10
    mems = after_setup([Algorithm(setup=_random_setup(0.0, 1.0, mu, sigma))] * n_alg,
                       f=16, seeds=np.arange(n_alg) + 7)
    draws = np.concatenate([m.m[1].ravel() for m in mems])
    n = draws.size
    assert n == n_alg * 256
    assert abs(draws.mean() - mu) < 4 * sigma / math.sqrt(n)
    assert abs(draws.std() / sigma - 1.0) < 0.06
    # Roughly normal: ~68% within one sigma, ~95% within two.
    z = np.abs(draws - mu) / sigma
    assert abs(np.mean(z < 1.0) - 0.6827) < 0.04
    assert abs(np.mean(z < 2.0) - 0.9545) < 0.02
    others = np.concatenate([np.concatenate([[m.s[3]], m.v[2]]) for m in mems])
    assert np.all(np.abs(others - mu) < 6 * sigma)
    assert len(np.unique(others)) == others.size


def test_gaussian_with_zero_sigma_gives_mu_and_negative_sigma_acts_like_abs():
    mems = after_setup([Algorithm(setup=_random_setup(0.0, 1.0, 0.75, 0.0)),
                        Algorithm(setup=_random_setup(0.0, 1.0, 0.75, -2.0))],
                       f=16, seeds=[11, 12])
    zero, negative = mems
    assert zero.s[3] == 0.75
    np.testing.assert_array_equal(zero.v[2], np.full(16, 0.75))
    np.testing.assert_array_equal(zero.m[1], np.full((16, 16), 0.75))
    draws = negative.m[1].ravel()
    assert abs(draws.mean() - 0.75) < 4 * 2.0 / 16
    assert abs(draws.std() / 2.0 - 1.0) < 0.15


def test_random_ops_are_deterministic_given_the_seed():
    alg = Algorithm(setup=_random_setup(-1.0, 1.0, 0.0, 1.0))
    a, b, c = after_setup([alg, alg, alg], f=16, seeds=[42, 42, 43])
    (again,) = after_setup([alg], f=16, seeds=[42])
    for x, y in ((a, b), (a, again)):
        np.testing.assert_array_equal(x.s, y.s)
        np.testing.assert_array_equal(x.v, y.v)
        np.testing.assert_array_equal(x.m, y.m)
    assert a.s[2] != c.s[2] and a.s[3] != c.s[3]
    assert np.all(a.v[1] != c.v[1]) and np.all(a.m[1] != c.m[1])
