"""The packed (numba) search engine against the reference Python engine, and
the numba kernels' integer codes against the op table and the config.

The mutation statistics of both engines against the semantics are in
test_mutator.py (tests with the ``engine`` fixture).
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import evolution_settings
from naive import NaiveMemory, naive_op

from automl_zero import config
from automl_zero.config import load_config
from automl_zero.engine import _mutation_kernel as mk
from automl_zero.engine import packed_evolution, settings
from automl_zero.engine.mutator import Mutator
from automl_zero.engine.packed_evolution import (
    Layout,
    PackedEvolution,
    PackedPopulation,
    executor_arrays,
    unpack,
)
from automl_zero.executor.executor import pack_algorithms
from automl_zero.language import instruction
from automl_zero.language.algorithm import COMPONENT_FUNCTIONS
from automl_zero.language.effective import effective_algorithm
from automl_zero.language.generator import model_by_id, random_algorithm
from automl_zero.language.ops import OP_BY_NAME, OPS, DataKind, Kind
from automl_zero.language.randomizer import FIRST_OUT_ADDRESS

DEMO = "configs/demo_linear.toml"
NONLINEAR = "configs/nonlinear_integration.toml"


def population(cfg, n, seed=0):
    rng = np.random.default_rng(seed)
    algs = [model_by_id(cfg.initial_population, cfg.size_init, cfg.op_codes(),
                        cfg.memory.sizes, rng) for _ in range(n)]
    layout = Layout.for_settings(evolution_settings(cfg), algs)
    return algs, PackedPopulation.from_algorithms(algs, np.zeros(n), layout), layout


def children_of(cfg, parent_index, n, seed=1):
    """``n`` children of member ``parent_index`` of a 5-program population (a
    tournament of 50 of 5 picks it always: it alone has fitness 1)."""
    algs, pop, layout = population(cfg, 5)
    engine = PackedEvolution(evolution_settings(cfg, population_size=5,
                                                tournament_size=50), layout)
    pop.fitness[:] = 0.0
    pop.fitness[parent_index] = 1.0
    kids = engine.ask(pop, np.random.default_rng(seed), n)
    assert (kids.parents == parent_index).all()
    return algs[parent_index], [unpack(kids.code[i], kids.data[i], kids.sizes[i],
                                       layout) for i in range(n)], kids


# --------------------------------------------------------------------------
# The kernels' codes are the op table's and the config's.
# --------------------------------------------------------------------------


def test_mutation_type_codes_are_positions_in_mutation_types():
    """The kernel's type codes are the positions in MUTATION_TYPES (the
    config's names), which PackedEvolution encodes."""
    kernel = {"ALTER_PARAM": mk.ALTER_PARAM,
              "RANDOMIZE_INSTRUCTION": mk.RANDOMIZE_INSTRUCTION,
              "RANDOMIZE_COMPONENT_FUNCTION": mk.RANDOMIZE_COMPONENT_FUNCTION,
              "IDENTITY": mk.IDENTITY,
              "INSERT_INSTRUCTION": mk.INSERT_INSTRUCTION,
              "REMOVE_INSTRUCTION": mk.REMOVE_INSTRUCTION,
              "TRADE_INSTRUCTION": mk.TRADE_INSTRUCTION,
              "RANDOMIZE_ALGORITHM": mk.RANDOMIZE_ALGORITHM}
    assert settings.MUTATION_TYPES == config.MUTATION_TYPES
    assert len(kernel) == len(config.MUTATION_TYPES)
    for name, code in kernel.items():
        assert config.MUTATION_TYPES[code] == name + "_MUTATION_TYPE", name
    cfg = load_config(DEMO)
    _, _, layout = population(cfg, 1)
    engine = PackedEvolution(evolution_settings(
        cfg, allowed_mutation_types=config.MUTATION_TYPES), layout)
    np.testing.assert_array_equal(engine.types, list(kernel.values()))


