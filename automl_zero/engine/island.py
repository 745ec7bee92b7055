"""An island: one population searching one task collection.

An ``Island`` holds what one search process of the paper holds: its population
(regularized evolution) or its best-so-far (random search), its evaluator (the
task collection, the FEC cache, the evaluation random stream and train-step
counter) and its own random stream for selection and mutation. It does no file
I/O: a driver steps it, reads its statistics and saves ``to_state()``
(docs/semantics.md §8, §9). ``emigrants`` and ``immigrate`` are the migration
hooks (paper §3.2: migrants replace random members).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from automl_zero.engine.evaluator import Evaluator
from automl_zero.engine.evolution import population_stats
from automl_zero.engine.packed_evolution import (
    Layout,
    PackedEvolution,
    PackedPopulation,
    unpack,
)
from automl_zero.engine.settings import EvolutionSettings
from automl_zero.engine.state import (
    StateError,
    check_float,
    check_int,
    check_list,
    check_rng_state,
    require,
)
from automl_zero.errors import AutoMLZeroError
from automl_zero.language.algorithm import Algorithm
from automl_zero.language.generator import model_by_id
from automl_zero.language.json_format import algorithm_from_dict, algorithm_to_dict

__all__ = ["Island"]


class Island:
    """Regularized evolution (or random search) on one task collection.

    ``seed`` (an int or a ``numpy.random.SeedSequence``, e.g. one of
    ``SeedSequence(run_seed).spawn(W)``) seeds selection and mutation; the
    evaluator has its own stream. ``initialize()`` creates and evaluates the
    initial population, ``step(n)`` evaluates ``n`` more individuals.
    """

    def __init__(self, settings: EvolutionSettings, evaluator: Evaluator,
                 seed: int | np.random.SeedSequence = 0) -> None:
        if tuple(settings.memory_sizes) != evaluator.memory.sizes:
            raise ValueError(f"the evaluator's memory {evaluator.memory.sizes} differs "
                             f"from the search space's {settings.memory_sizes}")
        self.settings = settings
        self.evaluator = evaluator
        self._rng = np.random.default_rng(seed)
        self.template = _template(settings)
        self.layout = Layout.for_settings(settings, [self.template])
        self.engine = PackedEvolution(settings, self.layout)
        self.population: PackedPopulation | None = None
        self.best_random: tuple[float, Algorithm] | None = None  # random search
        self.individuals = 0  # evaluated so far, initial population included
        self.initialized = False

    # ------------------------------------------------------------- search
    def initialize(self) -> None:
        """Create and evaluate the initial population (random search: nothing)."""
        self.initialized = True
        s = self.settings
        if s.method == "RANDOM_SEARCH":
            return
        if s.initial_population == "RANDOM_ALGORITHM":
            children = self._random(s.population_size)
            code, data, sizes = children.code, children.data, children.sizes
        else:
            initial = []
            for _ in range(s.population_size):
                initial.append(model_by_id(s.initial_population, s.size_init, s.op_codes,
                                           s.memory_sizes, self._rng))
                # The original passes each initial algorithm through
                # Mutate(alg, 0), which only draws the mutate_prob coin.
                if s.mutate_prob < 1.0:
                    self._rng.random()
            packed = PackedPopulation.from_algorithms(initial, np.zeros(len(initial)),
                                                      self.layout)
            code, data, sizes = packed.code, packed.data, packed.sizes
        fitness = self.evaluator.evaluate_packed(code, data, sizes, self.layout).fitness
        self.population = PackedPopulation(code, data, sizes, fitness, self.layout, 0,
                                           s.population_size)
        self.individuals = s.population_size

    def step(self, n: int) -> np.ndarray:
        """Evaluate ``n`` new individuals (one batch); returns their fitness."""
        if not self.initialized:
            self.initialize()
        if self.settings.method == "RANDOM_SEARCH":
            children = self._random(n)
            fitness = self._evaluate(children)
            best = int(np.argmax(fitness))
            if self.best_random is None or fitness[best] > self.best_random[0]:
                self.best_random = (float(fitness[best]),
                                    _unpack(children, best, self.layout))
        else:
            children = self.engine.ask(self.population, self._rng, n)
            self._set_hurdle()
            fitness = self._evaluate(children)
            self.engine.tell(self.population, children, fitness)
        self.individuals += n
        return fitness

    def _set_hurdle(self) -> None:
        """Hurdles (docs/semantics.md §10): the evaluator's hurdle becomes the
        configured percentile of the population's distinct fitnesses."""
        hurdles = self.evaluator.hurdles
        if hurdles is not None:
            self.evaluator.hurdle = float(np.percentile(
                np.unique(self.population.fitness), hurdles.percentile))

    def _random(self, n: int):  # noqa: ANN202 - a packed_evolution.Children
        """``n`` RANDOM_ALGORITHM programs (every mutable instruction randomized)."""
        blank = PackedPopulation.from_algorithms([self.template], np.zeros(1),
                                                 self.layout)
        return self.engine.randomize(blank, self._rng, n)

    def _evaluate(self, children) -> np.ndarray:  # noqa: ANN001
        return self.evaluator.evaluate_packed(children.code, children.data,
                                              children.sizes, self.layout).fitness

    # ---------------------------------------------------------- statistics
    @property
    def train_steps(self) -> int:
        return self.evaluator.num_train_steps

    def best(self) -> tuple[float, Algorithm] | None:
        """The best individual (the first of ties, as the original) and its
        fitness; random search: the best seen. None before any evaluation."""
        if self.population is not None:
            _, _, fit, i = population_stats(self.population.fitness)
            return fit, self.population.algorithm(i)
        return self.best_random

    def best_fitness(self) -> float:
        """The best fitness now (cheap: nothing unpacked); -inf before any."""
        if self.population is not None:
            return float(self.population.fitness.max())
        return self.best_random[0] if self.best_random is not None else -np.inf

    def stats(self) -> tuple[float, float, float]:
        """Mean, standard deviation and best fitness of the population (random
        search: NaN, NaN, the best seen; 0 before any evaluation)."""
        if self.population is not None:
            mean, stdev, best, _ = population_stats(self.population.fitness)
            return mean, stdev, best
        best = self.best_random[0] if self.best_random is not None else 0.0
        return float("nan"), float("nan"), best

    # ----------------------------------------------------------- migration
    def emigrants(self, k: int) -> list[Algorithm]:
        """``k`` distinct members drawn at random (they stay here too)."""
        code, data, sizes = self.emigrants_packed(k)
        return [unpack(code[i], data[i], sizes[i], self.layout) for i in range(len(sizes))]

    def emigrants_packed(self, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``emigrants`` as packed rows (code, data, sizes) in this island's
        layout: what workers send (no program objects to build or pickle)."""
        pop = self.population
        if pop is None:
            rows = self.layout.rows
            return (np.zeros((0, rows, 4), dtype=np.int32), np.zeros((0, rows, 3)),
                    np.zeros((0, 3), dtype=np.int64))
        k = min(k, len(pop.fitness))
        slots = self._rng.choice(len(pop.fitness), size=k, replace=False)
        return pop.code[slots].copy(), pop.data[slots].copy(), pop.sizes[slots].copy()

    def immigrate(self, algorithms: Sequence[Algorithm]) -> None:
        """Evaluate ``algorithms`` on this island's tasks and let them replace
        random members (distinct slots). Their addresses must fit this memory."""
        if self.population is None or not algorithms:
            return
        algorithms = list(algorithms)[:len(self.population.fitness)]
        for alg in algorithms:
            alg.check_memory(*self.settings.memory_sizes)
        packed = PackedPopulation.from_algorithms(algorithms, np.zeros(len(algorithms)),
                                                  self.layout)
        self.immigrate_packed(packed.code, packed.data, packed.sizes)

    def immigrate_packed(self, code: np.ndarray, data: np.ndarray, sizes: np.ndarray
                         ) -> None:
        """``immigrate`` for packed rows in this island's layout (another
        island's ``emigrants_packed`` with the same search space)."""
        pop = self.population
        if pop is None or not len(sizes):
            return
        n = min(len(sizes), len(pop.fitness))
        code, data, sizes = code[:n], data[:n], sizes[:n]
        hurdle, self.evaluator.hurdle = self.evaluator.hurdle, None  # no hurdle
        try:
            fitness = self.evaluator.evaluate_packed(code, data, sizes,
                                                     self.layout).fitness
        finally:
            self.evaluator.hurdle = hurdle
        slots = self._rng.choice(len(pop.fitness), size=n, replace=False)
        pop.code[slots] = code
        pop.data[slots] = data
        pop.sizes[slots] = sizes
        pop.fitness[slots] = fitness

    # --------------------------------------------------------------- state
    def to_state(self) -> dict[str, Any]:
        """JSON-serialisable state (plain lists and numbers; no pickle needed,
        though it pickles too)."""
        pop = self.population
        best = self.best_random
        return {
            "initialized": self.initialized,
            "individuals": self.individuals,
            "rng": self._rng.bit_generator.state,
            "population": None if pop is None else {
                "algorithms": [algorithm_to_dict(pop.algorithm(i))
                               for i in range(len(pop.fitness))],
                "fitness": [float(f) for f in pop.fitness],
                "next_slot": pop.next_slot,
            },
            "best_random": None if best is None else [best[0], algorithm_to_dict(best[1])],
            "evaluator": self.evaluator.to_state(),
        }

    @classmethod
    def from_state(cls, settings: EvolutionSettings, evaluator: Evaluator, state: Any,
                   where: str = "island") -> Island:
        """Rebuild an island from ``to_state()``; every value is validated
        (``StateError`` names the key), programs against the memory and the
        sizes this search space can produce."""
        require(state, dict, where)
        island = cls(settings, evaluator)
        island.initialized = require(state.get("initialized"), bool,
                                     f"{where}.initialized")
        island.individuals = check_int(state.get("individuals"), f"{where}.individuals")
        island._rng.bit_generator.state = check_rng_state(
            require(state.get("rng"), dict, f"{where}.rng"),
            type(island._rng.bit_generator), f"{where}.rng")
        pop = state.get("population")
        if pop is not None:
            w = f"{where}.population"
            require(pop, dict, w)
            p = settings.population_size
            algs = [island._program(a, f"{w}.algorithms[{i}]") for i, a in
                    enumerate(check_list(pop.get("algorithms"), f"{w}.algorithms", p))]
            fitness = [check_float(f, f"{w}.fitness[{i}]", 0.0, 1.0) for i, f in
                       enumerate(check_list(pop.get("fitness"), f"{w}.fitness", p))]
            next_slot = check_int(pop.get("next_slot"), f"{w}.next_slot", 0, p - 1)
            island.population = PackedPopulation.from_algorithms(
                algs, np.array(fitness), island.layout, next_slot, island.individuals)
        elif island.initialized and settings.method != "RANDOM_SEARCH":
            raise StateError(f"{where}.population: missing")
        best = state.get("best_random")
        if best is not None:
            fit, alg = check_list(best, f"{where}.best_random", 2)
            island.best_random = (check_float(fit, f"{where}.best_random[0]", 0.0, 1.0),
                                  island._program(alg, f"{where}.best_random[1]"))
        evaluator.load_state(state.get("evaluator"), f"{where}.evaluator")
        return island

    def _program(self, data: Any, where: str) -> Algorithm:
        """A saved program, checked against this island's memory and layout."""
        try:
            alg = algorithm_from_dict(require(data, dict, where))
            alg.check_memory(*self.settings.memory_sizes)
        except StateError:
            raise
        except (AutoMLZeroError, ValueError, TypeError, KeyError) as err:
            raise StateError(f"{where}: {err}") from None
        for c, component in enumerate(alg.components):
            if len(component) > self.layout.caps[c]:
                raise StateError(f"{where}: {len(component)} instructions in component "
                                 f"{c}, more than this search space allows "
                                 f"({self.layout.caps[c]})")
        return alg


def _template(settings: EvolutionSettings) -> Algorithm:
    """A program with the shape of the initial population's: NO_OP programs of
    the initial sizes (what RANDOM_ALGORITHM randomizes), or the named model."""
    if settings.initial_population in ("RANDOM_ALGORITHM", "NO_OP_ALGORITHM"):
        return model_by_id("NO_OP_ALGORITHM", settings.size_init)
    return model_by_id(settings.initial_population, settings.size_init)


def _unpack(children, i: int, layout: Layout) -> Algorithm:  # noqa: ANN001
    return unpack(children.code[i], children.data[i], children.sizes[i], layout)
