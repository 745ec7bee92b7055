"""Random migration between islands (paper §3.2 and S3; docs/semantics.md §11).

Every ``migration_every`` individuals each island sends a random part of its
population (``migration_fraction``; the paper: half) to a central pool and
receives as many algorithms sampled at random from the other islands'
emigrants, which replace random members. Emigrants stay in their island (the
paper's workers upload copies). This module holds the pool's rule only: the
islands draw their emigrants and the slots the arrivals take with their own
random streams (``Island.emigrants`` / ``Island.immigrate``), the pool draws
with the driver's migration stream, so a migration does not depend on which
process holds which island.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import numpy as np

__all__ = ["migrants_per_island", "migrate"]

T = TypeVar("T")


def migrants_per_island(population_size: int, fraction: float) -> int:
    """How many members an island sends (and receives) per migration: the
    fraction of the population, rounded, at least one when the fraction is
    positive, at most the whole population."""
    if fraction <= 0.0:
        return 0
    return int(min(population_size, max(1, round(fraction * population_size))))


def migrate(emigrants: Sequence[Sequence[T]], rng: np.random.Generator) -> list[list[T]]:
    """The arrivals of each island: as many as it sent, sampled from the pool of
    the *other* islands' emigrants (without replacement while the pool lasts).
    One island alone keeps its own (migration is then a no-op)."""
    n = len(emigrants)
    if n < 2:
        return [[] for _ in range(n)]
    pool = [(i, item) for i, sent in enumerate(emigrants) for item in sent]
    arrivals: list[list[T]] = []
    for i, sent in enumerate(emigrants):
        others = [item for j, item in pool if j != i]
        k = len(sent)
        if k == 0 or not others:
            arrivals.append([])
            continue
        # The whole pool first (in random order), then, if an island wants
        # more than the pool holds, the rest drawn again with replacement.
        picks = list(rng.permutation(len(others))[:k])
        if k > len(others):
            picks += list(rng.integers(0, len(others), size=k - len(others)))
        arrivals.append([others[int(p)] for p in picks])
    return arrivals
