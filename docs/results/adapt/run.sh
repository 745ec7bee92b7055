#!/usr/bin/env bash
# The adaptation experiments (paper §4.3): repeats of
# configs/adapt_few_examples.toml (80 examples x 100 epochs), of
# configs/adapt_fast_training.toml (800 x 10) and of their common control
# configs/adapt_few_examples_control.toml (800 x 100), one process each, seeds
# as given. A killed run continues from its checkpoint when the same command
# is run again.
# Usage: bash docs/results/adapt/run.sh SEED...
#   ARMS="few fast" to run only some arms; CHILDREN=30000 for another budget
#   than the configs' max_individuals (run directories runs/adapt_<CHILDREN>/).
set -euo pipefail
arms=${ARMS:-few control fast}
root=runs/adapt
sets=()
if [[ -n ${CHILDREN:-} ]]; then
  root=runs/adapt_$CHILDREN
  sets=(--set max_individuals=$CHILDREN)
fi
for seed in "$@"; do
  for arm in $arms; do
    case $arm in
      few) config=configs/adapt_few_examples.toml ;;
      control) config=configs/adapt_few_examples_control.toml ;;
      fast) config=configs/adapt_fast_training.toml ;;
    esac
    out=$root/${arm}_$seed
    if [[ -f $out/result.json ]]; then continue; fi
    if [[ -f $out/checkpoint.json ]]; then
      automl-zero resume "$out" --workers 1
    else
      automl-zero search "$config" --seed "$seed" --workers 1 --out "$out" ${sets[@]+"${sets[@]}"}
    fi
  done
done