def test_kernel_codes_are_the_op_table_codes():
    assert (mk._NO_KIND, mk._SCALAR, mk._VECTOR, mk._MATRIX) == (
        Kind.NONE, Kind.SCALAR, Kind.VECTOR, Kind.MATRIX)
    assert (mk._NO_DATA, mk._ACTIVATION, mk._VECTOR_INDEX_VALUE, mk._MATRIX_INDEX_VALUE,
            mk._UNIFORM, mk._GAUSSIAN) == (
        DataKind.NONE, DataKind.ACTIVATION, DataKind.VECTOR_INDEX_VALUE,
        DataKind.MATRIX_INDEX_VALUE, DataKind.UNIFORM, DataKind.GAUSSIAN)
    assert OP_BY_NAME["NO_OP"].code == mk._NO_OP
    first_out = (FIRST_OUT_ADDRESS[Kind.SCALAR], FIRST_OUT_ADDRESS[Kind.VECTOR],
                 FIRST_OUT_ADDRESS[Kind.MATRIX])
    assert first_out == (mk._FIRST_OUT_SCALAR, mk._FIRST_OUT_VECTOR, mk._FIRST_OUT_MATRIX)
    components = (COMPONENT_FUNCTIONS.index("setup"), COMPONENT_FUNCTIONS.index("predict"))
    assert components == (mk._SETUP, mk._PREDICT)
    assert instruction.FEATURES_VECTOR_ADDRESS == mk._FEATURES
    # Address sets: scalar k -> bit k, vector k -> bit 21 + k, matrix -> 42 + k.
    assert mk.ADDRESS_BITS == 21
    assert mk._S1_BIT == 1 << instruction.PREDICTIONS_SCALAR_ADDRESS
    assert mk._IO_BITS == (1 << instruction.LABELS_SCALAR_ADDRESS
                           | 1 << (21 + instruction.FEATURES_VECTOR_ADDRESS))
    assert mk._bit(int(Kind.MATRIX), 20) == 1 << 62  # fits a signed int64


def test_compiled_kernels_see_the_current_codes():
    """numba freezes the globals at compile time and caches by source file:
    the compiled constants equal the current ones (else the cache was stale)."""
    assert mk._compiled_constants() == mk._CONSTANTS
    ints = {name for name, value in vars(mk).items()
            if type(value) is int and name.lstrip("_").isupper()}
    assert ints == set(mk._CONSTANT_NAMES)


_DATA = {DataKind.NONE: (), DataKind.ACTIVATION: (0.5,),
         DataKind.VECTOR_INDEX_VALUE: (0.3, 0.7), DataKind.MATRIX_INDEX_VALUE: (0.3, 0.6, 0.7),
         DataKind.UNIFORM: (0.3, 0.6), DataKind.GAUSSIAN: (0.3, 0.6)}


def _writes_one_element(code: int, rng: np.random.Generator) -> bool:
    """Whether ``naive.py`` changes only part of an op's output: some of a
    sentinel-filled output address survives the op."""
    spec = OPS[code]
    f = 4
    mem = NaiveMemory(rng.normal(size=5), rng.normal(size=(5, f)),
                      rng.normal(size=(5, f, f)))
    bank = {Kind.SCALAR: mem.s, Kind.VECTOR: mem.v, Kind.MATRIX: mem.m}[spec.out]
    bank[4] = 12345.678  # the output; inputs are read from addresses 0 and 1
    ins = instruction.Instruction(code, 0, 1 if spec.in2 != Kind.NONE else 0, 4,
                                  (_DATA[spec.data] + (0.0, 0.0, 0.0))[:3])
    naive_op(code, ins, mem, f, rng)
    return bool(np.any(np.asarray(bank[4]) == 12345.678))


def test_partial_write_ops_are_those_that_write_one_element():
    """packed_evolution._PARTIAL_WRITE (by op name) is the set of ops that
    write one element of their output in the reference interpreter, and the
    set effective.py uses."""
    from automl_zero.language import effective

    rng = np.random.default_rng(0)
    partial = {o.code for o in OPS if o.out != Kind.NONE and _writes_one_element(o.code, rng)}
    assert partial == {OP_BY_NAME["VECTOR_CONST_SET_OP"].code,
                       OP_BY_NAME["MATRIX_CONST_SET_OP"].code}
    assert set(np.flatnonzero(packed_evolution._PARTIAL_WRITE)) == partial
    assert partial == effective.PARTIAL_WRITE_OPS


# --------------------------------------------------------------------------
# Packing, mutation, dead-code removal.
# --------------------------------------------------------------------------


def test_pack_round_trip():
    cfg = load_config(DEMO)
    algs, pop, _ = population(cfg, 20)
    assert [pop.algorithm(i) for i in range(20)] == algs


def test_engine_reads_the_settings():
    cfg = load_config(NONLINEAR)
    _, _, layout = population(cfg, 1)
    engine = PackedEvolution(evolution_settings(cfg), layout)
    assert engine.mutate_prob == 1.0
    np.testing.assert_array_equal(engine.mutable, [0])  # only Setup has ops
    np.testing.assert_array_equal(engine.mem, [5, 9, 2])
    np.testing.assert_array_equal(engine.size_min, [6, 3, 9])
    np.testing.assert_array_equal(engine.size_max, [7, 4, 10])
    np.testing.assert_array_equal(engine.ops_flat[:2], cfg.op_codes()[0])
    # Insertion allowed: Setup grows up to size_max - 1 (the original's bound).
    assert layout.caps[0] == 6


