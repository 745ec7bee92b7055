"""FEC fingerprints and cache (automl_zero/fec.py, docs/semantics.md §7).

Kernel variants compiled here: F=4 only.
"""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from automl_zero.engine.fec import FINGERPRINT_SIZE, FECCache, fingerprints
from automl_zero.engine.state import StateError
from automl_zero.executor.executor import MemorySpec, TaskBatch, execute
from automl_zero.language.algorithm import Algorithm
from automl_zero.language.effective import effective_algorithm
from automl_zero.language.generator import linear_algorithm
from automl_zero.language.instruction import Instruction
from automl_zero.tasks import TaskSpec, make_tasks

make = Instruction.make


def errors(p: int = 2, t: int = 3, r: int = 5, seed: int = 0):
    """Random recorded errors with full counts."""
    rng = np.random.default_rng(seed)
    train = np.abs(rng.normal(size=(p, t, r)))
    valid = np.abs(rng.normal(size=(p, t, r)))
    counts = np.full((p, t, 2), r, dtype=np.int64)
    return train, valid, counts


def with_bits(x: float, bits: int) -> float:
    return struct.unpack("<d", struct.pack("<Q", struct.unpack("<Q", struct.pack(
        "<d", x))[0] ^ bits))[0]


def nan_with(payload: int, sign: bool = False) -> float:
    return struct.unpack("<d", struct.pack(
        "<Q", (0xFFF0000000000000 if sign else 0x7FF0000000000000) | payload))[0]


# --------------------------------------------------------------------------
# Fingerprints.
# --------------------------------------------------------------------------


def test_same_behaviour_same_key():
    train, valid, counts = errors(p=1)
    a = fingerprints(train, valid, counts, 100)
    b = fingerprints(train.copy(), valid.copy(), counts.copy(), 100)
    assert a == b
    assert len(a) == 1 and isinstance(a[0], bytes) and len(a[0]) == FINGERPRINT_SIZE
    # Rows of a batch get the key they would get alone.
    train2, valid2, counts2 = errors(p=3, seed=1)
    keys = fingerprints(train2, valid2, counts2, 100)
    assert len(set(keys)) == 3
    for i in range(3):
        assert fingerprints(train2[i:i + 1], valid2[i:i + 1], counts2[i:i + 1],
                            100) == [keys[i]]


def test_any_single_bit_changes_the_key():
    train, valid, counts = errors(p=1, t=2, r=3)
    base = fingerprints(train, valid, counts, 100)[0]
    seen = {base}
    for arr in (train, valid):
        for idx in np.ndindex(arr.shape):
            for bit in (0, 17, 51, 62):  # mantissa low/high, exponent
                arr2 = arr.copy()
                arr2[idx] = with_bits(arr2[idx], 1 << bit)
                t2, v2 = (arr2, valid) if arr is train else (train, arr2)
                key = fingerprints(t2, v2, counts, 100)[0]
                assert key not in seen
                seen.add(key)


def test_counts_budget_and_task_count_change_the_key():
    train, valid, counts = errors(p=1, t=2, r=4)
    base = fingerprints(train, valid, counts, 100)[0]
    keys = {base}
    for idx in np.ndindex(counts.shape):
        c2 = counts.copy()
        c2[idx] -= 1
        keys.add(fingerprints(train, valid, c2, 100)[0])
    keys.add(fingerprints(train, valid, counts, 0)[0])
    keys.add(fingerprints(train, valid, counts, np.array([[100, 0]]))[0])
    keys.add(fingerprints(train[:, :1], valid[:, :1], counts[:, :1], 100)[0])
    assert len(keys) == 1 + counts.size + 3


def test_truncation_ignores_unrecorded_slots():
    """Slots beyond the recorded count (early stop) do not matter; a recorded
    0.0 differs from an unrecorded slot through the count."""
    train, valid, counts = errors(p=1, t=1, r=6)
    counts[0, 0] = (3, 0)
    base = fingerprints(train, valid, counts, 10)[0]
    t2, v2 = train.copy(), valid.copy()
    t2[0, 0, 3:] = [np.nan, 5.0, -1.0]
    v2[:] = 7.0
    assert fingerprints(t2, v2, counts, 10)[0] == base
    t3 = train.copy()
    t3[0, 0, 3] = 0.0
    c3 = counts.copy()
    c3[0, 0, 0] = 4
    assert fingerprints(t3, valid, c3, 10)[0] != base


