"""The packed (numba) search engine against the reference Python engine."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from automl_zero.config import load_config
from automl_zero.engine.mutator import Mutator
from automl_zero.engine.packed_evolution import (
    Layout,
    PackedEvolution,
    PackedPopulation,
)
from automl_zero.executor.executor import pack_algorithms
from automl_zero.language.effective import effective_algorithm
from automl_zero.language.generator import model_by_id, random_algorithm
from automl_zero.language.ops import OPS, Kind

DEMO = "configs/demo_linear.toml"
NONLINEAR = "configs/nonlinear_integration.toml"


def population(cfg, n, seed=0):
    rng = np.random.default_rng(seed)
    algs = [model_by_id(cfg.initial_population, cfg.size_init, cfg.op_codes(),
                        cfg.memory.sizes, rng) for _ in range(n)]
    layout = Layout.for_config(cfg, algs)
    return algs, PackedPopulation.from_algorithms(algs, np.zeros(n), layout), layout


def children_of(cfg, parent_index, n, seed=1, overrides=()):
    cfg = load_config(DEMO, list(overrides)) if cfg is None else cfg
    algs, pop, layout = population(cfg, 5)
    engine = PackedEvolution(cfg, layout)
    engine.population_size = 5
    pop.fitness[:] = 0.0
    pop.fitness[parent_index] = 1.0  # every tournament picks this parent
    engine.tournament_size = 50
    kids = engine.ask(pop, np.random.default_rng(seed), n)
    return algs[parent_index], [pop.layout and _unpack(kids, i, layout)
                                for i in range(n)], kids


def _unpack(kids, i, layout):
    from automl_zero.engine.packed_evolution import unpack

    return unpack(kids.code[i], kids.data[i], kids.sizes[i], layout)


def test_pack_round_trip():
    cfg = load_config(DEMO)
    algs, pop, _ = population(cfg, 20)
    assert [pop.algorithm(i) for i in range(20)] == algs
    state = pop.to_state()
    assert state.population == algs


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


def test_mutation_statistics_match_the_reference_mutator():
    """Shares of unchanged children and of children differing in one
    instruction, and which component changes, agree with mutator.Mutator."""
    cfg = load_config(DEMO)
    parent, kids, packed = children_of(cfg, 0, 6000)
    ref = Mutator.from_config(cfg)
    rng = np.random.default_rng(5)
    ref_kids = [ref.mutate(parent, rng) for _ in range(6000)]

    def profile(children):
        counts = Counter()
        for kid in children:
            changed = tuple(c for c in range(3)
                            if kid.components[c] != parent.components[c])
            counts[changed] += 1
        return {k: v / len(children) for k, v in counts.items()}

    got, want = profile(kids), profile(ref_kids)
    for key in set(got) | set(want):
        assert abs(got.get(key, 0) - want.get(key, 0)) < 0.03, key
    assert packed.mutated.mean() == pytest.approx(0.9, abs=0.02)


def test_insert_remove_bounds_and_trade():
    cfg = load_config(NONLINEAR)
    algs, pop, layout = population(cfg, 5)
    engine = PackedEvolution(cfg, layout)
    engine.population_size = 5
    rng = np.random.default_rng(0)
    for _ in range(30):
        kids = engine.ask(pop, rng, 200)
        # only Setup mutates; insertion stops at size_max - 1 = 6, removal at 6
        assert (kids.sizes[:, 0] <= 6).all()
        assert (kids.sizes[:, 1:] == pop.sizes[0, 1:]).all()
        engine.tell(pop, kids, rng.random(200))
    assert set(pop.sizes[:, 0]) <= {1, 2, 3, 4, 5, 6}
    assert max(pop.sizes[:, 0]) == 6


def test_mutate_prob_zero_copies_and_one_always_mutates():
    cfg = load_config(DEMO, ["mutate_prob=0.0"])
    parent, kids, packed = children_of(cfg, 1, 100)
    assert all(k == parent for k in kids) and not packed.mutated.any()
    cfg = load_config(DEMO, ["mutate_prob=1.0"])
    _, _, packed = children_of(cfg, 1, 100)
    assert packed.mutated.all()


def test_dead_code_removal_matches_effective_algorithm():
    """The numba liveness equals effective.py on random programs over all ops."""
    cfg = load_config(DEMO, ["num_scalar_addresses=6", "num_vector_addresses=5",
                             "num_matrix_addresses=3"])
    all_ops = tuple(op.code for op in OPS)
    rng = np.random.default_rng(3)
    algs = [random_algorithm((int(rng.integers(0, 8)), int(rng.integers(1, 6)),
                              int(rng.integers(0, 10))), (all_ops,) * 3,
                             (6, 5, 3), rng) for _ in range(400)]
    layout = Layout(np.array([8, 6, 10]), np.array([0, 8, 14]))
    pop = PackedPopulation.from_algorithms(algs, np.zeros(len(algs)), layout)
    engine = PackedEvolution(cfg, layout)
    got = engine.compact(pop.code, pop.data, pop.sizes, np.arange(len(algs)),
                         effective=True)
    want = pack_algorithms([effective_algorithm(a) for a in algs])
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    np.testing.assert_array_equal(got[2][:, :4], want[2][:, :4])
    assert len(got[0]) < 0.5 * sum(len(a) for a in algs)  # most code is dead