def test_children_respect_op_sets_and_reserved_outputs():
    cfg = load_config(DEMO)
    parent, kids, packed = children_of(cfg, 2, 2000)
    allowed = cfg.op_codes()
    for kid in kids:
        assert [len(c) for c in kid.components] == [10, 2, 8]  # fixed sizes
        for component, ops in zip(kid.components, allowed, strict=True):
            for ins in component:
                assert ins.op in ops
                spec = OPS[ins.op]
                if spec.out in (Kind.SCALAR, Kind.VECTOR):
                    old = ins in parent.setup + parent.predict + parent.learn
                    assert old or ins.out >= 1


def _p_unchanged(ins, type_name: str, ops: tuple[int, ...], memory) -> float:
    """P(one mutation of ``type_name`` at ``ins`` leaves it as it was): only
    addresses can be re-drawn to the same value (new constants differ)."""
    spec = OPS[ins.op]

    def count(kind: Kind, output: bool) -> int:
        return memory[kind - 1] - (FIRST_OUT_ADDRESS[kind] if output else 0)

    if type_name == "ALTER_PARAM_MUTATION_TYPE":
        if spec.out == Kind.NONE:
            return 1.0  # NO_OP
        if spec.data != DataKind.NONE:  # out (1/2) or a constant
            return 0.5 / count(spec.out, True)
        fields = [count(spec.in1, False), count(spec.out, True)]
        if spec.in2 != Kind.NONE:
            fields.insert(1, count(spec.in2, False))
        return float(np.mean([1 / n for n in fields]))
    assert type_name == "RANDOMIZE_INSTRUCTION_MUTATION_TYPE"
    if spec.data != DataKind.NONE or ins.op not in ops:
        return 0.0
    p = 1 / len(ops) / count(spec.out, True) / count(spec.in1, False)
    return p / count(spec.in2, False) if spec.in2 != Kind.NONE else p


def test_mutation_statistics_match_the_semantics_and_the_reference_mutator():
    """On the demo (mutate_prob 0.9; ALTER_PARAM, RANDOMIZE_INSTRUCTION and
    RANDOMIZE_COMPONENT_FUNCTION; sizes 10 / 2 / 8): the shares of unmutated
    children, of children changed in each component and of mutated children
    equal to their parent agree with the semantics and with mutator.Mutator."""
    cfg = load_config(DEMO)
    parent, kids, packed = children_of(cfg, 0, 6000)
    ref = Mutator.from_settings(evolution_settings(cfg))
    rng = np.random.default_rng(5)
    ref_kids = [ref.mutate(parent, rng) for _ in range(6000)]

    def profile(children):
        changed = [tuple(c for c in range(3)
                         if kid.components[c] != parent.components[c])
                   for kid in children]
        return {k: changed.count(k) / len(children) for k in set(changed)}

    # The semantics: a uniform component, a uniform type, a uniform instruction
    # (RANDOMIZE_COMPONENT_FUNCTION changes a whole component: never the same).
    types = cfg.allowed_mutation_types
    expected = {(): 1 - cfg.mutate_prob}
    for c, component in enumerate(parent.components):
        same = sum(np.mean([_p_unchanged(i, t, cfg.op_codes()[c], cfg.memory.sizes)
                            for i in component])
                   for t in types if t != "RANDOMIZE_COMPONENT_FUNCTION_MUTATION_TYPE")
        p_same = same / len(types)
        expected[()] += cfg.mutate_prob * p_same / 3
        expected[(c,)] = cfg.mutate_prob * (1 - p_same) / 3
    got, want = profile(kids), profile(ref_kids)
    for key in set(got) | set(want) | set(expected):
        p = expected.get(key, 0.0)
        tolerance = 5 * np.sqrt(p * (1 - p) / 6000) + 1e-12
        assert abs(got.get(key, 0) - p) <= tolerance, (key, got.get(key), p)
        assert abs(want.get(key, 0) - p) <= tolerance, (key, want.get(key), p)
    assert packed.mutated.mean() == pytest.approx(0.9, abs=5 * np.sqrt(0.09 / 6000))


def test_insert_remove_bounds_and_trade():
    cfg = load_config(NONLINEAR)
    algs, pop, layout = population(cfg, 5)
    engine = PackedEvolution(evolution_settings(cfg, population_size=5), layout)
    rng = np.random.default_rng(0)
    for _ in range(30):
        kids = engine.ask(pop, rng, 200)
        # only Setup mutates; insertion stops at size_max - 1 = 6, removal at 6
        assert (kids.sizes[:, 0] <= 6).all()
        assert (kids.sizes[:, 1:] == pop.sizes[0, 1:]).all()
        engine.tell(pop, kids, rng.random(200))
    assert set(pop.sizes[:, 0]) <= {1, 2, 3, 4, 5, 6}
    assert max(pop.sizes[:, 0]) == 6


