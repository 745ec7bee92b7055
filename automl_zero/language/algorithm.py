"""Algorithms: the three component functions Setup, Predict and Learn (docs/semantics.md §2)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from automl_zero.language.instruction import Instruction
from automl_zero.language.ops import OPS, Kind
from automl_zero.language.printer import format_algorithm

__all__ = ["Algorithm", "ComponentFunction", "COMPONENT_FUNCTIONS"]

ComponentFunction = tuple[Instruction, ...]
COMPONENT_FUNCTIONS = ("setup", "predict", "learn")


@dataclass(frozen=True)
class Algorithm:
    """An immutable algorithm; mutation returns a new one.

    Equality and hashing compare the three instruction lists exactly.
    """

    setup: ComponentFunction = ()
    predict: ComponentFunction = ()
    learn: ComponentFunction = ()
    # Derived caches; excluded from equality, hashing and pickling.
    _cache: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in COMPONENT_FUNCTIONS:
            value = getattr(self, name)
            if not isinstance(value, tuple):
                object.__setattr__(self, name, tuple(value))

    def __hash__(self) -> int:
        return self._hash

    @cached_property
    def _hash(self) -> int:
        return hash((self.setup, self.predict, self.learn))

    def __getstate__(self) -> dict:
        return {"setup": self.setup, "predict": self.predict, "learn": self.learn}

    def __setstate__(self, state: dict) -> None:
        for name in COMPONENT_FUNCTIONS:
            object.__setattr__(self, name, tuple(state[name]))
        object.__setattr__(self, "_cache", {})

    @property
    def components(self) -> tuple[ComponentFunction, ComponentFunction, ComponentFunction]:
        return (self.setup, self.predict, self.learn)

    def replace(self, **components: ComponentFunction) -> Algorithm:
        """A copy with some component functions replaced."""
        parts = {name: getattr(self, name) for name in COMPONENT_FUNCTIONS}
        parts.update({k: tuple(v) for k, v in components.items()})
        return Algorithm(**parts)

    def __len__(self) -> int:
        return len(self.setup) + len(self.predict) + len(self.learn)

    def max_addresses(self) -> tuple[int, int, int]:
        """The number of scalar, vector and matrix addresses the algorithm needs."""
        need = [0, 0, 0, 0]
        for component in self.components:
            for ins in component:
                spec = OPS[ins.op]
                for kind, addr in ((spec.in1, ins.in1), (spec.in2, ins.in2),
                                   (spec.out, ins.out)):
                    if kind != Kind.NONE:
                        need[kind] = max(need[kind], addr + 1)
        return need[1], need[2], need[3]

    def check_memory(self, num_scalars: int, num_vectors: int, num_matrices: int) -> None:
        """Raise ``ValueError`` naming the first instruction that is out of memory."""
        limits = {Kind.SCALAR: num_scalars, Kind.VECTOR: num_vectors,
                  Kind.MATRIX: num_matrices}
        for cname, component in zip(("Setup", "Predict", "Learn"), self.components,
                                    strict=True):
            for i, ins in enumerate(component):
                spec = OPS[ins.op]
                for kind, addr in ((spec.in1, ins.in1), (spec.in2, ins.in2),
                                   (spec.out, ins.out)):
                    if kind != Kind.NONE and addr >= limits[kind]:
                        raise ValueError(
                            f"{cname} instruction {i + 1} `{ins}` uses "
                            f"{kind.letter}{addr}, but memory has only "
                            f"{limits[kind]} {kind.name.lower()} addresses "
                            f"({kind.letter}0..{kind.letter}{limits[kind] - 1}); "
                            f"raise num_{kind.name.lower()}_addresses")

    def to_text(self) -> str:
        """The paper-style text (``def Setup():`` ...), parseable by ``parse_algorithm``."""
        return format_algorithm(self)

    def __str__(self) -> str:
        return self.to_text()

