"""numba kernels of the search's array engine: mutation (docs/semantics.md §8.6-§8.9) on
packed populations and compaction of programs for the executor.

A population is packed as ``code`` int32 (P, CAP, 4) = op/in1/in2/out,
``data`` float64 (P, CAP, 3) and ``sizes`` int32 (P, 3); component c of a
program occupies rows ``offsets[c] .. offsets[c] + sizes[c]`` (capacity
``caps[c]``). The semantics follow ``mutator.Mutator`` (the reference, tested
against); random numbers come from numba's generator, seeded per batch.
"""

import numba as nb
import numpy as np
from numba.core.dispatcher import Dispatcher

from automl_zero.engine.settings import MUTATION_TYPES
from automl_zero.language import instruction
from automl_zero.language.algorithm import COMPONENT_FUNCTIONS
from automl_zero.language.ops import OP_BY_NAME, DataKind, Kind
from automl_zero.language.randomizer import FIRST_OUT_ADDRESS

# Every integer code below is derived from settings.MUTATION_TYPES, the op
# table and the reserved addresses. numba freezes these globals into the
# compiled code as constants (see _refresh_stale_cache for the on-disk cache).

# Mutation type codes: positions in MUTATION_TYPES (the original's
# MutationType enum values), as PackedEvolution encodes allowed_mutation_types.
_TYPE_CODE = {name: code for code, name in enumerate(MUTATION_TYPES)}
ALTER_PARAM = _TYPE_CODE["ALTER_PARAM_MUTATION_TYPE"]
RANDOMIZE_INSTRUCTION = _TYPE_CODE["RANDOMIZE_INSTRUCTION_MUTATION_TYPE"]
RANDOMIZE_COMPONENT_FUNCTION = _TYPE_CODE["RANDOMIZE_COMPONENT_FUNCTION_MUTATION_TYPE"]
IDENTITY = _TYPE_CODE["IDENTITY_MUTATION_TYPE"]
INSERT_INSTRUCTION = _TYPE_CODE["INSERT_INSTRUCTION_MUTATION_TYPE"]
REMOVE_INSTRUCTION = _TYPE_CODE["REMOVE_INSTRUCTION_MUTATION_TYPE"]
TRADE_INSTRUCTION = _TYPE_CODE["TRADE_INSTRUCTION_MUTATION_TYPE"]
RANDOMIZE_ALGORITHM = _TYPE_CODE["RANDOMIZE_ALGORITHM_MUTATION_TYPE"]

# Address kinds (ops.Kind): the values of the in1/in2/out kind tables. Memory
# sizes ``mem`` are (scalar, vector, matrix): kind k has mem[k - _SCALAR].
_NO_KIND = int(Kind.NONE)
_SCALAR = int(Kind.SCALAR)
_VECTOR = int(Kind.VECTOR)
_MATRIX = int(Kind.MATRIX)
assert (_VECTOR, _MATRIX) == (_SCALAR + 1, _SCALAR + 2), "mem is indexed by kind"

# What an instruction's constants mean (ops.DataKind): the data kind table.
_NO_DATA = int(DataKind.NONE)
_ACTIVATION = int(DataKind.ACTIVATION)
_VECTOR_INDEX_VALUE = int(DataKind.VECTOR_INDEX_VALUE)
_MATRIX_INDEX_VALUE = int(DataKind.MATRIX_INDEX_VALUE)
_UNIFORM = int(DataKind.UNIFORM)
_GAUSSIAN = int(DataKind.GAUSSIAN)

_NO_OP = OP_BY_NAME["NO_OP"].code

# First address a random output may use: outputs never write s0 / v0.
_FIRST_OUT_SCALAR = FIRST_OUT_ADDRESS[Kind.SCALAR]
_FIRST_OUT_VECTOR = FIRST_OUT_ADDRESS[Kind.VECTOR]
_FIRST_OUT_MATRIX = FIRST_OUT_ADDRESS[Kind.MATRIX]

# Component functions, in packed order (setup, predict, learn).
_SETUP = COMPONENT_FUNCTIONS.index("setup")
_PREDICT = COMPONENT_FUNCTIONS.index("predict")
_FEATURES = instruction.FEATURES_VECTOR_ADDRESS  # v0

# Dead-code removal: an address set is one int64, ADDRESS_BITS bits per kind
# (scalar k -> bit k, vector k -> ADDRESS_BITS + k, matrix k -> 2 ADDRESS_BITS + k),
# so programs over at most ADDRESS_BITS addresses of each kind.
ADDRESS_BITS = 21


def _bit_of(kind: Kind, address: int) -> int:
    return 1 << ((int(kind) - _SCALAR) * ADDRESS_BITS + address)


