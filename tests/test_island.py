"""The island (no run directory) and the evaluation pipeline behind it."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

from automl_zero.config import load_config
from automl_zero.engine.evaluator import Evaluator
from automl_zero.engine.island import Island
from automl_zero.engine.settings import FECSettings
from automl_zero.engine.state import StateError
from automl_zero.executor import MemorySpec
from automl_zero.language.text_format import parse_algorithm
from automl_zero.run import build
from automl_zero.tasks import TaskSpec, make_tasks

DEMO = "configs/demo_linear.toml"


def demo_island(seed, *overrides: str) -> tuple[Island, object]:
    cfg = load_config(DEMO, list(overrides))
    return build.island(cfg, cfg.search_tasks, np.random.SeedSequence(seed)), cfg


def snapshot(island: Island) -> tuple:
    pop = island.population
    return (pop.code.tobytes(), pop.data.tobytes(), pop.fitness.tobytes(),
            island.individuals, island.train_steps)


def test_an_island_runs_without_a_run_directory():
    island, cfg = demo_island(1)
    island.step(100)
    assert island.individuals == cfg.population_size + 100
    assert island.train_steps > 0
    mean, stdev, best = island.stats()
    fit, alg = island.best()
    assert fit == best and 0 <= mean <= best <= 1
    assert alg.max_addresses()[0] <= cfg.num_scalar_addresses


def test_spawned_seeds_make_islands_reproducible_and_distinct():
    a, b = (build.island(load_config(DEMO), load_config(DEMO).search_tasks, s)
            for s in np.random.SeedSequence(42).spawn(2))
    a2 = build.island(load_config(DEMO), load_config(DEMO).search_tasks,
                      np.random.SeedSequence(42).spawn(2)[0])
    for island in (a, b, a2):
        for _ in range(5):
            island.step(100)
    assert snapshot(a) == snapshot(a2)
    assert snapshot(a) != snapshot(b)


@pytest.mark.parametrize("method", ["REGULARIZED_EVOLUTION", "RANDOM_SEARCH"])
def test_state_round_trips_through_json_and_pickle(method):
    island, cfg = demo_island(3, f"method={method}")
    for _ in range(3):
        island.step(200)
    state = island.to_state()
    for restored_state in (json.loads(json.dumps(state)),
                           pickle.loads(pickle.dumps(state))):
        evaluator = build.search_evaluator(cfg, cfg.search_tasks, 0)
        twin = Island.from_state(build.evolution_settings(cfg), evaluator, restored_state)
        assert twin.to_state() == json.loads(json.dumps(state))
    # Both continue identically.
    for _ in range(3):
        island.step(200)
        twin.step(200)
    assert island.to_state() == twin.to_state()
    assert island.best()[0] == twin.best()[0]


def test_migration_hooks():
    island, cfg = demo_island(4)
    island.step(100)
    out = island.emigrants(10)
    assert len(out) == 10
    members = [island.population.algorithm(i) for i in range(cfg.population_size)]
    assert all(alg in members for alg in out)
    linear = parse_algorithm("""
def Setup():
  s2 = 0.2
def Predict():
  s1 = dot(v0, v1)
def Learn():
  s3 = s0 - s1
  s3 = s3 * s2
  v2 = v0 * s3
  v1 = v1 + v2