def test_unbounded_insertion_stops_at_the_capacity():
    """Without size_max a component grows up to the layout's capacity
    (4 * size_init + 64), never past it."""
    cfg = load_config(DEMO)
    settings = evolution_settings(
        cfg, allowed_mutation_types=("INSERT_INSTRUCTION_MUTATION_TYPE",),
        mutate_prob=1.0, population_size=1, tournament_size=1)
    (alg,) = [model_by_id(cfg.initial_population, cfg.size_init, cfg.op_codes(),
                          cfg.memory.sizes, np.random.default_rng(0))]
    layout = Layout.for_settings(settings, [alg])
    np.testing.assert_array_equal(layout.caps, [4 * 10 + 64, 4 * 2 + 64, 4 * 8 + 64])
    pop = PackedPopulation.from_algorithms([alg], np.zeros(1), layout)
    engine = PackedEvolution(settings, layout)
    rng = np.random.default_rng(1)
    for _ in range(700):  # about 233 insertions per component; 94, 70, 88 fit
        kids = engine.ask(pop, rng, 1)
        assert (kids.sizes <= layout.caps).all()
        engine.tell(pop, kids, np.zeros(1))
    np.testing.assert_array_equal(pop.sizes[0], layout.caps)


def test_mutate_prob_zero_copies_and_one_always_mutates():
    cfg = load_config(DEMO, ["mutate_prob=0.0"])
    parent, kids, packed = children_of(cfg, 1, 100)
    assert all(k == parent for k in kids) and not packed.mutated.any()
    cfg = load_config(DEMO, ["mutate_prob=1.0"])
    _, _, packed = children_of(cfg, 1, 100)
    assert packed.mutated.all()


def test_dead_code_removal_matches_effective_algorithm():
    """The numba liveness equals effective.py on random programs over all ops."""
    all_ops = tuple(op.code for op in OPS)
    rng = np.random.default_rng(3)
    algs = [random_algorithm((int(rng.integers(0, 8)), int(rng.integers(1, 6)),
                              int(rng.integers(0, 10))), (all_ops,) * 3,
                             (6, 5, 3), rng) for _ in range(400)]
    layout = Layout(np.array([8, 6, 10]), np.array([0, 8, 14]))
    pop = PackedPopulation.from_algorithms(algs, np.zeros(len(algs)), layout)
    got = executor_arrays(pop.code, pop.data, pop.sizes, np.arange(len(algs)), layout,
                          (6, 5, 3), effective=True)
    want = pack_algorithms([effective_algorithm(a) for a in algs])
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    np.testing.assert_array_equal(got[2][:, :4], want[2][:, :4])
    assert len(got[0]) < 0.5 * sum(len(a) for a in algs)  # most code is dead


def _to_top_addresses(alg):
    """``alg`` (memory 4 / 3 / 3) with addresses moved to the top of a memory of
    21 per kind: s0, s1, v0, v1 stay, s2, s3 -> s19, s20, v2 -> v19,
    m0..m2 -> m18..m20."""
    def move(kind: Kind, a: int) -> int:
        if kind == Kind.MATRIX:
            return 18 + a
        if kind == Kind.NONE:
            return 0
        return a if a < 2 else 17 + a

    return type(alg)(*(tuple(
        instruction.Instruction(i.op, move(OPS[i.op].in1, i.in1), move(OPS[i.op].in2, i.in2),
                                move(OPS[i.op].out, i.out), i.data)
        for i in component) for component in alg.components))


def test_dead_code_removal_at_the_largest_addresses():
    """Programs whose addresses reach 20 of each kind (the last bits of the
    int64 address sets) lose exactly effective.py's dead code."""
    all_ops = tuple(op.code for op in OPS)
    rng = np.random.default_rng(4)
    algs = [_to_top_addresses(random_algorithm(
        (int(rng.integers(0, 6)), int(rng.integers(1, 6)), int(rng.integers(0, 8))),
        (all_ops,) * 3, (4, 3, 3), rng)) for _ in range(300)]
    used = {(OPS[i.op].out, i.out) for a in algs for c in a.components for i in c}
    assert {(Kind.SCALAR, 20), (Kind.VECTOR, 19), (Kind.MATRIX, 20)} <= used
    layout = Layout.fit(algs)
    pop = PackedPopulation.from_algorithms(algs, np.zeros(len(algs)), layout)
    got = executor_arrays(pop.code, pop.data, pop.sizes, np.arange(len(algs)), layout,
                          (21, 21, 21), effective=True)
    want = pack_algorithms([effective_algorithm(a) for a in algs])
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[2][:, :4], want[2][:, :4])
    assert 0.1 * len(got[0]) < len(got[0]) < 0.8 * sum(len(a) for a in algs)
