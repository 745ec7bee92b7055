"""Regularized evolution as an explicit state with ask/tell steps (docs/semantics.md §8.1).

The population is a ring of P slots; the slot after the newest holds the
oldest individual, which the next child replaces (ageing). ``ask`` draws
tournaments (T draws with replacement over all P slots; the first of the
fittest wins ties) and mutates the winners; ``tell`` puts the evaluated
children into the oldest slots. Asking for one child at a time is exactly the
original's loop; a batch of n children shares one population snapshot (the
original's order of tournament then replacement is kept within a batch).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from automl_zero.engine.mutator import Mutator
from automl_zero.language.algorithm import Algorithm
from automl_zero.language.json_format import algorithm_from_dict, algorithm_to_dict

__all__ = ["EvolutionState", "RegularizedEvolution", "population_stats"]


@dataclass
class EvolutionState:
    """Population, fitness and age order of one regularized-evolution run."""

    population: list[Algorithm]
    fitness: np.ndarray  # float64 (P,)
    next_slot: int = 0  # the oldest individual's slot: replaced next
    num_individuals: int = 0  # individuals evaluated, initial population included

    def to_dict(self) -> dict:
        """JSON-serialisable form (for checkpoints; no pickle)."""
        return {"population": [algorithm_to_dict(a) for a in self.population],
                "fitness": [float(f) for f in self.fitness],
                "next_slot": self.next_slot, "num_individuals": self.num_individuals}

    @classmethod
    def from_dict(cls, data: dict) -> EvolutionState:
        return cls([algorithm_from_dict(a) for a in data["population"]],
                   np.array(data["fitness"], dtype=np.float64),
                   int(data["next_slot"]), int(data["num_individuals"]))


def population_stats(fitness: np.ndarray) -> tuple[float, float, float, int]:
    """Mean, population stdev (naive formula clipped at 0), best and the first
    index of the best, as the original's PopulationStats."""
    mean = float(fitness.mean())
    var = float((fitness * fitness).mean()) - mean * mean
    best = int(np.argmax(fitness))
    return mean, float(np.sqrt(max(0.0, var))), float(fitness[best]), best


class RegularizedEvolution:
    """Regularized evolution (Real et al. 2019) with the original's details."""

    def __init__(self, population_size: int, tournament_size: int,
                 mutator: Mutator) -> None:
        if population_size < 1 or tournament_size < 1:
            raise ValueError("population_size and tournament_size must be >= 1")
        self.population_size = population_size
        self.tournament_size = tournament_size
        self.mutator = mutator

    def init(self, algorithms: Sequence[Algorithm], fitness: np.ndarray
             ) -> EvolutionState:
        """The initial population, already evaluated."""
        if len(algorithms) != self.population_size:
            raise ValueError(f"initial population has {len(algorithms)} algorithms, "
                             f"population_size is {self.population_size}")
        return EvolutionState(list(algorithms), np.array(fitness, dtype=np.float64), 0,
                              len(algorithms))

    def select(self, state: EvolutionState, rng: np.random.Generator, n: int
               ) -> np.ndarray:
        """Slots of ``n`` tournament winners."""
        draws = rng.integers(0, self.population_size, size=(n, self.tournament_size))
        winners = np.argmax(state.fitness[draws], axis=1)  # first maximum wins ties
        return draws[np.arange(n), winners]

    def ask(self, state: EvolutionState, rng: np.random.Generator, n: int = 1
            ) -> list[Algorithm]:
        """``n`` children: tournament winners, each mutated (or copied)."""
        slots = self.select(state, rng, n)
        population = state.population
        mutate = self.mutator.mutate
        return [mutate(population[s], rng) for s in slots]

    def tell(self, state: EvolutionState, children: Sequence[Algorithm],
             fitness: Sequence[float] | np.ndarray) -> EvolutionState:
        """Put evaluated children into the oldest slots (in place; returned)."""
        p = self.population_size
        n = len(children)
        if len(fitness) != n:
            raise ValueError(f"{n} children but {len(fitness)} fitness values")
        slots = (state.next_slot + np.arange(n)) % p
        state.fitness[slots] = fitness
        population = state.population
        for slot, child in zip(slots.tolist(), children, strict=True):
            population[slot] = child
        state.next_slot = (state.next_slot + n) % p
        state.num_individuals += n
        return state
