#!/usr/bin/env bash
# 10-class projected Fashion-MNIST from empty programs (paper §4.3, "multiple
# classes"): configs/multiclass_fashion.toml, one process. A killed run
# continues from its checkpoint when the same command is run again.
set -euo pipefail
out=runs/multiclass_fashion
if [[ -f $out/result.json ]]; then exit 0; fi
if [[ -f $out/checkpoint.json ]]; then
  automl-zero resume "$out" --workers 1
else
  automl-zero search configs/multiclass_fashion.toml --workers 1 --out "$out"
fi
