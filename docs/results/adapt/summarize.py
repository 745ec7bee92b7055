"""The adaptation experiments' table from the run directories and the
detectors' JSON outputs (docs/results.md).

Usage: python docs/results/adapt/summarize.py NOISE.json LR_DECAY.json RUN_DIR...

Run directories are named <arm>_<seed> (arm: few, control, fast) under a
folder that names the budget (adapt: the configs' 3,000 children,
adapt_20000: 20,000). Prints one Markdown table row per (budget, arm).
"""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from pathlib import Path

ARMS = {"few": "few examples (80 × 100)", "fast": "fast training (800 × 10)",
        "control": "control (800 × 100)"}


def main(noise_path: str, decay_path: str, *run_dirs: str) -> None:
    noise = {str(Path(p["program"]).parent): p
             for p in json.loads(Path(noise_path).read_text())["programs"]}
    decay = {str(Path(p["program"]).parent): p
             for p in json.loads(Path(decay_path).read_text())["programs"]}
    rows: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for run in run_dirs:
        match = re.search(r"(adapt(?:_\d+)?)/(few|control|fast)_\d+$", run.rstrip("/"))
        if match is None:
            raise SystemExit(f"{run}: not a run directory <budget>/<arm>_<seed>")
        key = str(Path(run)).rstrip("/")
        result = json.loads((Path(run) / "result.json").read_text())
        rows[match.groups()].append({
            "search": result["search_fitness"], "select": result["select_fitness"],
            "children": result["total_individuals"],
            "hidden": noise[key]["hidden_noise"], "input": noise[key]["input_noise"],
            "noisy": noise[key]["noisy_prediction"], "decay": decay[key]["decays"]})
    for budget in sorted({b for b, _ in rows}):
        for arm in ("few", "fast", "control"):
            runs = rows.get((budget, arm))
            if not runs:
                continue
            n = len(runs)
            cells = [f"{ARMS[arm]}", f"{n} × {runs[0]['children']:,}",
                     f"{sum(r['search'] for r in runs) / n:.3f}",
                     f"{sum(r['select'] for r in runs) / n:.3f}"]
            cells += [f"{sum(r[k] for r in runs)} / {n}"
                      for k in ("hidden", "input", "noisy", "decay")]
            print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(*sys.argv[1:])