""")
    before = island.population.fitness.copy()
    island.immigrate([linear] * 7)
    members = [island.population.algorithm(i) for i in range(cfg.population_size)]
    assert members.count(linear) == 7
    changed = np.flatnonzero(island.population.fitness != before)
    assert len(changed) <= 7
    assert island.best()[0] > 0.999  # the immigrant was evaluated here


def test_corrupt_island_state_is_refused_naming_the_key():
    island, cfg = demo_island(5)
    island.step(100)
    good = json.loads(json.dumps(island.to_state()))

    def refused(mutate, message):
        state = json.loads(json.dumps(good))
        mutate(state)
        evaluator = build.search_evaluator(cfg, cfg.search_tasks, 0)
        with pytest.raises(StateError, match=message):
            Island.from_state(build.evolution_settings(cfg), evaluator, state)

    alg = "population.algorithms"
    refused(lambda s: s["population"]["algorithms"][3]["learn"][0].__setitem__(
        "out", 5000), rf"island.{alg}\[3\]: .*")
    refused(lambda s: s["population"]["algorithms"][0]["predict"].extend(
        s["population"]["algorithms"][0]["predict"] * 50), r"more than this search")
    refused(lambda s: s["population"]["fitness"].__setitem__(2, 7.5),
            r"island.population.fitness\[2\]: 7.5 is outside")
    refused(lambda s: s["population"]["fitness"].pop(), r"expected 1000 items")
    refused(lambda s: s["population"].__setitem__("next_slot", 1000),
            r"next_slot: 1000 is outside")
    refused(lambda s: s.__setitem__("rng", {"bit_generator": "PCG64"}),
            r"island.rng: not a valid PCG64 state")
    refused(lambda s: s.__setitem__("individuals", "many"),
            r"island.individuals: expected an integer")
    refused(lambda s: s["evaluator"].__setitem__("fec", None), r"island.evaluator.fec")


# --------------------------------------------------------------------------
# The evaluation pipeline
# --------------------------------------------------------------------------

def unit_tasks():
    """Labels 0 on the first task, 1 on the second."""
    return make_tasks([
        TaskSpec("unit_test_zeros_task", features_size=4, num_train_examples=20,
                 num_valid_examples=10),
        TaskSpec("unit_test_ones_task", features_size=4, num_train_examples=20,
                 num_valid_examples=10)])


# Predicts s2; never learns: predicts 0 everywhere.
CONSTANT = parse_algorithm("def Setup():\ndef Predict():\n  s1 = s2 + s3\ndef Learn():\n")
# Predicts the last label seen: 0 on the zeros task, like CONSTANT; not on ones.
COPYCAT = parse_algorithm(
    "def Setup():\ndef Predict():\n  s1 = s2 + s3\ndef Learn():\n  s2 = s0 + s3\n")


def test_fec_keyed_per_task_counts_partial_hits():
    fec = FECSettings(10, 10, keying="TASK")
    evaluator = Evaluator(unit_tasks(), MemorySpec(4, 2, 1), fec=fec)
    first = evaluator.evaluate_many([CONSTANT])
    full_steps = int(first.train_steps[0])
    assert full_steps == 2 * 10 + 2 * 20  # fingerprints + full runs on both tasks
    second = evaluator.evaluate_many([COPYCAT])
    # The zeros task is a hit (same behaviour): only the ones task runs in full.
    assert int(second.train_steps[0]) == 2 * 10 + 20
    assert second.per_task[0, 0] == first.per_task[0, 0]
    assert second.per_task[0, 1] == 1.0 and first.per_task[0, 1] < 1.0
    assert evaluator.fec.hits == 1
    # A plain evaluator agrees on the fitness.
    plain = Evaluator(unit_tasks(), MemorySpec(4, 2, 1)).evaluate_many([COPYCAT])
    np.testing.assert_array_equal(plain.per_task, second.per_task)


def test_fec_keyed_per_algorithm_needs_every_task():
    evaluator = Evaluator(unit_tasks(), MemorySpec(4, 2, 1), fec=FECSettings(10, 10))
    evaluator.evaluate_many([CONSTANT])
    second = evaluator.evaluate_many([COPYCAT])
    assert int(second.train_steps[0]) == 2 * 10 + 2 * 20
    assert evaluator.fec.hits == 0
    third = evaluator.evaluate_many([CONSTANT])
    assert evaluator.fec.hits == 1 and int(third.train_steps[0]) == 2 * 10
    assert np.isnan(third.per_task).all()  # the cache holds the combined fitness


def test_evaluator_counts_its_own_train_steps():
    evaluator = Evaluator(unit_tasks(), MemorySpec(4, 2, 1), fec=FECSettings(10, 10))
    evaluator.evaluate_many([CONSTANT, COPYCAT, CONSTANT])
    # Fingerprints for all three; the third is a hit within the same batch? No:
    # look-ups happen before the batch's inserts, so all three run in full.
    assert evaluator.num_train_steps == 3 * (2 * 10 + 2 * 20)
    with pytest.raises(AttributeError):
        evaluator.num_train_steps = 0


def test_needs_compile_is_false_once_a_batch_has_run():
    from automl_zero.executor import TaskBatch, needs_compile

    batch = TaskBatch.from_tasks(unit_tasks())
    Evaluator(batch, MemorySpec(4, 2, 1)).evaluate_many([CONSTANT])
    assert needs_compile(batch) is False
