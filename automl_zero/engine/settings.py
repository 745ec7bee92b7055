"""Plain-value settings of the search engine.

The engine never reads a config file: ``automl_zero.run.build`` turns a
``Config`` into these values (docs/semantics.md §8).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MUTATION_TYPES", "SEARCH_METHODS", "FEC_KEYINGS", "FITNESS_COMBINATION_MODES", "EvolutionSettings",
           "FECSettings"]

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
