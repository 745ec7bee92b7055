"""Table S5's statistics from `automl-zero compare --json` outputs.

Usage: python docs/results/table_s5/summarize.py PROGRAMS.json NAME=BASELINES.json...

PROGRAMS.json: `compare` of the runs' best algorithms (run directories named
<method>_<seed>) on T_final with `--baselines none`; NAME=BASELINES.json: the
baseline NAME as scored in that `compare` output on the same tasks (e.g. at
its best learning rate). Per method: the mean over runs of the best algorithm's
mean T_final accuracy ± 2 SEM over runs (the paper's "Best accuracy"), and the
fraction of runs whose best algorithm beats each baseline's mean accuracy ±
2 standard deviations of a binomial fraction (the paper's success fractions).
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections import defaultdict
from pathlib import Path


def main(programs_path: str, *baseline_args: str) -> None:
    programs = json.loads(Path(programs_path).read_text())["programs"]
    baselines: dict[str, float] = {}
    for arg in baseline_args:
        name, _, path = arg.partition("=")
        found = [b for b in json.loads(Path(path).read_text())["baselines"]
                 if b["name"] == name]
        if not found:
            raise SystemExit(f"{path}: no baseline named {name!r}")
        baselines[name] = found[0]["mean"]
    runs: dict[str, list[float]] = defaultdict(list)
    for p in programs:
        match = re.search(r"([a-z]+)_(\d+)", p["name"])
        if match is None:
            raise SystemExit(f"{p['name']}: not a run directory named <method>_<seed>")
        runs[match.group(1)].append(p["mean"])
    names = sorted(baselines)
    print("| method | runs | best accuracy (mean ± 2 SEM over runs) | "
          + " | ".join(f"beats {n} ({baselines[n]:.4f})" for n in names) + " |")
    print("|---|---|---|" + "---|" * len(names))
    for method, acc in sorted(runs.items()):
        n = len(acc)
        mean = sum(acc) / n
        sem = math.sqrt(sum((a - mean) ** 2 for a in acc) / (n - 1) / n) if n > 1 else 0.0
        cells = []
        for b in names:
            frac = sum(a > baselines[b] for a in acc) / n
            cells.append(f"{frac:.2f} ± {2 * math.sqrt(frac * (1 - frac) / n):.2f}")
        print(f"| {method} | {n} | {mean:.4f} ± {2 * sem:.4f} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(*sys.argv[1:])
