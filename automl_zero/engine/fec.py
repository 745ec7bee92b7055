"""Functional equivalence checking (FEC): a fitness cache keyed by behaviour (docs/semantics.md §7).

Before the full evaluation, each algorithm runs a short *fingerprint run* on every
task (the config's ``fec.num_train_examples`` training steps of epoch 0, then
``fec.num_valid_examples`` validation examples, random ops seeded with a fixed
seed). Its per-example errors form the fingerprint; algorithms with equal
fingerprints are assumed to have equal fitness, and a hit skips the full run.

Fingerprint (``fingerprints``): per algorithm, a 128-bit hash (two 64-bit lanes
of xxHash64-style bijective rounds with its avalanche finish, numba-compiled:
~0.7 us per algorithm for 10 tasks x 20 errors in batches of 100) of this
sequence of 64-bit words:

* the task count T and the recording length R;
* per task: the budgeted number of training examples of the full run (the train
  budget may give 0), and the recorded training and validation error counts;
* per task: the R training-error slots, then the R validation-error slots, as the
  exact float64 bits of the errors (the original's choice: no rounding, unlike
  the paper's "truncated predictions"); slots beyond the recorded count are 0, so
  only recorded errors matter; every NaN maps to one NaN and -0.0 to 0.0 (the
  original's ``std::hash<double>`` hashes 0.0 and -0.0 equally).

Each round is a bijection of the state for a fixed word and of the word for a
fixed state, so word sequences of equal length that differ in exactly one word
(one error bit, one count) never collide; other collisions are ~2^-64 per lane.
The key (lane 1, lane 2 as little-endian uint64) is deterministic across
processes and platforms (Python's randomized ``hash()`` is never used), so keys
can be checkpointed.

**Keying** (docs/semantics.md §7.4). By default one entry covers all tasks:
the key hashes every task's fingerprint in task order (so the task index is
implicit) and the value is the combined fitness; a hit needs identical
fingerprints on every task. The original keeps one entry per (fingerprint,
task index, train budget); the evaluator does that with ``keying = "TASK"``
by hashing one task at a time and prefixing the task index. On the demo both
fit the same individuals into a train budget and per-algorithm keying is
twice as fast, hence the default.

``FECCache`` is the original's LRU cache (fec_cache.cc), hit counting included:
an entry's count starts at 1; each hit adds 1 and, if ``forget_every`` is not 0
and the count reaches ``forget_every``, erases the entry (that hit still returns
the cached value). With the default 100 an entry is erased on its 99th hit, and
the next identical fingerprint is a miss that is re-evaluated and re-inserted.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Iterator
from typing import Any

import numba as nb
import numpy as np

from automl_zero.engine.state import (
    StateError,
    check_float,
    check_int,
    check_list,
    require,
)

__all__ = ["FECCache", "fingerprints", "FINGERPRINT_SIZE"]

FINGERPRINT_SIZE = 16  # bytes of a fingerprint: two 64-bit lanes

# Constants of the hash (xxHash64's primes; lane seeds are arbitrary, fixed).
_P1 = np.uint64(0x9E3779B185EBCA87)
_P2 = np.uint64(0xC2B2AE3D27D4EB4F)
_P3 = np.uint64(0x165667B19E3779F9)
_P4 = np.uint64(0x85EBCA77C2B2AE63)
_SEED1 = np.uint64(0x243F6A8885A308D3)  # digits of pi
_SEED2 = np.uint64(0x13198A2E03707344)
_R31, _R27, _R33, _R29, _R32 = (np.uint64(k) for k in (31, 27, 33, 29, 32))
_R37, _R64 = np.uint64(37), np.uint64(64)
_EXPONENT = np.uint64(0x7FF0000000000000)
_MANTISSA = np.uint64(0x000FFFFFFFFFFFFF)
_CANONICAL_NAN = np.uint64(0x7FF8000000000000)
_NEGATIVE_ZERO = np.uint64(0x8000000000000000)


@nb.njit(cache=True, inline="always")
def _rotl(x, r):
    return (x << r) | (x >> (_R64 - r))


@nb.njit(cache=True, inline="always")
def _lane1(h, w):
    # xxHash64's round: a bijection of h for each w and of w for each h, so
    # hashes of word sequences that differ in exactly one word always differ.
    h = h + w * _P2
    return _rotl(h, _R31) * _P1


@nb.njit(cache=True, inline="always")
def _lane2(h, w):
    # A second, differently built bijective round.
    h = h ^ (_rotl(w * _P3, _R37) * _P4)
    return _rotl(h, _R27) * _P1 + _P3


@nb.njit(cache=True, inline="always")
def _finish(h):
    # xxHash64's avalanche.
    h ^= h >> _R33
    h *= _P2
    h ^= h >> _R29
    h *= _P3
    h ^= h >> _R32
    return h


@nb.njit(cache=True, inline="always")
def _canonical(b):
    """The bits of an error: one NaN, and 0 for -0.0."""
    if (b & _EXPONENT) == _EXPONENT and (b & _MANTISSA) != 0:
        return _CANONICAL_NAN
    if b == _NEGATIVE_ZERO:
        return np.uint64(0)
    return b


@nb.njit(cache=True, nogil=True)
def _hash_rows(train_bits, valid_bits, counts, budget, out):
    """Hash each algorithm's words (see the module docstring) into out[p, 0:2].

    train_bits, valid_bits: uint64 (P, T, R) float bits; counts: uint64 (P, T, 2)
    clipped to [0, R]; budget: uint64 (P, T).
    """
    num, n_tasks, r = train_bits.shape
    zero = np.uint64(0)
    for p in range(num):
        h1 = _SEED1
        h2 = _SEED2
        for w in (np.uint64(n_tasks), np.uint64(r)):
            h1 = _lane1(h1, w)
            h2 = _lane2(h2, w)
        for t in range(n_tasks):
            for w in (budget[p, t], counts[p, t, 0], counts[p, t, 1]):
                h1 = _lane1(h1, w)
                h2 = _lane2(h2, w)
        for t in range(n_tasks):
            for which in range(2):
                bits = train_bits if which == 0 else valid_bits
                n = counts[p, t, which]
                for j in range(r):
                    w = _canonical(bits[p, t, j]) if np.uint64(j) < n else zero
                    h1 = _lane1(h1, w)
                    h2 = _lane2(h2, w)
        out[p, 0] = _finish(h1)
        out[p, 1] = _finish(h2 ^ h1)


def fingerprints(train_errors: np.ndarray, valid_errors: np.ndarray,
                 num_errors: np.ndarray,
                 num_train_examples: int | np.ndarray) -> list[bytes]:
    """One 16-byte key per algorithm from the fingerprint run's ``ExecutionResult``.

    ``train_errors`` and ``valid_errors`` are float (P, T, R), ``num_errors`` int
    (P, T, 2) the recorded counts; ``num_train_examples`` is the budgeted number
    of training examples of the full run, broadcastable to (P, T). See the module
    docstring for the hashed content.
    """
    train = np.ascontiguousarray(train_errors, dtype=np.float64)
    valid = np.ascontiguousarray(valid_errors, dtype=np.float64)
    if train.ndim != 3 or train.shape != valid.shape:
        raise ValueError(f"train_errors and valid_errors must have the same shape "
                         f"(P, T, R), got {train.shape} and {valid.shape}")
    p, t, r = train.shape
    counts = np.asarray(num_errors, dtype=np.int64)
    if counts.shape != (p, t, 2):
        raise ValueError(f"num_errors must have shape {(p, t, 2)}, got {counts.shape}")
    counts = np.clip(counts, 0, r).view(np.uint64)
    budget = np.ascontiguousarray(np.broadcast_to(
        np.asarray(num_train_examples, dtype=np.int64), (p, t))).view(np.uint64)
    out = np.empty((p, 2), dtype=np.uint64)
    _hash_rows(train.view(np.uint64), valid.view(np.uint64), counts, budget, out)
    raw = out.astype("<u8").tobytes()
    return [raw[i:i + FINGERPRINT_SIZE] for i in range(0, p * FINGERPRINT_SIZE,
                                                       FINGERPRINT_SIZE)]


class FECCache:
    """LRU map fingerprint -> fitness with the original's hit counting (docs/semantics.md §7
    item 5): an entry's count starts at 1; on a hit count += 1 and, if
    ``forget_every`` and count >= forget_every, the entry is erased (that hit still
    returns the cached value); inserting beyond ``cache_size`` evicts the least
    recently used entries. Values are fitnesses (floats).
    """

    def __init__(self, cache_size: int = 100000, forget_every: int = 100) -> None:
        if int(cache_size) < 1:
            raise ValueError(f"cache_size must be >= 1, got {cache_size}")
        if int(forget_every) < 0 or int(forget_every) == 1:
            raise ValueError(f"forget_every must be 0 (off) or > 1, got {forget_every}")
        self.cache_size = int(cache_size)
        self.forget_every = int(forget_every)
        # key -> [value, count], least recently used first.
        self._entries: OrderedDict[Hashable, list] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def find(self, key: Hashable) -> float | None:
        """The cached value (moved to most recently used), or None on a miss."""
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        self.hits += 1
        entry[1] += 1
        if self.forget_every and entry[1] >= self.forget_every:
            del self._entries[key]
        else:
            self._entries.move_to_end(key)
        return entry[0]

    def insert(self, key: Hashable, value: float) -> None:
        """Insert (or replace, with count 1) as most recently used; evict LRU."""
        entries = self._entries
        entries[key] = [float(value), 1]
        entries.move_to_end(key)
        while len(entries) > self.cache_size:
            entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: Hashable) -> bool:
        """Membership without counting a hit or changing the LRU order."""
        return key in self._entries

    def hit_rate(self) -> float:
        """hits / (hits + misses); 0.0 before any look-up."""
        total = self.hits + self.misses
        return self.hits / total if total else 0.0

    def __iter__(self) -> Iterator[Hashable]:
        """Keys, least recently used first (no hit counting)."""
        return iter(list(self._entries))

    def keys(self) -> list:
        """Keys, least recently used first."""
        return list(self._entries)

    def count(self, key: Hashable) -> int:
        """An entry's hit count (1 after insertion); 0 if absent."""
        entry = self._entries.get(key)
        return entry[1] if entry is not None else 0

    def to_state(self) -> dict:
        """A JSON-serialisable snapshot: keys (bytes) as hex strings, values,
        entries least recently used first with their counts."""
        entries = []
        for key, (value, count) in self._entries.items():
            if not isinstance(key, bytes):
                raise TypeError(f"to_state needs bytes keys, got {type(key).__name__}")
            entries.append([key.hex(), value, count])
        return {"cache_size": self.cache_size, "forget_every": self.forget_every,
                "hits": self.hits, "misses": self.misses, "entries": entries}

    @classmethod
    def from_state(cls, state: Any, key_size: int = FINGERPRINT_SIZE,
                   where: str = "fec") -> FECCache:
        """The cache ``to_state`` described, with the same order and counts.
        Every field is validated (``StateError`` names the key)."""
        require(state, dict, where)
        cache_size = check_int(state.get("cache_size"), f"{where}.cache_size", 1)
        forget_every = check_int(state.get("forget_every"), f"{where}.forget_every")
        if forget_every == 1:
            raise StateError(f"{where}.forget_every: must be 0 (off) or > 1")
        cache = cls(cache_size, forget_every)
        cache.hits = check_int(state.get("hits"), f"{where}.hits")
        cache.misses = check_int(state.get("misses"), f"{where}.misses")
        entries = check_list(state.get("entries"), f"{where}.entries",
                             max_length=cache_size)
        for k, entry in enumerate(entries):
            w = f"{where}.entries[{k}]"
            key_hex, stored, count = check_list(entry, w, 3)
            try:
                key = bytes.fromhex(require(key_hex, str, f"{w}[0]"))
            except ValueError:
                raise StateError(f"{w}[0]: not a hex string") from None
            if len(key) != key_size:
                raise StateError(f"{w}[0]: a key has {key_size} bytes, got {len(key)}")
            value = check_float(stored, f"{w}[1]", 0.0, 1.0)
            cache._entries[key] = [value, check_int(count, f"{w}[2]", 1)]
        return cache
