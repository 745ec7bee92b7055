#!/usr/bin/env bash
# The teacher-network experiment (paper §4.1, Figure 5): D=10 and the D=1
# control, one process each. A killed run continues from its checkpoint when
# the same command is run again.
set -euo pipefail
for name in "$@"; do        # teacher_nn teacher_nn_d1
  out=runs/$name
  if [[ -f $out/result.json ]]; then continue; fi
  if [[ -f $out/checkpoint.json ]]; then
    automl-zero resume "$out" --workers 1
  else
    automl-zero search "configs/$name.toml" --workers 1 --out "$out"
  fi
done
