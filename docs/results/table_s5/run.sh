#!/usr/bin/env bash
# Table S5 on Fashion-MNIST: "Full" against "Basic", one process each, the same
# number of training steps (the paper's measure of compute, Supplement S10).
# Usage: bash docs/results/table_s5/run.sh full|basic SEED... ; a killed run is
# continued from its checkpoint by running the same command again.
set -euo pipefail
method=$1; shift
steps=${STEPS:-10000000000}        # training steps per process (Basic: one population)
case $method in
  full)  config=configs/paper_fashion.toml
         # 4 islands in the one process share the budget
         sets=(--set max_train_steps=$((steps / 4)) --set max_individuals=100000000 --set time_limit_seconds=0) ;;
  basic) config=configs/basic_fashion.toml
         sets=(--set max_train_steps=$steps --set time_limit_seconds=0) ;;
  *) echo "method must be full or basic" >&2; exit 2 ;;
esac
for seed in "$@"; do
  out=runs/table_s5/${method}_$seed
  if [[ -f $out/result.json ]]; then continue; fi
  if [[ -f $out/checkpoint.json ]]; then
    automl-zero resume "$out" --workers 1
  else
    automl-zero search "$config" --seed "$seed" --workers 1 --out "$out" "${sets[@]}"
  fi
done