# s1: read after every Predict.
_S1_BIT = _bit_of(Kind.SCALAR, instruction.PREDICTIONS_SCALAR_ADDRESS)
# s0 and v0: written by the executor before every Predict and Learn, so never
# live across them.
_IO_BITS = (_bit_of(Kind.SCALAR, instruction.LABELS_SCALAR_ADDRESS)
            | _bit_of(Kind.VECTOR, instruction.FEATURES_VECTOR_ADDRESS))
# Multi-class tasks (docs/semantics.md §4.13): the executor reads v2 after
# every Predict (not s1) and also writes v1 (the label vector) before every
# Predict and Learn.
_MULTICLASS_OUT_BITS = _bit_of(Kind.VECTOR, instruction.PREDICTIONS_VECTOR_ADDRESS)
_MULTICLASS_IO_BITS = _IO_BITS | _bit_of(Kind.VECTOR, instruction.LABELS_VECTOR_ADDRESS)


def dead_code_masks(multiclass: bool) -> tuple[int, int]:
    """(output bits, I/O bits) of ``remove_dead_code`` for scalar-output or
    multi-class tasks."""
    if multiclass:
        return _MULTICLASS_OUT_BITS, _MULTICLASS_IO_BITS
    return _S1_BIT, _IO_BITS

# Every integer global the kernels read, as the compiled code must see it.
_CONSTANT_NAMES = (
    "ALTER_PARAM", "RANDOMIZE_INSTRUCTION", "RANDOMIZE_COMPONENT_FUNCTION", "IDENTITY",
    "INSERT_INSTRUCTION", "REMOVE_INSTRUCTION", "TRADE_INSTRUCTION",
    "RANDOMIZE_ALGORITHM", "_NO_KIND", "_SCALAR", "_VECTOR", "_MATRIX", "_NO_DATA",
    "_ACTIVATION", "_VECTOR_INDEX_VALUE", "_MATRIX_INDEX_VALUE", "_UNIFORM",
    "_GAUSSIAN", "_NO_OP", "_FIRST_OUT_SCALAR", "_FIRST_OUT_VECTOR",
    "_FIRST_OUT_MATRIX", "_SETUP", "_PREDICT", "_FEATURES", "ADDRESS_BITS", "_S1_BIT",
    "_IO_BITS", "_MULTICLASS_OUT_BITS", "_MULTICLASS_IO_BITS",
)
_CONSTANTS = tuple(int(globals()[name]) for name in _CONSTANT_NAMES)


@nb.njit(cache=True)
def _f32(x):
    return np.float64(np.float32(x))


@nb.njit(cache=True)
def _log_scale(x, flip):
    """The original's MutateActivation/FloatLogScale(OrFlip)."""
    if flip and np.random.random() < 0.1:
        return -x
    if x == 0.0:
        return -0.0  # as the original's -exp(log(0) + g) (and mutator.Mutator)
    if not np.isfinite(x):
        return x
    mag = np.exp(np.log(abs(x)) + np.random.standard_normal())
    return mag if x > 0 else -mag


@nb.njit(cache=True)
def _address(kind, mem, output):
    """A uniform address of ``kind``; outputs never s0 / v0."""
    low = 0
    if output:
        if kind == _SCALAR:
            low = _FIRST_OUT_SCALAR
        elif kind == _VECTOR:
            low = _FIRST_OUT_VECTOR
        else:
            low = _FIRST_OUT_MATRIX
    return low + np.random.randint(mem[kind - _SCALAR] - low)


@nb.njit(cache=True)
def _random_data(kind, out_data):
    if kind == _ACTIVATION:
        out_data[0] = np.random.uniform(-1.0, 1.0)
    elif kind == _VECTOR_INDEX_VALUE:
        out_data[0] = _f32(np.random.random())
        out_data[1] = _f32(np.random.uniform(-1.0, 1.0))
    elif kind == _MATRIX_INDEX_VALUE:
        out_data[0] = _f32(np.random.random())
        out_data[1] = _f32(np.random.random())
        out_data[2] = _f32(np.random.uniform(-1.0, 1.0))
    elif kind == _GAUSSIAN:
        out_data[0] = _f32(np.random.uniform(-1.0, 1.0))
        out_data[1] = _f32(np.random.random())
    elif kind == _UNIFORM:
        out_data[0] = _f32(np.random.uniform(-1.0, 1.0))
        out_data[1] = _f32(np.random.uniform(-1.0, 1.0))


