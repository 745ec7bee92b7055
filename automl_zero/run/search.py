"""The search pipeline (SPEC §9): experiments of regularized evolution (or random
search) on T_search, the best candidate checked on T_select, the best one
reported on T_final; with FEC, a structural cache, budgets, a run directory,
atomic checkpoints and resume.

A run is deterministic for a config and seed: every random number comes from
generators seeded from the run seed, checkpoints are taken between batches and
hold the whole state, so a resumed run continues exactly as an uninterrupted
one would (a wall-clock limit is the only non-deterministic stop).
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from automl_zero import __version__
from automl_zero.config import Config, config_from_dict
from automl_zero.engine import _mutation_kernel
from automl_zero.engine.evaluator import Evaluator, TrainBudget, combine_fitness
from automl_zero.engine.evolution import (
    EvolutionState,
    RegularizedEvolution,
    population_stats,
)
from automl_zero.engine.fec import FECCache, fingerprints
from automl_zero.engine.mutator import Mutator
from automl_zero.engine.packed_evolution import (
    Children,
    Layout,
    PackedEvolution,
    PackedPopulation,
)
from automl_zero.executor.executor import execute, execute_packed
from automl_zero.language.algorithm import Algorithm
from automl_zero.language.effective import (
    effective_algorithm,
    is_effectively_random,
    structural_key,
)
from automl_zero.language.generator import model_by_id
from automl_zero.language.json_format import algorithm_from_dict, algorithm_to_dict
from automl_zero.language.ops import COST
from automl_zero.tasks.task import TaskSpec, make_tasks, randomize_task_seeds

__all__ = ["search", "resume", "SearchRun", "SearchResult", "ProgressRecord", "atomic_write_text",
           "FEC_RANDOM_SEED", "new_run_dir"]

# The original re-seeds the fingerprint runs' generator with this constant.
FEC_RANDOM_SEED = 235732282
CHECKPOINT = "checkpoint.json"
PROGRESS = "progress.jsonl"


def atomic_write_text(path: Path, text: str) -> None:
    """Write a file so that a reader (or a crash) sees the old or the new whole
    file, never a part: temp file in the same directory, fsync, rename."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def new_run_dir(root: Path = Path("runs")) -> Path:
    """``runs/<timestamp>`` (a suffix keeps it unique)."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path = root / stamp
    i = 1
    while path.exists():
        path = root / f"{stamp}-{i}"
        i += 1
    return path


@dataclass
class ProgressRecord:
    """One line of ``progress.jsonl``."""

    experiment: int
    individuals: int  # in this experiment, initial population included
    total_individuals: int
    train_steps: int  # in this experiment (fingerprint runs included)
    elapsed_s: float
    mean: float
    stdev: float
    best: float
    fec_hit_rate: float
    structural_hit_rate: float
    individuals_per_s: float
    budget_used: float  # fraction of the experiment's tightest budget


@dataclass
class SearchResult:
    """What a finished (or stopped) run found."""

    best_algorithm: Algorithm | None
    search_fitness: float
    select_fitness: float
    final_fitness: float | None
    experiments: int
    total_individuals: int
    total_train_steps: int
    elapsed_s: float
    seed: int
    stopped_by: str
    time_to_select_s: float | None = None  # wall time when T_select first passed

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["best_algorithm"] = (None if self.best_algorithm is None
                                 else algorithm_to_dict(self.best_algorithm))
        out["version"] = __version__
        return out


@dataclass
class _Experiment:
    """State of the current search experiment (reset between experiments)."""

    index: int
    search_specs: list[TaskSpec]
    select_specs: list[TaskSpec]
    state: EvolutionState | None = None
    fec: FECCache | None = None
    structural: FECCache | None = None
    train_steps: int = 0
    individuals: int = 0
    struct_hits: int = 0
    struct_lookups: int = 0
    best_random: tuple[float, Algorithm] | None = None  # random search
    eval_rng_state: dict = field(default_factory=dict)


class SearchRun:
    """A whole run: experiments until a stopping criterion, then the final
    evaluation. ``run()`` may be interrupted (Ctrl-C): it checkpoints and
    returns the best so far; ``SearchRun.resume(dir)`` continues it."""

    def __init__(self, cfg: Config, out_dir: Path, seed: int | None = None,
                 progress: Callable[[ProgressRecord], None] | None = None,
                 checkpoint_every_s: float = 30.0) -> None:
        self.cfg = cfg
        self.out_dir = Path(out_dir)
        if seed is None:
            seed = cfg.random_seed
        if seed == 0:  # the original's time-based seed
            seed = int(time.time_ns() % (2**31 - 1)) or 1
        self.seed = int(seed)
        self.progress = progress
        self.checkpoint_every_s = checkpoint_every_s
        self.rng = np.random.default_rng([self.seed, 1])  # evolution and mutation
        self.eval_rng = np.random.default_rng([self.seed, 2])  # evaluator seeds
        self.mutator = Mutator.from_config(cfg) if _mutable(cfg) else None
        self.evolution = (RegularizedEvolution(cfg.population_size, cfg.tournament_size,
                                               self.mutator)
                          if self.mutator is not None else None)
        self.use_packed = (self.evolution is not None and cfg.engine == "PACKED"
                           and not cfg.structural_cache)
        self.packed: PackedEvolution | None = None
        self.budget = None
        if cfg.train_budget is not None:
            baseline = model_by_id(cfg.train_budget.train_budget_baseline, cfg.size_init)
            self.budget = TrainBudget(baseline,
                                      cfg.train_budget.train_budget_threshold_factor)
        self.best_select = -np.inf
        self.best_algorithm: Algorithm | None = None
        self.best_search_fitness = 0.0
        self.experiments_done = 0
        self.total_individuals = 0
        self.total_train_steps = 0
        self.elapsed_before = 0.0  # seconds spent before this process (resume)
        self.time_to_select: float | None = None
        self.progress_lines = 0
        self.exp: _Experiment | None = None
        self._evaluators: dict[int, Evaluator] = {}
        self._t0 = time.perf_counter()
        self._last_checkpoint = self._t0
        self._last_progress_individuals = 0
        self._rate_mark = (0.0, 0)
        self.stop_requested = False  # set by signal handlers; checked between batches

    # ----------------------------------------------------------------- utils
    def elapsed(self) -> float:
        return self.elapsed_before + (time.perf_counter() - self._t0)

    def _write_initial_files(self) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.out_dir / "config.json",
                          json.dumps(self.cfg.to_dict(), indent=2))

    def _log_progress(self, record: ProgressRecord) -> None:
        with open(self.out_dir / PROGRESS, "a") as f:
            f.write(json.dumps(dataclasses.asdict(record)) + "\n")
        self.progress_lines += 1
        if self.progress is not None:
            self.progress(record)

    # ----------------------------------------------------------- experiments
    def _start_experiment(self) -> None:
        cfg = self.cfg
        search_specs = list(cfg.search_tasks)
        select_specs = list(cfg.select_tasks)
        if cfg.randomize_task_seeds:
            search_specs = randomize_task_seeds(search_specs, _seed(self.rng))
            select_specs = randomize_task_seeds(select_specs, _seed(self.rng))
        exp = _Experiment(self.experiments_done, search_specs, select_specs)
        if cfg.fec is not None:
            exp.fec = FECCache(cfg.fec.cache_size, cfg.fec.forget_every)
        if cfg.structural_cache:
            exp.structural = FECCache(max(cfg.fec.cache_size if cfg.fec else 100000, 2),
                                      0)
        self.exp = exp
        self._evaluator = self._make_search_evaluator(exp)
        self._last_progress_individuals = 0
        if cfg.method == "RANDOM_SEARCH":
            return
        if self.use_packed and cfg.initial_population == "RANDOM_ALGORITHM":
            exp.state = self._random_packed_population()
        else:
            initial = [self._initial_algorithm() for _ in range(cfg.population_size)]
            fitness = self._evaluate(initial)
            exp.state = self.evolution.init(initial, fitness)
            if self.use_packed:
                exp.state = self._to_packed(exp.state)
        exp.individuals = cfg.population_size
        self.total_individuals += cfg.population_size
        self._report()

    def _random_packed_population(self) -> PackedPopulation:
        """RANDOM_ALGORITHM individuals made by the numba mutator: NO_OP programs
        of the initial sizes with every mutable instruction randomized."""
        cfg = self.cfg
        template = model_by_id("NO_OP_ALGORITHM", cfg.size_init)
        layout = Layout.for_config(cfg, [template])
        self.packed = PackedEvolution(cfg, layout)
        blank = PackedPopulation.from_algorithms([template], np.zeros(1), layout)
        children = self.packed.randomize(blank, self.rng, cfg.population_size)
        fitness = self._evaluate_packed(children)
        state = PackedPopulation(children.code, children.data, children.sizes, fitness,
                                 layout, 0, cfg.population_size)
        return state

    def _make_search_evaluator(self, exp: _Experiment) -> Evaluator:
        ev = Evaluator(make_tasks(exp.search_specs), self.cfg.memory,
                       fitness_combination_mode=self.cfg.fitness_combination_mode,
                       max_abs_error=self.cfg.max_abs_error, train_budget=self.budget,
                       seed=0)
        ev.rng = self.eval_rng
        return ev

    def _initial_algorithm(self) -> Algorithm:
        cfg = self.cfg
        alg = model_by_id(cfg.initial_population, cfg.size_init, cfg.op_codes(),
                          cfg.memory.sizes, self.rng)
        # The original passes each initial algorithm through Mutate(alg, 0),
        # which only draws the mutate_prob coin.
        if cfg.mutate_prob < 1.0:
            self.rng.random()
        return alg

    def _random_children(self, n: int) -> list[Algorithm]:
        cfg = self.cfg
        return [model_by_id("RANDOM_ALGORITHM", cfg.size_init, cfg.op_codes(),
                            cfg.memory.sizes, self.rng) for _ in range(n)]

    # ------------------------------------------------------------ evaluation
    def _evaluate(self, children: Sequence[Algorithm]) -> np.ndarray:
        """Fitness of children on T_search through the structural cache, the FEC
        and, for the rest, full evaluation of their effective algorithms."""
        exp = self.exp
        cfg = self.cfg
        n = len(children)
        fitness = np.zeros(n)
        # Dead-code removal (~4 us in Python) pays for itself on full evaluations
        # and, with the structural cache, on every child; fingerprint runs are
        # too short to gain from it.
        effective = ([effective_algorithm(c) for c in children]
                     if exp.structural is not None else list(children))
        pending = list(range(n))
        skeys: dict[int, bytes] = {}
        if exp.structural is not None:
            pending = []
            for i, eff in enumerate(effective):
                if is_effectively_random(eff):
                    pending.append(i)
                    continue
                key = structural_key(eff)
                exp.struct_lookups += 1
                cached = exp.structural.find(key)
                if cached is None:
                    skeys[i] = key
                    pending.append(i)
                else:
                    exp.struct_hits += 1
                    fitness[i] = cached
        if not pending:
            return fitness
        evaluator = self._evaluator
        to_run = pending
        fec_keys: dict[int, Any] = {}
        if exp.fec is not None and cfg.fec is not None:
            algs = [effective[i] for i in pending]
            record = max(cfg.fec.num_train_examples, cfg.fec.num_valid_examples)
            fp = execute(algs, evaluator.batch, cfg.memory,
                         np.full(len(algs), FEC_RANDOM_SEED),
                         cfg.max_abs_error,
                         num_train_examples=cfg.fec.num_train_examples,
                         num_valid_examples=cfg.fec.num_valid_examples,
                         record_errors=record, check_memory=False)
            steps = int(fp.train_steps.sum())
            exp.train_steps += steps
            self.total_train_steps += steps
            if self.budget is None:
                budgets = evaluator.max_train_examples
            else:
                budgets = np.array([self._budget_key(children[i]) for i in pending])
            keys = fingerprints(fp.train_errors, fp.valid_errors, fp.num_errors, budgets)
            to_run = []
            for i, key in zip(pending, keys, strict=True):
                cached = exp.fec.find(key)
                if cached is None:
                    fec_keys[i] = key
                    to_run.append(i)
                else:
                    fitness[i] = cached
        if to_run:
            # Children come from the config's memory: no need to check them.
            result = evaluator.evaluate_many(
                [effective_algorithm(effective[i]) for i in to_run],
                [children[i] for i in to_run], check_memory=False)
            steps = int(result.train_steps.sum())
            exp.train_steps += steps
            self.total_train_steps += steps
            for i, f in zip(to_run, result.fitness, strict=True):
                fitness[i] = f
                if i in fec_keys:
                    exp.fec.insert(fec_keys[i], float(f))
        if exp.structural is not None:
            for i, key in skeys.items():
                exp.structural.insert(key, float(fitness[i]))
        return fitness

    def _budget_key(self, alg: Algorithm) -> tuple[int, ...]:
        if self.budget is None:
            return ()
        return tuple(self.budget.train_examples(alg, int(m))
                     for m in self._evaluator.max_train_examples)

    def _to_packed(self, state: EvolutionState) -> PackedPopulation:
        layout = Layout.for_config(self.cfg, state.population)
        self.packed = PackedEvolution(self.cfg, layout)
        return PackedPopulation.from_algorithms(state.population, state.fitness, layout,
                                                state.next_slot, state.num_individuals)

    def _packed_budgets(self, children: Children, rows: np.ndarray) -> np.ndarray | None:
        """Training examples per (child, task) under the train budget (None: no
        budget). The cost counts every instruction, NO_OPs included."""
        if self.budget is None:
            return None
        costs = _mutation_kernel.compute_costs(children.code[rows], children.sizes[rows],
                                               self.packed.layout.offsets, COST)
        base = self.budget.baseline
        from automl_zero.engine.evaluator import compute_cost

        base_setup = compute_cost(base.setup)
        base_train = compute_cost(base.predict) + compute_cost(base.learn)
        n = self._evaluator.max_train_examples[None, :]
        within = (costs[:, :1] + n * costs[:, 1:]
                  <= self.budget.threshold_factor * (base_setup + n * base_train))
        return np.where(within, n, 0)

    def _evaluate_packed(self, children: Children) -> np.ndarray:
        """Fitness of packed children: FEC fingerprints, then full evaluation of
        the misses (same accounting as ``_evaluate``)."""
        exp = self.exp
        cfg = self.cfg
        evaluator = self._evaluator
        n = len(children.sizes)
        rows = np.arange(n)
        fitness = np.zeros(n)
        budgets = self._packed_budgets(children, rows)
        to_run = rows
        fec_keys: dict[int, Any] = {}
        if exp.fec is not None and cfg.fec is not None:
            packed = self.packed.compact(children.code, children.data, children.sizes,
                                         rows, effective=True)
            record = max(cfg.fec.num_train_examples, cfg.fec.num_valid_examples)
            fp = execute_packed(packed, evaluator.batch, cfg.memory,
                                np.full(n, FEC_RANDOM_SEED), cfg.max_abs_error,
                                num_train_examples=cfg.fec.num_train_examples,
                                num_valid_examples=cfg.fec.num_valid_examples,
                                record_errors=record)
            steps = int(fp.train_steps.sum())
            exp.train_steps += steps
            self.total_train_steps += steps
            keys = fingerprints(fp.train_errors, fp.valid_errors, fp.num_errors,
                                evaluator.max_train_examples if budgets is None
                                else budgets)
            misses = []
            find = exp.fec.find
            for i, key in enumerate(keys):
                cached = find(key)
                if cached is None:
                    fec_keys[i] = key
                    misses.append(i)
                else:
                    fitness[i] = cached
            to_run = np.array(misses, dtype=np.int64)
        if len(to_run):
            seeds = evaluator.rng.integers(0, 2**32, size=len(to_run), dtype=np.int64)
            per_task = np.zeros((len(to_run), evaluator.batch.num_tasks))
            if budgets is None:
                groups = {(): np.arange(len(to_run))}
            else:
                groups = {}
                for j, i in enumerate(to_run):
                    groups.setdefault(tuple(budgets[i]), []).append(j)
            for key, members in groups.items():
                members = np.asarray(members, dtype=np.int64)
                sub = self.packed.compact(children.code, children.data, children.sizes,
                                          to_run[members], effective=True)
                result = execute_packed(sub, evaluator.batch, cfg.memory,
                                        seeds[members], cfg.max_abs_error,
                                        num_train_examples=(None if not key else
                                                            np.array(key)))
                per_task[members] = result.fitness
                steps = int(result.train_steps.sum())
                exp.train_steps += steps
                self.total_train_steps += steps
                evaluator.num_train_steps += steps
            combined = combine_fitness(per_task, cfg.fitness_combination_mode)
            fitness[to_run] = combined
            for j, i in enumerate(to_run):
                if i in fec_keys:
                    exp.fec.insert(fec_keys[i], float(combined[j]))
        return fitness

    # ------------------------------------------------------------- progress
    def _budget_used(self) -> float:
        exp = self.exp
        cfg = self.cfg
        used = [exp.train_steps / cfg.max_train_steps if cfg.max_train_steps else 0.0]
        if cfg.max_individuals:
            used.append(exp.individuals / cfg.max_individuals)
        if cfg.time_limit_seconds:
            used.append(self.elapsed() / cfg.time_limit_seconds)
        return float(min(1.0, max(used)))

    def _report(self, force: bool = False) -> None:
        exp = self.exp
        since = exp.individuals - self._last_progress_individuals
        if since < self.cfg.progress_every and not (force and since > 0):
            return
        self._last_progress_individuals = exp.individuals
        if exp.state is not None:
            mean, stdev, best, _ = population_stats(exp.state.fitness)
        else:
            best = exp.best_random[0] if exp.best_random else 0.0
            mean = stdev = float("nan")
        now = self.elapsed()
        t_mark, n_mark = self._rate_mark
        rate = ((self.total_individuals - n_mark) / (now - t_mark)
                if now > t_mark else 0.0)
        self._rate_mark = (now, self.total_individuals)
        fec_rate = exp.fec.hit_rate() if exp.fec is not None else 0.0
        struct_rate = exp.struct_hits / exp.struct_lookups if exp.struct_lookups else 0.0
        self._log_progress(ProgressRecord(
            exp.index, exp.individuals, self.total_individuals, exp.train_steps,
            round(now, 3), mean, stdev, best, fec_rate, struct_rate, round(rate, 1),
            self._budget_used()))

    # ------------------------------------------------------------------ run
    def _experiment_done(self) -> str | None:
        cfg = self.cfg
        exp = self.exp
        if exp.train_steps >= cfg.max_train_steps:
            return "max_train_steps"
        if cfg.max_individuals and exp.individuals >= cfg.max_individuals:
            return "max_individuals"
        return None

    def _time_up(self) -> bool:
        return bool(self.cfg.time_limit_seconds
                    and self.elapsed() >= self.cfg.time_limit_seconds)

    def _step(self) -> None:
        """One batch of children: ask, evaluate, tell."""
        cfg = self.cfg
        exp = self.exp
        n = cfg.batch_size
        if cfg.max_individuals:
            n = min(n, cfg.max_individuals - exp.individuals)
        if cfg.method == "RANDOM_SEARCH":
            children = self._random_children(n)
            fitness = self._evaluate(children)
            best = int(np.argmax(fitness))
            if exp.best_random is None or fitness[best] > exp.best_random[0]:
                exp.best_random = (float(fitness[best]), children[best])
        elif self.use_packed:
            packed_children = self.packed.ask(exp.state, self.rng, n)
            fitness = self._evaluate_packed(packed_children)
            self.packed.tell(exp.state, packed_children, fitness)
        else:
            children = self.evolution.ask(exp.state, self.rng, n)
            fitness = self._evaluate(children)
            self.evolution.tell(exp.state, children, fitness)
        exp.individuals += n
        self.total_individuals += n
        self._report()

    def _finish_experiment(self) -> bool:
        """Select the candidate on T_select; True when the run should stop."""
        exp = self.exp
        cfg = self.cfg
        self._report(force=True)
        if exp.state is not None:
            _, _, search_fitness, best = population_stats(exp.state.fitness)
            candidate = _member(exp.state, best)
        elif exp.best_random is not None:
            search_fitness, candidate = exp.best_random
        else:  # stopped before evaluating anything
            self.experiments_done += 1
            self.exp = None
            return True
        select_rng_seed = _seed(self.rng)
        if exp.select_specs:
            selector = Evaluator(make_tasks(exp.select_specs), cfg.memory,
                                 max_abs_error=cfg.max_abs_error, seed=select_rng_seed)
            select = selector.evaluate(candidate)
        else:
            select = search_fitness
        if select >= self.best_select:  # ties favour the later experiment
            self.best_select = select
            self.best_algorithm = candidate
            self.best_search_fitness = search_fitness
        self.experiments_done += 1
        self.exp = None
        stop = cfg.sufficient_fitness is not None and self.best_select > cfg.sufficient_fitness
        if stop and self.time_to_select is None:
            self.time_to_select = self.elapsed()
        if stop:
            self._stopped_by = "sufficient_fitness"
            return True
        if cfg.max_experiments and self.experiments_done >= cfg.max_experiments:
            self._stopped_by = "max_experiments"
            return True
        return False

    def request_stop(self) -> None:
        """Stop at the end of the current batch, as Ctrl-C does (safe to call
        from a signal handler)."""
        self.stop_requested = True

    def run(self) -> SearchResult:
        """Run (or continue) until a stopping criterion; then the final
        evaluation. Ctrl-C (or ``request_stop``) checkpoints and returns the
        best so far."""
        self._write_initial_files()
        self._stopped_by = "running"
        try:
            return self._run()
        except SystemError as err:
            # A KeyboardInterrupt raised while numba dispatches arrives wrapped.
            if not isinstance(err.__cause__, KeyboardInterrupt):
                raise
        except KeyboardInterrupt:
            pass
        self._stopped_by = "interrupted"
        self._checkpoint()
        return self._result(final=None)

    def _check_stop(self) -> None:
        if self.stop_requested:
            raise KeyboardInterrupt

    def _run(self) -> SearchResult:
        """The experiments loop, then the final evaluation and the result files."""
        while True:
            if self.exp is None:
                if self._time_up():
                    self._stopped_by = "time_limit"
                    break
                self._start_experiment()
                self._check_stop()
                self._maybe_checkpoint()
            while self._experiment_done() is None and not self._time_up():
                self._step()
                self._check_stop()
                self._maybe_checkpoint()
            if self._experiment_done() is None:  # time is up mid-experiment
                self._stopped_by = "time_limit"
                if self.best_algorithm is None:
                    self._finish_experiment()
                    self._stopped_by = "time_limit"
                break
            if self._finish_experiment():
                break
            self._checkpoint()
            self._check_stop()
        final = self._final_evaluation()
        result = self._result(final)
        self._checkpoint(done=True)
        atomic_write_text(self.out_dir / "result.json",
                          json.dumps(result.to_dict(), indent=2))
        if self.best_algorithm is not None:
            atomic_write_text(self.out_dir / "best_algorithm.txt",
                              self.best_algorithm.to_text())
            atomic_write_text(self.out_dir / "best_algorithm_effective.txt",
                              effective_algorithm(self.best_algorithm).to_text())
            atomic_write_text(self.out_dir / "best_algorithm.json",
                              json.dumps(algorithm_to_dict(self.best_algorithm),
                                         indent=1))
        return result

    def _final_evaluation(self) -> float | None:
        if self.best_algorithm is None or not self.cfg.final_tasks:
            return None
        final = Evaluator(make_tasks(self.cfg.final_tasks), self.cfg.memory,
                          max_abs_error=self.cfg.max_abs_error, seed=_seed(self.rng))
        return final.evaluate(self.best_algorithm)

    def _result(self, final: float | None) -> SearchResult:
        best = self.best_algorithm
        select = float(self.best_select) if np.isfinite(self.best_select) else 0.0
        if best is None and self.exp is not None and self.exp.state is not None:
            _, _, fit, i = population_stats(self.exp.state.fitness)
            best, search = _member(self.exp.state, i), fit
        else:
            search = self.best_search_fitness
        return SearchResult(best, float(search), select, final, self.experiments_done,
                            self.total_individuals, self.total_train_steps,
                            self.elapsed(), self.seed, self._stopped_by,
                            self.time_to_select)

    # ----------------------------------------------------------- checkpoints
    def _maybe_checkpoint(self) -> None:
        if time.perf_counter() - self._last_checkpoint >= self.checkpoint_every_s:
            self._checkpoint()

    def _checkpoint(self, done: bool = False) -> None:
        """Write the whole state atomically (JSON; nothing executable)."""
        exp = self.exp
        state: dict[str, Any] = {
            "format": "automl_zero.checkpoint", "format_version": 1,
            "version": __version__, "done": done,
            "config": self.cfg.to_dict(), "config_source": self.cfg.source,
            "seed": self.seed,
            "rng": self.rng.bit_generator.state,
            "eval_rng": self.eval_rng.bit_generator.state,
            "best_select": (None if not np.isfinite(self.best_select)
                            else float(self.best_select)),
            "best_algorithm": (None if self.best_algorithm is None
                               else algorithm_to_dict(self.best_algorithm)),
            "best_search_fitness": self.best_search_fitness,
            "experiments_done": self.experiments_done,
            "total_individuals": self.total_individuals,
            "total_train_steps": self.total_train_steps,
            "elapsed_s": self.elapsed(),
            "time_to_select_s": self.time_to_select,
            "progress_lines": self.progress_lines,
            "last_progress_individuals": self._last_progress_individuals,
            "experiment": None,
        }
        if exp is not None:
            state["experiment"] = {
                "index": exp.index,
                "search_specs": [s.to_dict() for s in exp.search_specs],
                "select_specs": [s.to_dict() for s in exp.select_specs],
                "state": None if exp.state is None else exp.state.to_dict(),
                "fec": None if exp.fec is None else exp.fec.to_state(),
                "structural": (None if exp.structural is None
                               else exp.structural.to_state()),
                "train_steps": exp.train_steps, "individuals": exp.individuals,
                "struct_hits": exp.struct_hits, "struct_lookups": exp.struct_lookups,
                "best_random": (None if exp.best_random is None else
                                [exp.best_random[0],
                                 algorithm_to_dict(exp.best_random[1])]),
            }
        atomic_write_text(self.out_dir / CHECKPOINT, json.dumps(state))
        self._last_checkpoint = time.perf_counter()

    @classmethod
    def resume(cls, out_dir: Path,
               progress: Callable[[ProgressRecord], None] | None = None,
               checkpoint_every_s: float = 30.0) -> SearchRun:
        """Rebuild a run from ``out_dir/checkpoint.json``."""
        out_dir = Path(out_dir)
        path = out_dir / CHECKPOINT
        try:
            state = json.loads(path.read_text())
        except FileNotFoundError:
            raise FileNotFoundError(f"{path}: no checkpoint to resume from") from None
        except json.JSONDecodeError as err:
            raise ValueError(f"{path}: corrupt checkpoint ({err})") from None
        if state.get("format") != "automl_zero.checkpoint":
            raise ValueError(f"{path}: not an automl_zero checkpoint")
        if state.get("done"):
            raise ValueError(f"{out_dir}: this run has finished (see its result.json); "
                             f"start a new one with `automl-zero search`")
        cfg = config_from_dict(state["config"], state.get("config_source", str(path)))
        run = cls(cfg, out_dir, state["seed"], progress, checkpoint_every_s)
        run.rng.bit_generator.state = state["rng"]
        run.eval_rng.bit_generator.state = state["eval_rng"]
        run.best_select = (-np.inf if state["best_select"] is None
                           else state["best_select"])
        run.best_algorithm = (None if state["best_algorithm"] is None
                              else algorithm_from_dict(state["best_algorithm"]))
        run.best_search_fitness = state["best_search_fitness"]
        run.experiments_done = state["experiments_done"]
        run.total_individuals = state["total_individuals"]
        run.total_train_steps = state["total_train_steps"]
        run.elapsed_before = state["elapsed_s"]
        run.time_to_select = state["time_to_select_s"]
        run._rate_mark = (run.elapsed_before, run.total_individuals)
        run._truncate_progress(state["progress_lines"])
        e = state["experiment"]
        if e is not None:
            exp = _Experiment(e["index"],
                              [TaskSpec.from_dict(s, f"checkpoint search_specs[{i}]")
                               for i, s in enumerate(e["search_specs"])],
                              [TaskSpec.from_dict(s, f"checkpoint select_specs[{i}]")
                               for i, s in enumerate(e["select_specs"])])
            exp.state = None if e["state"] is None else EvolutionState.from_dict(
                e["state"])
            if exp.state is not None and run.use_packed:
                exp.state = run._to_packed(exp.state)
            exp.fec = None if e["fec"] is None else FECCache.from_state(e["fec"])
            exp.structural = (None if e["structural"] is None
                              else FECCache.from_state(e["structural"]))
            exp.train_steps = e["train_steps"]
            exp.individuals = e["individuals"]
            exp.struct_hits = e["struct_hits"]
            exp.struct_lookups = e["struct_lookups"]
            if e["best_random"] is not None:
                exp.best_random = (e["best_random"][0],
                                   algorithm_from_dict(e["best_random"][1]))
            run.exp = exp
            run._evaluator = run._make_search_evaluator(exp)
        run._last_progress_individuals = state["last_progress_individuals"]
        return run

    def _truncate_progress(self, lines: int) -> None:
        """Drop progress lines written after the checkpoint (they are redone)."""
        path = self.out_dir / PROGRESS
        if not path.exists():
            self.progress_lines = 0
            return
        kept = path.read_text().splitlines(keepends=True)[:lines]
        atomic_write_text(path, "".join(kept))
        self.progress_lines = len(kept)


def _member(state: EvolutionState | PackedPopulation, i: int) -> Algorithm:
    if isinstance(state, PackedPopulation):
        return state.algorithm(i)
    return state.population[i]


def _mutable(cfg: Config) -> bool:
    return cfg.method == "REGULARIZED_EVOLUTION"


def _seed(rng: np.random.Generator) -> int:
    """A fresh 32-bit seed (the original's UniformRandomSeed)."""
    return int(rng.integers(1, 2**32 - 1))


def search(config: Config | str | Path, *, seed: int | None = None,
           out: str | Path | None = None,
           progress: Callable[[ProgressRecord], None] | None = None,
           overrides: Sequence[str] = ()) -> SearchResult:
    """Run a whole search (experiments on T_search, selection on T_select, the
    final evaluation on T_final) and return its result.

    ``config`` is a :class:`Config` or the path of a TOML config (``overrides``
    are ``key=value`` strings, as the CLI's ``--set``). ``seed`` overrides the
    config's ``random_seed``. ``out`` is the run directory (checkpoints, logs,
    result files); ``None`` writes it to a fresh temporary directory.
    """
    from automl_zero.config import load_config

    cfg = config if isinstance(config, Config) else load_config(config, overrides)
    if out is None:
        out = Path(tempfile.mkdtemp(prefix="automl-zero-run-"))
    return SearchRun(cfg, Path(out), seed=seed, progress=progress).run()


def resume(out: str | Path, *,
           progress: Callable[[ProgressRecord], None] | None = None) -> SearchResult:
    """Continue the stopped or killed run in directory ``out`` to its end."""
    return SearchRun.resume(Path(out), progress=progress).run()
