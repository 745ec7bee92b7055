"""Reproductions of the paper's experiments (``automl-zero experiment ...``);
the results and how they were obtained are in docs/results.md."""
