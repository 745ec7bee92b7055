"""Initial and hand-designed algorithms (the original's generator.cc, docs/semantics.md §2.4)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from automl_zero.language.algorithm import Algorithm
from automl_zero.language.instruction import Instruction
from automl_zero.language.ops import OP_BY_NAME
from automl_zero.language.randomizer import random_instruction

__all__ = [
    "INITIAL_POPULATIONS",
    "DEFAULT_LEARNING_RATE",
    "DEFAULT_INIT_SCALE",
    "no_op_algorithm",
    "random_algorithm",
    "linear_algorithm",
    "logistic_regression_algorithm",
    "neural_net_algorithm",
    "softmax_regression_algorithm",
    "multiclass_neural_net_algorithm",
    "damaged_neural_net_algorithm",
    "figure5_neural_net_algorithm",
    "unit_test_neural_net_no_bias_no_gradient",
    "pad_algorithm",
    "model_by_id",
]

DEFAULT_LEARNING_RATE = 0.01
DEFAULT_INIT_SCALE = 0.1

INITIAL_POPULATIONS = (
    "NO_OP_ALGORITHM",
    "RANDOM_ALGORITHM",
    "LINEAR_ALGORITHM",
    "NEURAL_NET_ALGORITHM",
    "INTEGRATION_TEST_DAMAGED_NEURAL_NET_ALGORITHM",
    "FIGURE5_NEURAL_NET_ALGORITHM",  # ours: the paper's Figure 5 program (§4.3)
)

NO_OP = Instruction(0)


def _ins(name: str, out: int = 0, in1: int = 0, in2: int = 0,
         data: tuple[float, ...] = ()) -> Instruction:
    return Instruction.make(OP_BY_NAME[name], out=out, in1=in1, in2=in2, data=data)


def no_op_algorithm(setup_size: int, predict_size: int, learn_size: int) -> Algorithm:
    """NO_OP_ALGORITHM: the given number of NO_OPs per function (0 gives empty)."""
    return Algorithm((NO_OP,) * setup_size, (NO_OP,) * predict_size,
                     (NO_OP,) * learn_size)


def random_algorithm(sizes: tuple[int, int, int],
                     ops: tuple[Sequence[int], Sequence[int], Sequence[int]],
                     memory_sizes: tuple[int, int, int],
                     rng: np.random.Generator) -> Algorithm:
    """RANDOM_ALGORITHM: random instructions over each function's allowed ops.

    A function with an empty op list stays NO_OPs (it is never mutated either).
    """
    parts = []
    for size, allowed in zip(sizes, ops, strict=True):
        if not allowed:
            parts.append((NO_OP,) * size)
            continue
        parts.append(tuple(
            random_instruction(int(allowed[rng.integers(len(allowed))]), memory_sizes,
                               rng)
            for _ in range(size)))
    return Algorithm(*parts)


def pad_algorithm(alg: Algorithm, sizes: tuple[int, int, int]) -> Algorithm:
    """Append NO_OPs to functions shorter than ``sizes`` (the original's padding)."""
    parts = [c + (NO_OP,) * max(0, n - len(c)) for c, n in zip(alg.components, sizes,
                                                               strict=True)]
    return Algorithm(*parts)


def linear_algorithm(learning_rate: float = DEFAULT_LEARNING_RATE) -> Algorithm:
    """LINEAR_ALGORITHM: linear regression by SGD; weights in v1 (needs memory 4/3/0)."""
    return Algorithm(
        (_ins("SCALAR_CONST_SET_OP", out=2, data=(learning_rate,)),),
        (_ins("VECTOR_INNER_PRODUCT_OP", out=1, in1=1, in2=0),),
        (_ins("SCALAR_DIFF_OP", out=3, in1=0, in2=1),
         _ins("SCALAR_PRODUCT_OP", out=3, in1=2, in2=3),
         _ins("SCALAR_VECTOR_PRODUCT_OP", out=2, in1=3, in2=0),
         _ins("VECTOR_SUM_OP", out=1, in1=1, in2=2)),
    )


def logistic_regression_algorithm(learning_rate: float = DEFAULT_LEARNING_RATE
                                  ) -> Algorithm:
    """Logistic regression by SGD: weights in v1, bias in s4 (needs memory 5/3/0).

    Predict computes the logit ``s1 = dot(v1, v0) + s4``. On ``ACCURACY`` tasks
    the executor writes ``sigmoid(s1)`` into ``s1`` before Learn
    (docs/semantics.md §4.3), so Learn's error ``s0 - s1`` is ``y - p``, the
    negative gradient of the log-loss with respect to the logit: the update
    ``w += lr * (y - p) * x``, ``b += lr * (y - p)`` is SGD on the log-loss. On
    ``RMS_ERROR`` tasks the same program is linear regression with a bias.
    """
    return Algorithm(
        (_ins("SCALAR_CONST_SET_OP", out=2, data=(learning_rate,)),),
        (_ins("VECTOR_INNER_PRODUCT_OP", out=1, in1=1, in2=0),
         _ins("SCALAR_SUM_OP", out=1, in1=1, in2=4)),
        (_ins("SCALAR_DIFF_OP", out=3, in1=0, in2=1),
         _ins("SCALAR_PRODUCT_OP", out=3, in1=2, in2=3),
         _ins("SCALAR_VECTOR_PRODUCT_OP", out=2, in1=3, in2=0),
         _ins("VECTOR_SUM_OP", out=1, in1=1, in2=2),
         _ins("SCALAR_SUM_OP", out=4, in1=4, in2=3)),
    )


def neural_net_algorithm(learning_rate: float = DEFAULT_LEARNING_RATE,
                         first_init_scale: float = DEFAULT_INIT_SCALE,
                         final_init_scale: float = DEFAULT_INIT_SCALE) -> Algorithm:
    """NEURAL_NET_ALGORITHM: 2-layer ReLU net with biases and backprop (memory 5/9/2)."""
    return Algorithm(
        (_ins("VECTOR_GAUSSIAN_SET_OP", out=2, data=(0.0, final_init_scale)),
         _ins("MATRIX_GAUSSIAN_SET_OP", out=0, data=(0.0, first_init_scale)),
         _ins("SCALAR_CONST_SET_OP", out=3, data=(learning_rate,))),
        (_ins("MATRIX_VECTOR_PRODUCT_OP", out=3, in1=0, in2=0),
         _ins("VECTOR_SUM_OP", out=3, in1=3, in2=1),
         _ins("VECTOR_MAX_OP", out=4, in1=3, in2=5),  # v5 stays 0: ReLU
         _ins("VECTOR_INNER_PRODUCT_OP", out=1, in1=4, in2=2),
         _ins("SCALAR_SUM_OP", out=1, in1=1, in2=2)),
        (_ins("SCALAR_DIFF_OP", out=4, in1=0, in2=1),
         _ins("SCALAR_PRODUCT_OP", out=4, in1=3, in2=4),
         _ins("SCALAR_SUM_OP", out=2, in1=2, in2=4),
         _ins("SCALAR_VECTOR_PRODUCT_OP", out=6, in1=4, in2=4),
         _ins("VECTOR_SUM_OP", out=2, in1=2, in2=6),
         _ins("SCALAR_VECTOR_PRODUCT_OP", out=7, in1=4, in2=2),
         _ins("VECTOR_HEAVYSIDE_OP", out=8, in1=3),
         _ins("VECTOR_PRODUCT_OP", out=7, in1=8, in2=7),
         _ins("VECTOR_SUM_OP", out=1, in1=1, in2=7),
         _ins("VECTOR_OUTER_PRODUCT_OP", out=1, in1=7, in2=0),
         _ins("MATRIX_SUM_OP", out=0, in1=0, in2=1)),
    )


def softmax_regression_algorithm(learning_rate: float = DEFAULT_LEARNING_RATE
                                 ) -> Algorithm:
    """Softmax (multinomial logistic) regression by SGD for MULTICLASS_ACCURACY
    tasks: weights in m0, the logits ``v2 = m0 v0`` (memory 3/4/2).

    The executor writes the softmax of the logits into v2 and the one-hot label
    into v1 before Learn (docs/semantics.md §4.13), so ``v1 - v2`` is the
    negative gradient of the cross-entropy with respect to the logits, and the
    update ``m0 += lr * outer(v1 - v2, v0)`` is SGD on it. Rows of m0 beyond the
    K classes get zero error and stay 0."""
    return Algorithm(
        (_ins("SCALAR_CONST_SET_OP", out=2, data=(learning_rate,)),),
        (_ins("MATRIX_VECTOR_PRODUCT_OP", out=2, in1=0, in2=0),),
        (_ins("VECTOR_DIFF_OP", out=3, in1=1, in2=2),
         _ins("SCALAR_VECTOR_PRODUCT_OP", out=3, in1=2, in2=3),
         _ins("VECTOR_OUTER_PRODUCT_OP", out=1, in1=3, in2=0),
         _ins("MATRIX_SUM_OP", out=0, in1=0, in2=1)),
    )


def multiclass_neural_net_algorithm(learning_rate: float = DEFAULT_LEARNING_RATE,
                                    init_scale: float = DEFAULT_INIT_SCALE
                                    ) -> Algorithm:
    """A 2-layer ReLU network with softmax outputs trained by backprop, for
    MULTICLASS_ACCURACY tasks (memory 3/9/4): F hidden units ``v4 =
    max(m0 v0, 0)``, logits ``v2 = m1 v4``; Learn backpropagates the
    cross-entropy error ``v1 - v2`` through the layer's weights before
    updating them. No biases, as the teacher network of §4.1."""
    return Algorithm(
        (_ins("MATRIX_GAUSSIAN_SET_OP", out=0, data=(0.0, init_scale)),
         _ins("MATRIX_GAUSSIAN_SET_OP", out=1, data=(0.0, init_scale)),
         _ins("SCALAR_CONST_SET_OP", out=2, data=(learning_rate,))),
        (_ins("MATRIX_VECTOR_PRODUCT_OP", out=3, in1=0, in2=0),
         _ins("VECTOR_MAX_OP", out=4, in1=3, in2=5),  # v5 stays 0: ReLU
         _ins("MATRIX_VECTOR_PRODUCT_OP", out=2, in1=1, in2=4)),
        (_ins("VECTOR_DIFF_OP", out=6, in1=1, in2=2),
         _ins("SCALAR_VECTOR_PRODUCT_OP", out=6, in1=2, in2=6),
         _ins("MATRIX_TRANSPOSE_OP", out=3, in1=1),
         _ins("MATRIX_VECTOR_PRODUCT_OP", out=7, in1=3, in2=6),  # before m1 changes
         _ins("VECTOR_OUTER_PRODUCT_OP", out=2, in1=6, in2=4),
         _ins("MATRIX_SUM_OP", out=1, in1=1, in2=2),
         _ins("VECTOR_HEAVYSIDE_OP", out=8, in1=3),
         _ins("VECTOR_PRODUCT_OP", out=7, in1=8, in2=7),
         _ins("VECTOR_OUTER_PRODUCT_OP", out=2, in1=7, in2=0),
         _ins("MATRIX_SUM_OP", out=0, in1=0, in2=2)),
    )


def figure5_neural_net_algorithm() -> Algorithm:
    """The 2-layer ReLU network with backprop that evolution rediscovered in
    the paper's Figure 5, as printed there (memory 4/8/2): the initial
    population of its §4.3 adaptation experiments. ``maximum(0, v6)`` is
    ``maximum(v6, v5)`` with v5 never written (zeros)."""
    return Algorithm(
        (_ins("MATRIX_GAUSSIAN_SET_OP", out=1, data=(-1e-10, 9e-09)),
         _ins("SCALAR_CONST_SET_OP", out=3, data=(4.1,)),
         _ins("VECTOR_GAUSSIAN_SET_OP", out=4, data=(-0.033, 0.01))),
        (_ins("MATRIX_VECTOR_PRODUCT_OP", out=6, in1=1, in2=0),
         _ins("VECTOR_MAX_OP", out=7, in1=6, in2=5),
         _ins("VECTOR_INNER_PRODUCT_OP", out=1, in1=7, in2=4)),
        (_ins("VECTOR_HEAVYSIDE_OP", out=3, in1=6),
         _ins("SCALAR_DIFF_OP", out=1, in1=0, in2=1),
         _ins("SCALAR_PRODUCT_OP", out=2, in1=1, in2=3),
         _ins("SCALAR_VECTOR_PRODUCT_OP", out=2, in1=2, in2=3),
         _ins("VECTOR_PRODUCT_OP", out=3, in1=2, in2=4),
         _ins("VECTOR_OUTER_PRODUCT_OP", out=0, in1=3, in2=0),
         _ins("MATRIX_SUM_OP", out=1, in1=1, in2=0),
         _ins("VECTOR_SUM_OP", out=4, in1=2, in2=4)),
    )


def damaged_neural_net_algorithm(sizes: tuple[int, int, int] = (0, 0, 0)) -> Algorithm:
    """INTEGRATION_TEST_DAMAGED_NEURAL_NET_ALGORITHM: the neural net, padded to
    ``sizes`` first, then without its two Gaussian weight initialisations."""
    net = pad_algorithm(neural_net_algorithm(), sizes)
    return net.replace(setup=net.setup[2:])


def unit_test_neural_net_no_bias_no_gradient(learning_rate: float) -> Algorithm:
    """The teacher network of the 2-layer regression task (memory 4/8/2)."""
    return Algorithm(
        (_ins("SCALAR_CONST_SET_OP", out=2, data=(learning_rate,)),),
        (_ins("MATRIX_VECTOR_PRODUCT_OP", out=2, in1=0, in2=0),
         _ins("VECTOR_MAX_OP", out=3, in1=2, in2=4),
         _ins("VECTOR_INNER_PRODUCT_OP", out=1, in1=3, in2=1)),
        (_ins("SCALAR_DIFF_OP", out=3, in1=0, in2=1),
         _ins("SCALAR_PRODUCT_OP", out=3, in1=2, in2=3),
         _ins("SCALAR_VECTOR_PRODUCT_OP", out=5, in1=3, in2=3),
         _ins("VECTOR_SUM_OP", out=1, in1=1, in2=5),
         _ins("SCALAR_VECTOR_PRODUCT_OP", out=6, in1=3, in2=1),
         _ins("VECTOR_HEAVYSIDE_OP", out=7, in1=2),
         _ins("VECTOR_PRODUCT_OP", out=6, in1=7, in2=6),
         _ins("VECTOR_OUTER_PRODUCT_OP", out=1, in1=6, in2=0),
         _ins("MATRIX_SUM_OP", out=0, in1=0, in2=1)),
    )


def model_by_id(name: str, sizes: tuple[int, int, int],
                ops: tuple[Sequence[int], Sequence[int], Sequence[int]] = ((), (), ()),
                memory_sizes: tuple[int, int, int] = (20, 20, 20),
                rng: np.random.Generator | None = None) -> Algorithm:
    """The original's Generator::ModelByID: a named initial algorithm, NO_OP-padded
    to ``sizes`` (the experiment's ``*_size_init``)."""
    if name == "NO_OP_ALGORITHM":
        return no_op_algorithm(*sizes)
    if name == "RANDOM_ALGORITHM":
        for size, allowed, fname in zip(sizes, ops, ("setup", "predict", "learn"),
                                        strict=True):
            if size > 0 and not allowed:
                raise ValueError(f"RANDOM_ALGORITHM needs {fname}_ops when "
                                 f"{fname}_size_init > 0")
        return random_algorithm(sizes, ops, memory_sizes,
                                rng if rng is not None else np.random.default_rng())
    if name == "LINEAR_ALGORITHM":
        return pad_algorithm(linear_algorithm(), sizes)
    if name == "NEURAL_NET_ALGORITHM":
        return pad_algorithm(neural_net_algorithm(), sizes)
    if name == "INTEGRATION_TEST_DAMAGED_NEURAL_NET_ALGORITHM":
        return damaged_neural_net_algorithm(sizes)
    if name == "FIGURE5_NEURAL_NET_ALGORITHM":
        return pad_algorithm(figure5_neural_net_algorithm(), sizes)
    raise ValueError(f"unknown initial algorithm {name!r}; valid: "
                     f"{', '.join(INITIAL_POPULATIONS)}")
