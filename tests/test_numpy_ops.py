"""The op table's ``numpy`` column against its ``body`` (docs/semantics.md §3).

For every op, many random memories (with NaN, inf, signed zeros, huge and tiny
values, constant vectors and matrices), addresses (aliasing included) and
constants: the NumPy statement, run by the runtime's interpreter, leaves the
same memory as the op's ``body`` executed as plain Python over NumPy arrays.
The runtime adds in the body's order, so results are bit-identical (signs of
zeros included) except for the scalar transcendental ops, where the runtime
calls the C library (as the numba kernel does) and the plain-Python body
NumPy's own functions: those agree to a few ulps. Random ops must draw the
same numbers in the same order from equally seeded generators.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from automl_zero.export import runtime
from automl_zero.export.runtime import Xoshiro256Plus, compile_statement
from automl_zero.language.ops import OPS, DataKind, Kind

SIZES = (4, 3, 3)  # small memories: aliasing is frequent
FEATURE_SIZES = (1, 2, 3, 4, 5, 7, 8, 9, 11)  # lane tails, trees, F >= 8 paths;
# F = 11: float32 index decoding differs from float64 just below k / F
TRIALS = 12
SPECIAL = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 1e308, -1e308,
                    5e-324, 0.5, 2.0, 1e-300])
# C library vs NumPy's scalar functions (bodies call np.sin etc.).
TRANSCENDENTAL = {"SCALAR_SIN_OP", "SCALAR_COS_OP", "SCALAR_TAN_OP", "SCALAR_ARCSIN_OP",
                  "SCALAR_ARCCOS_OP", "SCALAR_ARCTAN_OP", "SCALAR_EXP_OP",
                  "SCALAR_LOG_OP"}


def _values(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Random values of a few styles: normal, wide, special, constant."""
    style = rng.integers(5)
    if style == 0:
        x = rng.normal(size=shape)
    elif style == 1:
        x = rng.normal(size=shape) * 10.0 ** rng.integers(-5, 6, size=shape)
    elif style == 2:  # mostly ordinary, some special values
        x = rng.normal(size=shape)
        mask = rng.random(shape) < 0.3
        x[mask] = rng.choice(SPECIAL, size=int(mask.sum()))
    elif style == 3:  # a constant (std of constants, min/max ties)
        x = np.full(shape, rng.choice([0.1, -0.0, 3.0, 1.0 / 3.0, np.nan]))
    else:  # small integers: ties and exact zeros
        x = rng.integers(-2, 3, size=shape).astype(np.float64)
    return x


