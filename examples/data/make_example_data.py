"""Writes the example data files of docs/user_data.md (run from anywhere:
``python examples/data/make_example_data.py``). Deterministic.

* ``user_regression.csv``: 500 rows, header ``x0,x1,x2,x3,y``; x ~ N(0, 1)
  independently, ``y = 2*x0 - x1 + 0.05*noise`` (noise ~ N(0, 1)); x2 and x3
  are distractors that do not enter y. Values rounded to 4 decimals.
* ``user_classification.csv``: scikit-learn's bundled breast-cancer data
  (569 rows, no download): its first 4 features (mean radius, mean texture,
  mean perimeter, mean area) and the label ``malignant`` (1) / ``benign`` (0),
  renamed to ``target`` in the last column.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
NUM_ROWS = 500
NOISE = 0.05


def regression() -> None:
    rng = np.random.default_rng(20240601)
    x = rng.standard_normal((NUM_ROWS, 4))
    y = 2.0 * x[:, 0] - x[:, 1] + NOISE * rng.standard_normal(NUM_ROWS)
    lines = ["# y = 2*x0 - x1 + 0.05*N(0,1); x2, x3 are distractors "
             "(examples/data/make_example_data.py)", "x0,x1,x2,x3,y"]
    lines += [",".join(f"{v:.4f}" for v in (*row, label)) for row, label in zip(x, y, strict=True)]
    (HERE / "user_regression.csv").write_text("\n".join(lines) + "\n")


def classification() -> None:
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer()
    x = bunch.data[:, :4]
    y = (bunch.target == 0).astype(int)  # sklearn: 0 = malignant, 1 = benign
    names = [n.replace(" ", "_") for n in bunch.feature_names[:4]]
    lines = ["# scikit-learn's breast-cancer data: 4 features, target 1 = malignant "
             "(examples/data/make_example_data.py)", ",".join([*names, "target"])]
    lines += [",".join([*(f"{v:g}" for v in row), str(label)])
              for row, label in zip(x, y, strict=True)]
    (HERE / "user_classification.csv").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    regression()
    classification()
