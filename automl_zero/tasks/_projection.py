"""Random projection and standardisation of features, shared by the projected
binary classification tasks and the tasks of user data (docs/semantics.md §12.5,
docs/user_data.md).

The projection is the original's ``generate_datasets.py``: a D x F matrix of
standard normals from ``numpy.random.RandomState(seed)``; standardisation
fits the mean and scale on the training split only and applies them to both
splits (a constant column gets scale 1, i.e. it becomes 0).
"""

from __future__ import annotations

import numpy as np

__all__ = ["project_and_standardize", "random_projection"]


def random_projection(num_inputs: int, features_size: int, seed: int) -> np.ndarray:
    """The (num_inputs, features_size) projection matrix of ``seed`` (0 <= seed < 2**32)."""
    return np.random.RandomState(seed).randn(num_inputs, features_size)


def project_and_standardize(
    x_train: np.ndarray,
    x_valid: np.ndarray,
    seed: int,
    features_size: int,
    *,
    project: bool = True,
    standardize: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """(train, valid) features projected to ``features_size`` columns with the
    matrix of ``seed`` (if ``project``), then standardised with the training
    split's statistics (if ``standardize``). Returns new C-contiguous float64
    arrays; the inputs are not modified."""
    if project:
        matrix = random_projection(x_train.shape[1], features_size, seed)
        x_train, x_valid = x_train @ matrix, x_valid @ matrix
    if standardize:
        from sklearn.preprocessing import StandardScaler

        scaler = StandardScaler().fit(x_train)  # fit on the training split only
        x_train, x_valid = scaler.transform(x_train), scaler.transform(x_valid)
    return (np.array(x_train, dtype=np.float64, order="C"),
            np.array(x_valid, dtype=np.float64, order="C"))