def _memory(rng: np.random.Generator, F: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    S, V, M = SIZES
    s = _values(rng, (S,))
    v = np.stack([_values(rng, (F,)) for _ in range(V)])
    m = np.stack([_values(rng, (F, F)) for _ in range(M)])
    return s, v, m


def _f32(x: float) -> float:
    with np.errstate(over="ignore"):
        return float(np.float32(x))


def _constants(rng: np.random.Generator, kind: DataKind, F: int) -> tuple[float, float, float]:
    def any_value() -> float:
        if rng.random() < 0.3:
            return float(rng.choice(SPECIAL))
        return float(rng.normal() * 10.0 ** rng.integers(-3, 4))

    def index_code() -> float:
        r = rng.random()
        if r < 0.2:
            return float(rng.choice([0.0, 1.0, np.nextafter(np.float32(1), np.float32(0))]))
        if r < 0.6:  # at or just below an element boundary k / F (float32 rounding)
            code = np.float32(int(rng.integers(F + 1)) / F)
            if rng.random() < 0.5:
                code = np.nextafter(code, np.float32(0))
            return float(code)
        return _f32(rng.random())

    if kind == DataKind.ACTIVATION:
        return (any_value(), 0.0, 0.0)
    if kind == DataKind.VECTOR_INDEX_VALUE:
        return (index_code(), _f32(any_value()), 0.0)
    if kind == DataKind.MATRIX_INDEX_VALUE:
        return (index_code(), index_code(), _f32(any_value()))
    if kind in (DataKind.UNIFORM, DataKind.GAUSSIAN):
        r = rng.random()
        if r < 0.15:
            low = high = _f32(rng.normal())
        elif r < 0.3:
            low, high = _f32(any_value()), _f32(any_value())
        else:
            low, high = _f32(rng.normal()), _f32(rng.normal())
        return (low, high, 0.0)
    return (0.0, 0.0, 0.0)


def _address(rng: np.random.Generator, kind: Kind) -> int:
    if kind == Kind.NONE:
        return 0
    return int(rng.integers(SIZES[kind - 1]))


def _run_body(body: str, memory, a, b, o, d, F, rng: Xoshiro256Plus) -> None:
    """The op's body as plain Python (numba's loops over NumPy arrays)."""
    s, v, m = memory
    namespace = {
        "np": np, "s": s, "v": v, "m": m, "a": a, "b": b, "o": o,
        "d0": d[0], "d1": d[1], "d2": d[2], "F": F,
        "tv": np.zeros(F), "tm": np.zeros((F, F)), "tr": np.zeros(max(F * F, 4)),
        "rng": rng,
        "_uniform": lambda r, low, high: low + (high - low) * r.uniform01(),
        "_gaussian": lambda r: r.normal(),
    }
    exec(body, namespace)


def _assert_same(got: np.ndarray, want: np.ndarray, exact: bool, what: str) -> None:
    if exact:
        np.testing.assert_array_equal(got, want, err_msg=what)
        zeros = (got == 0.0) & (want == 0.0)
        np.testing.assert_array_equal(np.signbit(got[zeros]), np.signbit(want[zeros]),
                                      err_msg=f"{what}: sign of zero")
    else:
        np.testing.assert_allclose(got, want, rtol=1e-14, atol=0.0, equal_nan=True,
                                   err_msg=what)


@pytest.mark.parametrize("op", OPS, ids=[op.name for op in OPS])
def test_numpy_statement_matches_body(op) -> None:
    rng = np.random.default_rng(op.code)
    fn = compile_statement(op.numpy)
    exact = op.name not in TRANSCENDENTAL
    for F in FEATURE_SIZES:
        for trial in range(TRIALS):
            memory = _memory(rng, F)
            a, b, o = _address(rng, op.in1), _address(rng, op.in2), _address(rng, op.out)
            if trial % 4 == 0:  # full aliasing
                a = b = o = min(a, b, o) if op.out != Kind.NONE else 0
            d = _constants(rng, op.data, F)
            seed = int(rng.integers(2**32))
            want = tuple(x.copy() for x in memory)
            got = tuple(x.copy() for x in memory)
            rng_body, rng_numpy = Xoshiro256Plus(seed), Xoshiro256Plus(seed)
            if trial % 3 == 0:  # a cached second normal at the start
                rng_body.normal()
                rng_numpy.normal()
            with np.errstate(all="ignore"):
                _run_body(op.body, want, a, b, o, d, F, rng_body)
                fn(*got, a, b, o, *d, F, rng_numpy)
            what = f"{op.name} F={F} a={a} b={b} o={o} d={d}"
            for bank in range(3):
                _assert_same(got[bank], want[bank], exact, what)
            assert rng_numpy.state == rng_body.state, what
            assert (rng_numpy.has_cached, rng_numpy.cached) == \
                (rng_body.has_cached, rng_body.cached), what


def test_every_op_has_a_numpy_statement_writing_its_output() -> None:
    for op in OPS:
        assert op.numpy, op.name
        compile(op.numpy, op.name, "exec")
        if op.out == Kind.NONE:
            assert op.numpy == "pass"
        else:  # the statement stores to the op's output bank at address o
            assert op.numpy.startswith(f"{op.out.letter}[o"), op.name


def test_random_statements_draw_only_for_random_ops() -> None:
    """Deterministic statements never touch the generator (checked above per op);
    the random ones draw F * F numbers for a matrix, in row-major order."""
    F = 3
    rng = Xoshiro256Plus(7)
    expected = [rng.uniform01() for _ in range(F * F)]
    fn = compile_statement(OPS[61].numpy)  # MATRIX_UNIFORM_SET_OP
    s, v, m = np.zeros(2), np.zeros((1, F)), np.zeros((1, F, F))
    fn(s, v, m, 0, 0, 0, 0.0, 1.0, 0.0, F, Xoshiro256Plus(7))
    np.testing.assert_array_equal(m[0].reshape(-1), expected)


@pytest.mark.parametrize("x", [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e308, -1e308, 2.0,
                               -2.0, 5e-324])
def test_c_functions_give_ieee_values_not_exceptions(x: float) -> None:
    with np.errstate(all="ignore"):
        for name, ref in (("c_sin", np.sin), ("c_cos", np.cos), ("c_tan", np.tan),
                          ("c_arcsin", np.arcsin), ("c_arccos", np.arccos),
                          ("c_arctan", np.arctan), ("c_exp", np.exp), ("c_log", np.log)):
            got = getattr(runtime, name)(x)
            want = float(ref(np.float64(x)))
            if math.isnan(want):
                assert math.isnan(got), (name, x)
            else:
                assert got == pytest.approx(want, rel=1e-15), (name, x)
    assert runtime.sigmoid(-1000.0) == 0.0 and runtime.sigmoid(1000.0) == 1.0
    assert math.isnan(runtime.sigmoid(math.nan))
