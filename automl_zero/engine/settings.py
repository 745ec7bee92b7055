"""Plain-value settings of the search engine.

The engine never reads a config file: ``automl_zero.run.build`` turns a
``Config`` into these values (docs/semantics.md §8).
"""

from __future__ import annotations

from dataclasses import dataclass

from automl_zero.language.ops import OPS, Kind
from automl_zero.language.randomizer import FIRST_OUT_ADDRESS

__all__ = ["MUTATION_TYPES", "SEARCH_METHODS", "FEC_KEYINGS", "FITNESS_COMBINATION_MODES", "EvolutionSettings",
           "FECSettings", "HurdleSettings", "op_memory_problem"]

# The original's MutationType names, in the order of their numeric codes in
# the numba mutator (``_mutation_kernel``).
MUTATION_TYPES = (
    "ALTER_PARAM_MUTATION_TYPE",
    "RANDOMIZE_INSTRUCTION_MUTATION_TYPE",
    "RANDOMIZE_COMPONENT_FUNCTION_MUTATION_TYPE",
    "IDENTITY_MUTATION_TYPE",
    "INSERT_INSTRUCTION_MUTATION_TYPE",
    "REMOVE_INSTRUCTION_MUTATION_TYPE",
    "TRADE_INSTRUCTION_MUTATION_TYPE",
    "RANDOMIZE_ALGORITHM_MUTATION_TYPE",
)

SEARCH_METHODS = ("REGULARIZED_EVOLUTION", "RANDOM_SEARCH")

FITNESS_COMBINATION_MODES = ("MEAN_FITNESS_COMBINATION", "MEDIAN_FITNESS_COMBINATION")

# ALGORITHM: one FEC entry per algorithm over all tasks; TASK: one entry per
# (algorithm, task), as the original (docs/semantics.md §7).
FEC_KEYINGS = ("ALGORITHM", "TASK")


def op_memory_problem(op: int, memory_sizes: tuple[int, int, int]) -> str | None:
    """Why the mutator cannot write instruction ``op`` with this memory (None:
    it can). Outputs never go to s0 (the label) or v0 (the features)."""
    spec = OPS[op]
    names = {Kind.SCALAR: "scalar", Kind.VECTOR: "vector", Kind.MATRIX: "matrix"}
    size = dict(zip((Kind.SCALAR, Kind.VECTOR, Kind.MATRIX), memory_sizes, strict=True))
    for kind in (spec.in1, spec.in2):
        if kind != Kind.NONE and size[kind] < 1:
            return f"{spec.name} reads a {names[kind]} but memory has none"
    if spec.out != Kind.NONE and size[spec.out] <= FIRST_OUT_ADDRESS[spec.out]:
        return (f"{spec.name} writes a {names[spec.out]}, but memory has no "
                f"{names[spec.out]} address it may write "
                f"({size[spec.out]} in all; s0 and v0 are never written)")
    return None


@dataclass(frozen=True)
class EvolutionSettings:
    """How an island makes and keeps algorithms (regularized evolution or
    random search over one search space)."""

    memory_sizes: tuple[int, int, int]  # scalar, vector, matrix addresses
    op_codes: tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]
    size_init: tuple[int, int, int]
    size_min: tuple[int, int, int]
    size_max: tuple[int, int, int]  # 0: unbounded
    allowed_mutation_types: tuple[str, ...]
    method: str = "REGULARIZED_EVOLUTION"
    population_size: int = 100
    tournament_size: int = 10
    initial_population: str = "NO_OP_ALGORITHM"
    mutate_prob: float = 0.9

    def __post_init__(self) -> None:
        if self.method not in SEARCH_METHODS:
            raise ValueError(f"method must be one of {SEARCH_METHODS}, got {self.method!r}")
        unknown = set(self.allowed_mutation_types) - set(MUTATION_TYPES)
        if unknown:
            raise ValueError(f"unknown mutation types {sorted(unknown)}")
        for component, ops in zip(("setup", "predict", "learn"), self.op_codes,
                                  strict=True):
            for op in ops:
                problem = op_memory_problem(op, self.memory_sizes)
                if problem:
                    raise ValueError(f"{component}_ops: {problem}")


@dataclass(frozen=True)
class FECSettings:
    """Functional equivalence checking: fingerprint run length and LRU cache."""

    num_train_examples: int = 10
    num_valid_examples: int = 10
    cache_size: int = 100000
    forget_every: int = 100
    keying: str = "ALGORITHM"

    def __post_init__(self) -> None:
        if self.keying not in FEC_KEYINGS:
            raise ValueError(f"keying must be one of {FEC_KEYINGS}, got {self.keying!r}")


@dataclass(frozen=True)
class HurdleSettings:
    """Hurdles (paper S3; docs/semantics.md §10): a cheap first stage, and
    children scoring below the rolling hurdle stop there.

    Stage 1 runs the first ``first_stage_tasks`` tasks of the collection (0:
    all of them), training on ``first_stage_train_fraction`` of each task's
    budgeted training examples (at least one; validation is always complete).
    The island sets the hurdle to the ``percentile``-th percentile of the
    distinct fitnesses of its population before each batch of children. At
    least one of the first two must make stage 1 cheaper than the full
    evaluation; whether ``first_stage_tasks`` is below the number of tasks is
    checked by the evaluator, which knows that number.
    """

    first_stage_tasks: int = 0
    first_stage_train_fraction: float = 1.0
    percentile: float = 75.0

    def __post_init__(self) -> None:
        k = self.first_stage_tasks
        if isinstance(k, bool) or not isinstance(k, int) or k < 0:
            raise ValueError(f"first_stage_tasks must be an integer >= 0 (0: all "
                             f"tasks), got {k!r}")
        f = self.first_stage_train_fraction
        if isinstance(f, bool) or not isinstance(f, (int, float)) or not 0.0 < f <= 1.0:
            raise ValueError(f"first_stage_train_fraction must be a number in (0, 1], "
                             f"got {f!r}")
        q = self.percentile
        if isinstance(q, bool) or not isinstance(q, (int, float)) or not 0.0 < q < 100.0:
            raise ValueError(f"percentile must be a number in (0, 100), got {q!r}")
        if k == 0 and f == 1.0:
            raise ValueError("stage 1 would be the full evaluation: set "
                             "first_stage_tasks to fewer tasks than the collection has "
                             "or first_stage_train_fraction below 1")
