#!/usr/bin/env bash
# Table S5 on Fashion-MNIST: "Full" against "Basic", one process each, the same
# number of training steps (the paper's measure of compute, Supplement S10).
# Usage: bash docs/results/table_s5/run.sh full|basic SEED... ; a killed run is
# continued from its checkpoint by running the same command again.
set -euo pipefail
method=$1; shift
steps=${STEPS:-5000000000}         # training steps per process
case $method in
  full)  config=configs/paper_fashion.toml
         # 4 islands in the one process: each Fashion-MNIST island stops at half
         # the steps; a digits island, whose children train on 30x fewer
         # examples, stops at 200,000 children (about 3 % of the steps)
         sets=(--set max_train_steps=$((steps / 2)) --set max_individuals=200000 --set time_limit_seconds=0) ;;
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
