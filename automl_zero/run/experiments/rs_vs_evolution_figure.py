"""The figure of ``automl-zero experiment rs-vs-evolution`` results (the
content of the paper's Figure 4): per result file, the success rate per
evaluated algorithm of random search and of evolution with their 95 %
intervals (log scale), annotated with the ratio evolution / RS and its
interval. A rate of 0 is drawn at its upper bound with a downward marker.

Results are the ``--json`` outputs of the experiment; anything else is a
one-line :class:`FigureError` naming the file.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from automl_zero.errors import AutoMLZeroError
from automl_zero.run.plot import _import_matplotlib

__all__ = ["FigureError", "load_result", "plot_results"]


class FigureError(AutoMLZeroError):
    """A result file that is not an rs-vs-evolution ``--json`` output."""


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) \
        and math.isfinite(value)


def load_result(path: str | Path) -> dict[str, Any]:
    """The parts of one result file the figure needs, checked."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise FigureError(f"{path}: cannot read a JSON result: {err}") from None
    if not isinstance(data, dict) or data.get("experiment") != "rs_vs_evolution":
        raise FigureError(f"{path}: not an `automl-zero experiment rs-vs-evolution "
                          f"--json` result")
    out: dict[str, Any] = {"path": str(path), "setting": str(data.get("setting", "?"))}
    for side, count in (("random_search", "programs"), ("evolution", "evaluations")):
        part = data.get(side)
        ok = (isinstance(part, dict) and _number(part.get("rate"))
              and _number(part.get(count)) and isinstance(part.get("interval"), list)
              and len(part["interval"]) == 2
              and all(_number(x) for x in part["interval"]))
        if not ok:
            raise FigureError(f"{path}: {side}: needs rate, {count} and a 2-number "
                              f"interval")
        out[side] = (float(part["rate"]), *map(float, part["interval"]), int(part[count]))
    ratio, interval = data.get("ratio"), data.get("ratio_interval")
    out["ratio"] = float(ratio) if _number(ratio) else None
    out["ratio_interval"] = (tuple(float(x) if _number(x) else math.inf for x in interval)
                             if isinstance(interval, list) and len(interval) == 2
                             else None)
    evo = data["evolution"]
    out["label"] = (f"{out['setting']}\nRS {out['random_search'][3]:.0e}, "
                    f"evolution {out['evolution'][3]:.0e}"
                    + (f"\nE = {evo['max_evaluations']:.0e}"
                       if _number(evo.get("max_evaluations")) else ""))
    return out


def plot_results(paths: Sequence[str | Path], output: str | Path,
                 title: str | None = None) -> Path:
    """Draw the results in ``paths`` (one column each) into ``output``."""
    results = [load_result(p) for p in paths]
    if not results:
        raise FigureError("no result files given")
    figure_cls, canvas_cls = _import_matplotlib()
    fig = figure_cls(figsize=(max(6.0, 2.2 * len(results) + 2), 5.2))
    canvas_cls(fig)
    ax = fig.add_subplot(1, 1, 1)
    positive = [v for r in results for side in ("random_search", "evolution")
                for v in r[side][:3] if v > 0]
    floor = min(positive) / 10 if positive else 1e-9
    for x, r in enumerate(results):
        for dx, side, colour, name in ((-0.12, "random_search", "tab:blue", "random search"),
                                       (0.12, "evolution", "tab:orange", "evolution")):
            rate, lo, hi, _ = r[side]
            label = name if x == 0 else None
            if rate > 0:
                ax.errorbar([x + dx], [rate], yerr=[[rate - max(lo, floor)], [hi - rate]],
                            fmt="o", color=colour, capsize=4, label=label)
            else:  # no success: the interval's upper end, as an upper bound
                ax.plot([x + dx], [hi], marker="v", color=colour, linestyle="none",
                        label=label)
                ax.vlines([x + dx], floor, hi, colors=colour, linestyles="dotted")
        if r["ratio"] is not None and r["ratio_interval"] is not None:
            lo, hi = r["ratio_interval"]
            text = f"ratio {r['ratio']:.2g}\n[{lo:.2g}, {hi:.2g}]"
        else:
            text = "ratio: n/a"
        ax.annotate(text, (x, 1.0), xycoords=("data", "axes fraction"),
                    xytext=(0, -4), textcoords="offset points", ha="center",
                    va="top", fontsize=8)
    ax.set_yscale("log")
    ax.set_ylim(bottom=floor)
    ax.set_xticks(range(len(results)))
    ax.set_xticklabels([r["label"] for r in results], fontsize=8)
    ax.set_xlim(-0.6, len(results) - 0.4)
    ax.set_ylabel("acceptable algorithms per evaluation (95 % interval)")
    ax.set_title(title or "Evolution against random search (paper Figure 4)")
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    output = Path(output)
    try:
        fig.savefig(output, dpi=120)
    except (OSError, ValueError) as err:
        raise FigureError(f"{output}: cannot write the image: {err}") from None
    return output
