"""Understanding what evolution finds (docs/analysis.md).

* ``automl_zero.analysis.simplify``: ``simplify(algorithm, evaluator=None,
  tolerance=0.0)``, dead code, no-ops, constant folding and removals the
  fitness does not need;
* ``automl_zero.analysis.ablate``: ``ablate(algorithm, evaluator)``, the
  fitness each instruction of the effective program is worth, and its role.

The functions are not re-exported here, so that ``automl_zero.analysis.simplify``
and ``automl_zero.analysis.ablate`` stay the modules.
"""