def test_nan_payload_and_sign_and_zero_sign_do_not_matter():
    train, valid, counts = errors(p=1, t=1, r=4)
    train[0, 0, 1] = np.nan
    valid[0, 0, 2] = 0.0
    base = fingerprints(train, valid, counts, 10)[0]
    for nan in (nan_with(1), nan_with(0x8000000000001, sign=True),
                nan_with(0xFFFFFFFFFFFFF)):
        t2 = train.copy()
        t2[0, 0, 1] = nan
        assert np.isnan(t2[0, 0, 1])
        assert fingerprints(t2, valid, counts, 10)[0] == base
    v2 = valid.copy()
    v2[0, 0, 2] = -0.0
    assert fingerprints(train, v2, counts, 10)[0] == base
    # NaN differs from any number, inf included.
    t3 = train.copy()
    t3[0, 0, 1] = np.inf
    assert fingerprints(t3, valid, counts, 10)[0] != base


_M64 = (1 << 64) - 1


def _reference_hash(words: list[int]) -> bytes:
    """The documented hash in plain Python integers."""
    p1, p2 = 0x9E3779B185EBCA87, 0xC2B2AE3D27D4EB4F
    p3, p4 = 0x165667B19E3779F9, 0x85EBCA77C2B2AE63

    def rotl(x: int, r: int) -> int:
        return ((x << r) | (x >> (64 - r))) & _M64

    def finish(h: int) -> int:
        h ^= h >> 33
        h = h * p2 & _M64
        h ^= h >> 29
        h = h * p3 & _M64
        return h ^ (h >> 32)

    h1, h2 = 0x243F6A8885A308D3, 0x13198A2E03707344
    for w in words:
        h1 = rotl((h1 + w * p2) & _M64, 31) * p1 & _M64
        h2 = (rotl(h2 ^ (rotl(w * p3 & _M64, 37) * p4 & _M64), 27) * p1 + p3) & _M64
    return struct.pack("<2Q", finish(h1), finish(h2 ^ h1))