@nb.njit(cache=True)
def _random_instruction(op, code_row, data_row, mem, in1_kind, in2_kind, out_kind,
                        data_kind):
    """SetOpAndRandomizeParams: all fields reset, then out/data or in1(/in2)/out."""
    code_row[0] = op
    code_row[1] = 0
    code_row[2] = 0
    code_row[3] = 0
    data_row[0] = 0.0
    data_row[1] = 0.0
    data_row[2] = 0.0
    if data_kind[op] != _NO_DATA:
        code_row[3] = _address(out_kind[op], mem, True)
        _random_data(data_kind[op], data_row)
    elif out_kind[op] != _NO_KIND:
        code_row[1] = _address(in1_kind[op], mem, False)
        if in2_kind[op] != _NO_KIND:
            code_row[2] = _address(in2_kind[op], mem, False)
        code_row[3] = _address(out_kind[op], mem, True)


@nb.njit(cache=True)
def _random_op(c, ops_flat, ops_start):
    n = ops_start[c + 1] - ops_start[c]
    return ops_flat[ops_start[c] + np.random.randint(n)]


@nb.njit(cache=True)
def _alter_param(code_row, data_row, mem, in1_kind, in2_kind, out_kind, data_kind):
    """The original's Instruction::AlterParam."""
    op = code_row[0]
    if op == _NO_OP:
        return
    if data_kind[op] != _NO_DATA:
        if np.random.randint(2) == 0:
            code_row[3] = _address(out_kind[op], mem, True)
            return
        kind = data_kind[op]
        if kind == _ACTIVATION:
            data_row[0] = _log_scale(data_row[0], True)
        elif kind == _VECTOR_INDEX_VALUE:
            if np.random.randint(2) == 0:
                data_row[0] = _f32(np.random.random())
            else:
                data_row[1] = _f32(_log_scale(data_row[1], True))
        elif kind == _MATRIX_INDEX_VALUE:
            k = np.random.randint(3)
            if k == 0:
                data_row[0] = _f32(np.random.random())
            elif k == 1:
                data_row[1] = _f32(np.random.random())
            else:
                data_row[2] = _f32(_log_scale(data_row[2], True))
        elif kind == _GAUSSIAN:
            if np.random.randint(2) == 0:
                data_row[0] = _f32(_log_scale(data_row[0], True))
            else:
                data_row[1] = _f32(_log_scale(data_row[1], False))
        elif kind == _UNIFORM:
            if np.random.randint(2) == 0:
                data_row[0] = _f32(_log_scale(data_row[0], True))
            else:
                data_row[1] = _f32(_log_scale(data_row[1], True))
            lo = min(data_row[0], data_row[1])
            hi = max(data_row[0], data_row[1])
            data_row[0] = lo
            data_row[1] = hi
        return
    if in2_kind[op] == _NO_KIND:
        if np.random.randint(2) == 0:
            code_row[1] = _address(in1_kind[op], mem, False)
        else:
            code_row[3] = _address(out_kind[op], mem, True)
        return
    k = np.random.randint(3)
    if k == 0:
        code_row[1] = _address(in1_kind[op], mem, False)
    elif k == 1:
        code_row[2] = _address(in2_kind[op], mem, False)
    else:
        code_row[3] = _address(out_kind[op], mem, True)


@nb.njit(cache=True)
def _insert(code, data, b, off, n, pos):
    """Open a row at ``pos`` of a component of ``n`` rows starting at ``off``."""
    for i in range(n, pos, -1):
        for k in range(4):
            code[b, off + i, k] = code[b, off + i - 1, k]
        for k in range(3):
            data[b, off + i, k] = data[b, off + i - 1, k]


@nb.njit(cache=True)
def _remove(code, data, b, off, n, pos):
    for i in range(pos, n - 1):
        for k in range(4):
            code[b, off + i, k] = code[b, off + i + 1, k]
        for k in range(3):
            data[b, off + i, k] = data[b, off + i + 1, k]