def _bits(x: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def test_fingerprint_layout_and_golden_value():
    """The documented layout and hash, rebuilt independently, and a golden value:
    keys are a fixed function of the data (no hash seeds), stable across
    processes."""
    train = np.arange(6.0).reshape(1, 2, 3) / 8
    valid = train[:, ::-1] + 1
    counts = np.array([[[3, 3], [2, 1]]])
    key = fingerprints(train, valid, counts, np.array([[8000, 0]]))[0]
    words = [2, 3, 8000, 3, 3, 0, 2, 1]
    words += [_bits(x) for x in (*train[0, 0], *valid[0, 0])]
    words += [_bits(x) for x in (*train[0, 1, :2], 0.0, valid[0, 1, 0], 0.0, 0.0)]
    assert key == _reference_hash(words)
    assert key.hex() == GOLDEN


GOLDEN = "8ffc5631729bd16c4824577c6eb9dff0"


def test_bad_shapes_are_rejected():
    train, valid, counts = errors()
    with pytest.raises(ValueError, match="same shape"):
        fingerprints(train, valid[:, :, :2], counts, 10)
    with pytest.raises(ValueError, match="num_errors"):
        fingerprints(train, valid, counts[:, :2], 10)


# --------------------------------------------------------------------------
# The cache.
# --------------------------------------------------------------------------


def k(i: int) -> bytes:
    return i.to_bytes(16, "little")


def test_hit_and_miss_counting():
    cache = FECCache()
    assert cache.find(k(1)) is None
    cache.insert(k(1), 0.5)
    assert cache.find(k(1)) == 0.5
    assert cache.find(k(2)) is None
    assert (cache.hits, cache.misses) == (1, 2)
    assert cache.hit_rate() == pytest.approx(1 / 3)
    assert FECCache().hit_rate() == 0.0
    assert len(cache) == 1 and k(1) in cache and k(2) not in cache


def test_lru_eviction_order():
    cache = FECCache(cache_size=3, forget_every=0)
    for i in range(3):
        cache.insert(k(i), float(i))
    assert cache.find(k(0)) == 0.0  # 0 becomes most recently used
    cache.insert(k(3), 3.0)  # evicts 1, the least recently used
    assert cache.keys() == [k(2), k(0), k(3)]
    assert cache.find(k(1)) is None
    cache.insert(k(2), 2.5)  # re-insertion: most recent, new value
    cache.insert(k(4), 4.0)  # evicts 0
    assert cache.keys() == [k(3), k(2), k(4)]
    assert cache.find(k(2)) == 2.5


def test_forget_every_erases_on_the_99th_hit():
    cache = FECCache(forget_every=100)
    cache.insert(k(1), 0.25)
    for hit in range(1, 99):
        assert cache.find(k(1)) == 0.25
        assert cache.count(k(1)) == 1 + hit
    assert cache.find(k(1)) == 0.25  # the 99th hit still returns the value...
    assert k(1) not in cache  # ... and erases the entry
    assert cache.find(k(1)) is None
    assert (cache.hits, cache.misses) == (99, 1)
    cache.insert(k(1), 0.75)  # re-evaluated and re-inserted with count 1
    assert cache.count(k(1)) == 1
    assert cache.find(k(1)) == 0.75


def test_forget_every_small_and_zero():
    cache = FECCache(forget_every=2)
    cache.insert(k(1), 1.0)
    assert cache.find(k(1)) == 1.0 and k(1) not in cache
    never = FECCache(forget_every=0)
    never.insert(k(1), 1.0)
    for _ in range(1000):
        assert never.find(k(1)) == 1.0
    assert never.count(k(1)) == 1001


def test_invalid_settings():
    with pytest.raises(ValueError, match="cache_size"):
        FECCache(cache_size=0)
    with pytest.raises(ValueError, match="forget_every"):
        FECCache(forget_every=1)
    with pytest.raises(ValueError, match="forget_every"):
        FECCache(forget_every=-1)


def test_state_round_trip_preserves_order_counts_and_values():
    cache = FECCache(cache_size=5, forget_every=10)
    for i in range(6):
        cache.insert(k(i), i / 7)
    for i in (3, 1, 3, 4):
        cache.find(k(i))
    cache.find(k(99))
    state = json.loads(json.dumps(cache.to_state()))
    restored = FECCache.from_state(state)
    assert restored.keys() == cache.keys()
    assert [restored.count(key) for key in restored] == [
        cache.count(key) for key in cache]
    assert (restored.hits, restored.misses) == (cache.hits, cache.misses)
    assert (restored.cache_size, restored.forget_every) == (5, 10)
    for key in cache:
        assert cache._entries[key][0] == restored._entries[key][0]
    # Both behave identically afterwards.
    for cache_ in (cache, restored):
        cache_.insert(k(7), 0.5)
    assert restored.keys() == cache.keys()
    assert restored.to_state() == cache.to_state()
    with pytest.raises(TypeError):
        c = FECCache()
        c.insert(12, 1.0)
        c.to_state()


@pytest.mark.parametrize("mutate, message", [
    (lambda s: s.update(entries="x"), "fec.entries: expected a list"),
    (lambda s: s["entries"][0].__setitem__(0, "zz"), r"fec.entries\[0\]\[0\]: not a hex"),
    (lambda s: s["entries"][0].__setitem__(0, "00"), "a key has 16 bytes"),
    (lambda s: s["entries"][0].__setitem__(1, 7.0), r"entries\[0\]\[1\]: 7.0 is outside"),
    (lambda s: s["entries"][0].__setitem__(2, "1"), r"entries\[0\]\[2\]: expected"),
    (lambda s: s.update(cache_size=0), "fec.cache_size"),
    (lambda s: s.update(forget_every=1), "fec.forget_every"),
    (lambda s: s.pop("hits"), "fec.hits: expected an integer, got nothing"),
])
def test_corrupt_state_is_refused_naming_the_key(mutate, message):
    cache = FECCache(cache_size=5)
    cache.insert(k(1), 0.5)
    state = json.loads(json.dumps(cache.to_state()))
    mutate(state)
    with pytest.raises(StateError, match=message):
        FECCache.from_state(state)


# --------------------------------------------------------------------------
# End to end: fingerprint runs with the executor.
# --------------------------------------------------------------------------


linear_regressor = linear_algorithm  # the original's LINEAR_ALGORITHM


def test_fingerprint_runs_end_to_end():
    spec = TaskSpec(task_type="scalar_linear_regression_task", features_size=4,
                    num_train_examples=20, num_valid_examples=20, num_tasks=10)
    batch = TaskBatch.from_tasks(make_tasks([spec]))
    lin = linear_regressor()
    dead = lin.replace(learn=lin.learn + (make("SCALAR_SUM_OP", out=3, in1=2, in2=2),))
    assert effective_algorithm(dead) == lin
    algs = [lin, dead, linear_regressor(0.02), Algorithm()]
    res = execute(algs, batch, MemorySpec(4, 3, 1), np.zeros(len(algs), dtype=np.int64),
                  num_train_examples=10, num_valid_examples=10, record_errors=10)
    np.testing.assert_array_equal(res.num_errors, 10)
    keys = fingerprints(res.train_errors, res.valid_errors, res.num_errors, 20)
    assert keys[0] == keys[1]
    assert len({keys[0], keys[2], keys[3]}) == 3
    # The cache maps the linear regressor's fitness to its twin.
    cache = FECCache()
    full = execute(algs[:1], batch, MemorySpec(4, 3, 1), [0])
    cache.insert(keys[0], full.fitness[0].mean())
    assert cache.find(keys[1]) == full.fitness[0].mean()
    assert cache.find(keys[2]) is None