@nb.njit(cache=True)
def mutate_batch(pcode, pdata, psizes, parents, ccode, cdata, csizes, mutated,
                 types, mutate_prob, mutable, ops_flat, ops_start, size_min, size_max,
                 caps, offsets, mem, in1_kind, in2_kind, out_kind, data_kind, seed):
    """Children of ``parents`` (population rows) into ``ccode/cdata/csizes``.

    ``mutated[b]`` tells whether child b was mutated (else it copies its parent).
    ``types``: mutation type codes, drawn uniformly (repetition weights a type).
    ``mutable``: the components with a non-empty op list; ``ops_flat`` /
    ``ops_start`` (4,): the allowed ops of each component. ``size_max`` 0 means
    unbounded (up to the capacity ``caps``).
    """
    np.random.seed(seed)
    for b in range(parents.shape[0]):
        p = parents[b]
        for c in range(3):
            csizes[b, c] = psizes[p, c]
            o = offsets[c]
            for i in range(psizes[p, c]):
                for k in range(4):
                    ccode[b, o + i, k] = pcode[p, o + i, k]
                for k in range(3):
                    cdata[b, o + i, k] = pdata[p, o + i, k]
        mutated[b] = False
        if not (mutate_prob >= 1.0 or np.random.random() < mutate_prob):
            continue
        mutated[b] = True
        t = types[np.random.randint(types.shape[0])]
        if t == IDENTITY:
            continue
        if t == RANDOMIZE_ALGORITHM:
            for j in range(mutable.shape[0]):
                c = mutable[j]
                for i in range(csizes[b, c]):
                    r = offsets[c] + i
                    _random_instruction(_random_op(c, ops_flat, ops_start), ccode[b, r],
                                        cdata[b, r], mem, in1_kind, in2_kind, out_kind,
                                        data_kind)
            continue
        c = mutable[np.random.randint(mutable.shape[0])]
        o = offsets[c]
        n = csizes[b, c]
        if t == ALTER_PARAM:
            if n > 0:
                r = o + np.random.randint(n)
                _alter_param(ccode[b, r], cdata[b, r], mem, in1_kind, in2_kind,
                             out_kind, data_kind)
        elif t == RANDOMIZE_INSTRUCTION:
            if n > 0:
                r = o + np.random.randint(n)
                _random_instruction(_random_op(c, ops_flat, ops_start), ccode[b, r],
                                    cdata[b, r], mem, in1_kind, in2_kind, out_kind,
                                    data_kind)
        elif t == RANDOMIZE_COMPONENT_FUNCTION:
            for i in range(n):
                _random_instruction(_random_op(c, ops_flat, ops_start), ccode[b, o + i],
                                    cdata[b, o + i], mem, in1_kind, in2_kind, out_kind,
                                    data_kind)
        elif t == INSERT_INSTRUCTION:
            # The original's quirk: insertion stops at size_max - 1.
            if (size_max[c] > 0 and n >= size_max[c] - 1) or n >= caps[c]:
                continue
            pos = np.random.randint(n + 1)
            _insert(ccode, cdata, b, o, n, pos)
            _random_instruction(_random_op(c, ops_flat, ops_start), ccode[b, o + pos],
                                cdata[b, o + pos], mem, in1_kind, in2_kind, out_kind,
                                data_kind)
            csizes[b, c] = n + 1
        elif t == REMOVE_INSTRUCTION:
            if n <= size_min[c]:
                continue
            _remove(ccode, cdata, b, o, n, np.random.randint(n))
            csizes[b, c] = n - 1
        elif t == TRADE_INSTRUCTION:
            # Insert a random instruction, then remove a uniform position of the
            # longer list (possibly the new one): the size is kept.
            pos = np.random.randint(n + 1)
            gone = np.random.randint(n + 1)
            if gone == pos:
                continue  # the inserted instruction is the one removed
            if n >= caps[c]:
                # No room for the temporary extra row: remove first, then
                # insert at the position the new row ends up at.
                _remove(ccode, cdata, b, o, n, gone if gone < pos else gone - 1)
                at = pos - 1 if gone < pos else pos
                _insert(ccode, cdata, b, o, n - 1, at)
                _random_instruction(_random_op(c, ops_flat, ops_start),
                                    ccode[b, o + at], cdata[b, o + at], mem, in1_kind,
                                    in2_kind, out_kind, data_kind)
                continue
            _insert(ccode, cdata, b, o, n, pos)
            _random_instruction(_random_op(c, ops_flat, ops_start), ccode[b, o + pos],
                                cdata[b, o + pos], mem, in1_kind, in2_kind, out_kind,
                                data_kind)
            _remove(ccode, cdata, b, o, n + 1, gone)


@nb.njit(cache=True)
def compact(code, data, sizes, rows, offsets, is_random, out_kind):
    """Kernel arrays of programs ``rows`` of a packed population, NO_OPs
    dropped: (code (n, 4), data (n, 3), starts (k, 5), has_random (k,))."""
    k = rows.shape[0]
    total = 0
    for j in range(k):
        b = rows[j]
        for c in range(3):
            total += sizes[b, c]
    out_code = np.empty((total, 4), dtype=np.int32)
    out_data = np.empty((total, 3))
    starts = np.zeros((k, 5), dtype=np.int64)
    has_random = np.zeros(k, dtype=np.bool_)
    n = 0
    for j in range(k):
        b = rows[j]
        starts[j, 0] = n
        for c in range(3):
            o = offsets[c]
            for i in range(sizes[b, c]):
                op = code[b, o + i, 0]
                if op == _NO_OP:
                    continue
                for q in range(4):
                    out_code[n, q] = code[b, o + i, q]
                for q in range(3):
                    out_data[n, q] = data[b, o + i, q]
                if is_random[op]:
                    has_random[j] = True
                if (c == _PREDICT and out_kind[op] == _VECTOR
                        and code[b, o + i, 3] == _FEATURES):
                    starts[j, 4] = 1  # Predict writes v0
                n += 1
            starts[j, c + 1] = n
    return out_code[:n], out_data[:n], starts, has_random


@nb.njit(cache=True)
def compute_costs(code, sizes, offsets, cost):
    """(setup cost, predict + learn cost) of every program, NO_OPs included."""
    out = np.zeros((code.shape[0], 2), dtype=np.int64)
    for b in range(code.shape[0]):
        for c in range(3):
            o = offsets[c]
            for i in range(sizes[b, c]):
                out[b, 0 if c == _SETUP else 1] += cost[code[b, o + i, 0]]
    return out


@nb.njit(cache=True)
def _bit(kind, address):
    """Address set bit of (kind, address), as ``_bit_of``; 0 for no address."""
    if kind == _NO_KIND:
        return 0
    return 1 << ((kind - _SCALAR) * ADDRESS_BITS + address)


@nb.njit(cache=True)
def _backward(code, lo, hi, live, keep, in1_kind, in2_kind, out_kind, partial):
    """One backward liveness pass over rows lo..hi-1; marks ``keep``; returns
    the live-in set."""
    for r in range(hi - 1, lo - 1, -1):
        op = code[r, 0]
        w = _bit(out_kind[op], code[r, 3])
        if w & live:
            keep[r] = True
            if not partial[op]:
                live &= ~w
            live |= _bit(in1_kind[op], code[r, 1]) | _bit(in2_kind[op], code[r, 2])
        else:
            keep[r] = False
    return live


@nb.njit(cache=True)
def remove_dead_code(code, data, starts, in1_kind, in2_kind, out_kind, partial,
                     out_bits, io_bits):
    """The compacted programs without instructions that cannot affect any
    prediction (the liveness of ``effective.py``; memory of at most
    ``ADDRESS_BITS`` addresses per kind). Same layout as the input.
    ``out_bits``: what the executor reads after Predict; ``io_bits``: what it
    writes before every Predict and Learn (``dead_code_masks``)."""
    not_io = ~io_bits
    keep = np.zeros(code.shape[0], dtype=np.bool_)
    for j in range(starts.shape[0]):
        s0, s1, s2, s3 = starts[j, 0], starts[j, 1], starts[j, 2], starts[j, 3]
        out_p = out_bits
        x = _backward(code, s1, s2, out_p, keep, in1_kind, in2_kind, out_kind,
                      partial) & not_io
        while True:
            y = _backward(code, s2, s3, x, keep, in1_kind, in2_kind, out_kind,
                          partial) & not_io
            new_out_p = out_bits | x | y
            if new_out_p == out_p:
                break
            out_p = new_out_p
            new_x = _backward(code, s1, s2, out_p, keep, in1_kind, in2_kind, out_kind,
                              partial) & not_io
            if new_x == x:
                break
            x = new_x
        _backward(code, s0, s1, x, keep, in1_kind, in2_kind, out_kind, partial)
    n = 0
    out_code = np.empty_like(code)
    out_data = np.empty_like(data)
    out_starts = starts.copy()
    for j in range(starts.shape[0]):
        out_starts[j, 0] = n
        for c in range(3):
            for r in range(starts[j, c], starts[j, c + 1]):
                if keep[r]:
                    out_code[n] = code[r]
                    out_data[n] = data[r]
                    n += 1
            out_starts[j, c + 1] = n
    return out_code[:n], out_data[:n], out_starts


@nb.njit(cache=True)
def _compiled_constants():
    """The integer globals as frozen into the compiled code."""
    return _CONSTANTS


def _refresh_stale_cache() -> None:
    """numba's on-disk cache is keyed on this file's source, not on the values
    of the globals frozen into the compiled code: after a change of the op
    table, MUTATION_TYPES or the reserved addresses, cached kernels would
    keep the old codes. Compare and, if stale, drop every kernel's cache."""
    if _compiled_constants() != _CONSTANTS:
        for fn in list(globals().values()):
            if isinstance(fn, Dispatcher):
                fn.recompile()  # flushes the cache; compiles on the next call


_refresh_stale_cache()
