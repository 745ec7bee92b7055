"""``automl-zero plot``: the progress of searches, as in the paper's Figure 6.

A run directory's ``progress.jsonl`` gives, at every progress point, the best
and the mean (± stdev) fitness of the population on T_search; its
``events.jsonl`` gives the moments a new best algorithm was found, the
checks on T_select and each experiment's end. :func:`plot_runs` draws them
against the individuals evaluated (log scale), the training steps or the
wall-clock time, one colour per run, so that several runs (evolution against
random search, say) can be overlaid. Matplotlib (the ``plot`` extra) is
needed only here; it is used headless (the Agg canvas, no pyplot).

Everything wrong with the input is a one-line :class:`PlotError` naming the
file (and line).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from automl_zero.errors import AutoMLZeroError, excerpt
from automl_zero.run.rundir import CONFIG, EVENTS, PROGRESS, RESULT

__all__ = ["X_AXES", "PlotError", "Run", "load_run", "plot_runs", "default_output"]

X_AXES = ("individuals", "train_steps", "time")
INSTALL_HINT = 'pip install "automl-zero[plot]"'
# Experiments labelled ("exp 3") on the plot of one run; more are only lines.
_MAX_EXPERIMENT_LABELS = 12


class PlotError(AutoMLZeroError):
    """A run directory cannot be plotted (missing, empty, corrupt, mixed)."""


@dataclass
class Run:
    """What a run directory holds for plotting. ``records`` are the progress
    records in order, one per (experiment, individuals) point (the last one
    when the file repeats a point); ``bases`` maps each experiment to the
    run's individuals and training steps before it."""

    path: Path
    label: str
    records: list[dict[str, Any]]
    events: list[dict[str, Any]] = field(default_factory=list)
    config: dict[str, Any] | None = None
    result: dict[str, Any] | None = None
    bases: dict[int, tuple[int, int]] = field(default_factory=dict)

    @property
    def experiments(self) -> list[int]:
        """The experiments with progress records, in order."""
        return sorted({r["experiment"] for r in self.records})

    @property
    def method(self) -> str | None:
        return None if self.config is None else self.config.get("method")

    @property
    def eval_types(self) -> frozenset[str]:
        """The eval types of the search tasks (empty: unknown)."""
        if self.config is None:
            return frozenset()
        specs = list(self.config.get("search_tasks") or [])
        for group in self.config.get("island_groups") or []:
            if isinstance(group, dict):
                specs += list(group.get("search_tasks") or [])
        return frozenset(str(s.get("eval_type")) for s in specs
                         if isinstance(s, dict) and s.get("eval_type"))


# --------------------------------------------------------------------- reading
def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool))


def _read_jsonl(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(line number, object) of each line of a JSON-lines file. Blank lines are
    skipped; an unfinished last line (no newline: being written) is ignored."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PlotError(f"{path}: missing") from None
    except UnicodeDecodeError:
        raise PlotError(f"{path}: corrupt (not UTF-8 text)") from None
    except OSError as err:
        raise PlotError(f"{path}: cannot read ({err.strerror or err})") from None
    lines = text.split("\n")
    out = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as err:
            if number == len(lines):  # the last line, without its newline yet
                continue
            raise PlotError(f"{path}: line {number} is not JSON ({err.msg}: "
                            f"{excerpt(line, 60)})") from None
        if not isinstance(obj, dict):
            raise PlotError(f"{path}: line {number} is not a JSON object "
                            f"({excerpt(obj, 60)})")
        out.append((number, obj))
    return out


def _require(obj: dict, key: str, check: Any, what: str, where: str,
             optional: bool = False) -> Any:
    value = obj.get(key)
    if value is None and optional:
        return None
    if key not in obj or not check(value):
        got = "missing" if key not in obj else f"got {excerpt(value, 40)}"
        raise PlotError(f"{where}: {key!r} must be {what} ({got})")
    return value


def _non_negative_int(v: Any) -> bool:
    return _is_int(v) and v >= 0


def _read_progress(path: Path) -> tuple[list[dict], dict[int, tuple[int, int]]]:
    """Progress records (checked, deduplicated) and each experiment's base
    (individuals, train steps of the run before it)."""
    rows = _read_jsonl(path)
    if not rows:
        raise PlotError(f"{path}: no progress records yet (the run has not "
                        f"reported any progress)")
    records: list[dict] = []
    bases: dict[int, tuple[int, int]] = {}
    steps_before = 0
    last: dict | None = None
    for number, obj in rows:
        where = f"{path}: line {number}"
        rec = {
            "experiment": _require(obj, "experiment", _non_negative_int,
                                   "an integer >= 0", where),
            "individuals": _require(obj, "individuals", _non_negative_int,
                                    "an integer >= 0", where),
            "total_individuals": _require(obj, "total_individuals", _non_negative_int,
                                          "an integer >= 0", where),
            "train_steps": _require(obj, "train_steps", _non_negative_int,
                                    "an integer >= 0", where),
            "elapsed_s": float(_require(obj, "elapsed_s", _is_number, "a number",
                                        where)),
            "best": float(_require(obj, "best", _is_number, "a number", where)),
            "mean": _require(obj, "mean", _is_number, "a number or null", where,
                             optional=True),
            "stdev": _require(obj, "stdev", _is_number, "a number or null", where,
                              optional=True),
        }
        exp, base = rec["experiment"], rec["total_individuals"] - rec["individuals"]
        if last is not None:
            mixed = f"{where}: the file mixes records of different runs ("
            if exp < last["experiment"]:
                raise PlotError(mixed + f"experiment {exp} after experiment "
                                f"{last['experiment']})")
            if rec["total_individuals"] < last["total_individuals"]:
                raise PlotError(mixed + f"total_individuals goes back from "
                                f"{last['total_individuals']} to "
                                f"{rec['total_individuals']})")
            if exp == last["experiment"] and base != bases[exp][0]:
                raise PlotError(mixed + "total_individuals - individuals changes "
                                f"within experiment {exp})")
        if last is None or exp != last["experiment"]:
            if last is not None:
                steps_before += last["train_steps"]
            if base < 0:
                raise PlotError(f"{where}: total_individuals is smaller than "
                                f"individuals")
            bases[exp] = (base, steps_before)
        rec["total_steps"] = steps_before + rec["train_steps"]
        if (records and records[-1]["experiment"] == exp
                and records[-1]["individuals"] == rec["individuals"]):
            records[-1] = rec  # the same point reported again
        else:
            records.append(rec)
        last = rec
    return records, bases


_EVENT_FIELDS: dict[str, tuple[tuple[str, Any, str, bool], ...]] = {
    "experiment_start": (("experiment", _non_negative_int, "an integer >= 0", False),
                         ("elapsed_s", _is_number, "a number", False)),
    "best_changed": (("experiment", _non_negative_int, "an integer >= 0", False),
                     ("total_individuals", _non_negative_int, "an integer >= 0", False),
                     ("fitness", _is_number, "a number", False),
                     ("elapsed_s", _is_number, "a number", False)),
    "select_check": (("experiment", _non_negative_int, "an integer >= 0", False),
                     ("individuals", _non_negative_int, "an integer >= 0", False),
                     ("select_fitness", _is_number, "a number", False),
                     ("passed", lambda v: isinstance(v, bool), "true or false", False),
                     ("elapsed_s", _is_number, "a number", False)),
    "experiment_end": (("experiment", _non_negative_int, "an integer >= 0", False),
                       ("select_fitness", _is_number, "a number or null", True),
                       ("passed", lambda v: isinstance(v, bool), "true or false",
                        False),
                       ("individuals", _non_negative_int, "an integer >= 0", True),
                       ("elapsed_s", _is_number, "a number", False)),
}


def _read_events(path: Path) -> list[dict]:
    """The events a plot uses, checked (other events are skipped)."""
    if not path.exists():
        return []
    out = []
    for number, obj in _read_jsonl(path):
        kind = obj.get("event")
        if kind not in _EVENT_FIELDS:
            continue
        where = f"{path}: line {number} ({kind})"
        for key, check, what, optional in _EVENT_FIELDS[kind]:
            _require(obj, key, check, what, where, optional)
        out.append(obj)
    return out


def _read_json(path: Path) -> dict | None:
    if not path.exists():
        return None
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise PlotError(f"{path}: corrupt ({err})") from None
    except OSError as err:
        raise PlotError(f"{path}: cannot read ({err.strerror or err})") from None
    if not isinstance(obj, dict):
        raise PlotError(f"{path}: corrupt (not a JSON object)")
    return obj


def load_run(path: str | Path, label: str | None = None) -> Run:
    """Read a run directory for plotting (``PlotError`` on bad input)."""
    path = Path(path)
    if not path.exists():
        raise PlotError(f"{path}: no such run directory")
    if not path.is_dir():
        raise PlotError(f"{path}: not a run directory (it is a file)")
    if not (path / PROGRESS).exists():
        raise PlotError(f"{path}: not a run directory ({PROGRESS} is missing)")
    records, bases = _read_progress(path / PROGRESS)
    return Run(path=path, label=label if label is not None else path.name or str(path),
               records=records, events=_read_events(path / EVENTS),
               config=_read_json(path / CONFIG), result=_read_json(path / RESULT),
               bases=bases)


def default_output(run_dirs: Sequence[str | Path]) -> Path:
    """``RUN_DIR/progress.png`` for one run; several need an explicit file."""
    if len(run_dirs) != 1:
        raise PlotError(f"{len(run_dirs)} run directories: name the image file "
                        f"with -o FILE.png")
    return Path(run_dirs[0]) / "progress.png"


# -------------------------------------------------------------------- drawing
def _import_matplotlib() -> tuple[Any, Any]:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise PlotError(f"plotting needs matplotlib, which is not installed: "
                        f"{INSTALL_HINT}") from None
    return Figure, FigureCanvasAgg


class _XMap:
    """x coordinates of a run's records and events on the chosen axis."""

    def __init__(self, run: Run, axis: str) -> None:
        self.run, self.axis = run, axis
        # (total individuals, x) anchors: each experiment's start, then records.
        self.starts: dict[int, float] = {}
        starts_by_event = {e["experiment"]: float(e["elapsed_s"]) for e in run.events
                           if e["event"] == "experiment_start"}
        for exp, (base, steps) in run.bases.items():
            if axis == "individuals":
                self.starts[exp] = float(base)
            elif axis == "train_steps":
                self.starts[exp] = float(steps)
            else:
                first = next(r for r in run.records if r["experiment"] == exp)
                self.starts[exp] = starts_by_event.get(exp, first["elapsed_s"])
        self.anchors = sorted(
            [(float(base), self.starts[exp]) for exp, (base, _) in run.bases.items()]
            + [(float(r["total_individuals"]), self.record(r)) for r in run.records])

    def record(self, r: dict) -> float:
        if self.axis == "individuals":
            return float(r["total_individuals"])
        if self.axis == "train_steps":
            return float(r["total_steps"])
        return r["elapsed_s"]

    def event(self, e: dict, total: int) -> float:
        """An event at the run's ``total`` individuals."""
        if self.axis == "individuals":
            return float(total)
        if self.axis == "time":
            return float(e["elapsed_s"])
        import numpy as np

        xs, ys = zip(*self.anchors, strict=True)
        return float(np.interp(total, xs, ys))


def _event_points(run: Run, xmap: _XMap) -> dict[str, list[tuple[float, float]]]:
    """(x, fitness) of the events drawn as markers."""
    points: dict[str, list[tuple[float, float]]] = {
        "best_changed": [], "select_check": [], "candidate": [], "passed": []}
    for e in run.events:
        exp = e["experiment"]
        if exp not in run.bases:
            continue  # no progress record of this experiment
        base = run.bases[exp][0]
        kind = e["event"]
        if kind == "best_changed":
            points["best_changed"].append(
                (xmap.event(e, e["total_individuals"]), float(e["fitness"])))
        elif kind == "select_check" and not e["passed"]:
            total = base + e["individuals"]
            points["select_check"].append(
                (xmap.event(e, total), float(e["select_fitness"])))
        elif kind == "experiment_end" and e.get("select_fitness") is not None:
            individuals = e.get("individuals")
            if individuals is None:
                individuals = max(r["individuals"] for r in run.records
                                  if r["experiment"] == exp)
            point = (xmap.event(e, base + individuals), float(e["select_fitness"]))
            points["passed" if e["passed"] else "candidate"].append(point)
    return points


def _first_best(run: Run, xmap: _XMap) -> dict[int, tuple[float, float]]:
    """(x, fitness) of each experiment's first ``best_changed`` event."""
    out: dict[int, tuple[float, float]] = {}
    for e in run.events:
        if (e["event"] == "best_changed" and e["experiment"] in run.bases
                and e["experiment"] not in out):
            out[e["experiment"]] = (xmap.event(e, e["total_individuals"]),
                                    float(e["fitness"]))
    return out


def _subtitle(run: Run) -> str:
    """One line about how the run ended (or that it is still going)."""
    last = run.records[-1]
    parts = []
    method = {"RANDOM_SEARCH": "random search",
              "REGULARIZED_EVOLUTION": "regularized evolution"}.get(run.method or "")
    if method:
        parts.append(method)
    r = run.result
    if r is None:
        parts.append(f"in progress: experiment {last['experiment']}, "
                     f"{last['total_individuals']:,} individuals")
    else:
        n = r.get("experiments")
        if _is_int(n):
            parts.append(f"{n} experiment{'s' if n != 1 else ''}")
        if _is_int(r.get("total_individuals")):
            parts.append(f"{r['total_individuals']:,} individuals")
        if isinstance(r.get("stopped_by"), str):
            parts.append(f"stopped by {r['stopped_by']}")
        for key, name in (("select_fitness", "T_select"), ("final_fitness", "T_final")):
            if _is_number(r.get(key)):
                parts.append(f"{name} {r[key]:.6f}")
    return " · ".join(parts)


def _y_label(runs: Sequence[Run]) -> str:
    kinds = frozenset().union(*(r.eval_types for r in runs))
    if kinds == {"RMS_ERROR"}:
        return "fitness on T_search: 1 − (2/π)·atan(RMSE)"
    if kinds == {"ACCURACY"}:
        return "fitness on T_search: accuracy"
    return "fitness on T_search"


def _check_mixed(runs: Sequence[Run]) -> None:
    seen: dict[Path, Run] = {}
    for run in runs:
        key = run.path.resolve()
        if key in seen:
            raise PlotError(f"{run.path}: the same run directory is given twice")
        seen[key] = run
    kinds = [(r, r.eval_types) for r in runs if r.eval_types]
    for r, k in kinds[1:]:
        if k != kinds[0][1]:
            raise PlotError(f"{r.path} and {kinds[0][0].path} measure different "
                            f"fitnesses ({'/'.join(sorted(k))} and "
                            f"{'/'.join(sorted(kinds[0][1]))} search tasks): "
                            f"plot them separately")


def _default_labels(runs: Sequence[Run]) -> None:
    """Directory names; parent/name where two collide; the method when the
    runs differ in it."""
    names = [r.path.name or str(r.path) for r in runs]
    if len(set(names)) < len(names):
        names = [str(r.path) for r in runs]
    methods = {r.method for r in runs}
    for r, name in zip(runs, names, strict=True):
        suffix = ""
        if len(methods) > 1 and r.method:
            suffix = {"RANDOM_SEARCH": " (random search)",
                      "REGULARIZED_EVOLUTION": " (evolution)"}.get(r.method, "")
        r.label = name + suffix


def _time_unit(runs: Sequence[Run]) -> tuple[float, str]:
    longest = max(r.records[-1]["elapsed_s"] for r in runs)
    if longest > 3 * 3600:
        return 3600.0, "h"
    if longest > 600:
        return 60.0, "min"
    return 1.0, "s"


def plot_runs(run_dirs: Sequence[str | Path], output: str | Path | None = None, *,
              x: str = "individuals", title: str | None = None,
              labels: Sequence[str] | None = None) -> Path:
    """Draw the progress of one or more runs into an image file and return its
    path (default: ``RUN_DIR/progress.png`` for one run; several runs need
    ``output``). ``x``: ``individuals`` (log scale), ``train_steps`` (log
    scale) or ``time`` (wall clock, compilation included). ``labels`` name the
    runs in the legend (default: the directory names)."""
    if x not in X_AXES:
        raise PlotError(f"x axis must be one of {', '.join(X_AXES)}, got {excerpt(x)}")
    if not run_dirs:
        raise PlotError("no run directory given")
    if labels and len(labels) != len(run_dirs):
        raise PlotError(f"{len(labels)} label(s) for {len(run_dirs)} run "
                        f"director{'y' if len(run_dirs) == 1 else 'ies'}: give one "
                        f"--label per run directory")
    out = Path(output) if output is not None else default_output(run_dirs)
    Figure, FigureCanvasAgg = _import_matplotlib()
    runs = [load_run(p) for p in run_dirs]
    _check_mixed(runs)
    _default_labels(runs)
    if labels:
        for run, label in zip(runs, labels, strict=True):
            run.label = label

    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    fig = Figure(figsize=(10, 5.8), dpi=150, layout="constrained")
    canvas = FigureCanvasAgg(fig)
    supported = canvas.get_supported_filetypes()
    suffix = out.suffix.lower().lstrip(".")
    if suffix not in supported:
        raise PlotError(f"{out}: unknown image type {excerpt(out.suffix or '(none)')}"
                        f"; use one of .{', .'.join(sorted(supported))}")
    ax = fig.add_subplot()
    single = len(runs) == 1
    scale, unit = _time_unit(runs) if x == "time" else (1.0, "")
    ys: list[float] = []
    present: set[str] = set()
    for i, run in enumerate(runs):
        color = f"C{i}"
        xmap = _XMap(run, x)
        by_exp: dict[int, list[dict]] = {}
        for r in run.records:
            by_exp.setdefault(r["experiment"], []).append(r)
        first_best = _first_best(run, xmap)
        for exp, recs in by_exp.items():
            xs = [xmap.record(r) / scale for r in recs]
            best = [r["best"] for r in recs]
            # The best line starts at the initial population when its best
            # was reported before the first progress record.
            start = first_best.get(exp)
            bx, by = xs, best
            if start is not None and start[0] < xmap.record(recs[0]):
                bx, by = [start[0] / scale, *xs], [start[1], *best]
            ax.plot(bx, by, color=color, lw=1.8, solid_capstyle="round",
                    marker="o" if len(bx) == 1 else None, ms=3, zorder=3)
            ys += [b for b in by if math.isfinite(b)]
            if all(r["mean"] is not None for r in recs):
                mean = [r["mean"] for r in recs]
                ax.plot(xs, mean, color=color, lw=1.0, ls="--", alpha=0.9, zorder=2)
                present.add("mean")
                ys += [m for m in mean if math.isfinite(m)]
                if all(r["stdev"] is not None for r in recs):
                    lo = [m - r["stdev"] for m, r in zip(mean, recs, strict=True)]
                    hi = [m + r["stdev"] for m, r in zip(mean, recs, strict=True)]
                    ax.fill_between(xs, lo, hi, color=color, alpha=0.13, lw=0,
                                    zorder=1)
                    present.add("band")
            if exp > 0 and (x != "individuals" or xmap.starts[exp] > 0):
                ax.axvline(xmap.starts[exp] / scale, color="0.55" if single else color,
                           lw=0.8, ls=":", alpha=0.9 if single else 0.6, zorder=0)
                present.add("boundary")
                if single and len(by_exp) <= _MAX_EXPERIMENT_LABELS:
                    present.add("labels")
                    ax.annotate(f"exp {exp}", (xmap.starts[exp] / scale, 1.0),
                                xycoords=("data", "axes fraction"),
                                xytext=(3, -3), textcoords="offset points",
                                ha="left", va="top", fontsize=7, color="0.4")
        points = _event_points(run, xmap)
        style = {
            "best_changed": dict(marker="o", s=12, color=color, edgecolors="white",
                                 linewidths=0.4, zorder=4),
            "select_check": dict(marker="x", s=14, color=color, linewidths=0.8,
                                 alpha=0.55, zorder=4),
            "candidate": dict(marker="D", s=30, facecolors="white", edgecolors=color,
                              linewidths=1.2, zorder=5),
            "passed": dict(marker="*", s=200, color="gold", edgecolors=color,
                           linewidths=1.0, zorder=6),
        }
        for kind, pts in points.items():
            if not pts:
                continue
            present.add(kind)
            px = [p[0] / scale for p in pts]
            py = [p[1] for p in pts]
            ax.scatter(px, py, **style[kind])
            ys += [v for v in py if math.isfinite(v)]
        for px, py in points["passed"][:1]:
            ax.annotate(f"passed T_select ({py:.6f})", (px / scale, py),
                        xytext=(-24, -26), textcoords="offset points", ha="right",
                        fontsize=8, color="0.2",
                        arrowprops=dict(arrowstyle="-", color="0.5", lw=0.6))

    if x in ("individuals", "train_steps"):
        ax.set_xscale("log")
    ax.set_xlabel({
        "individuals": "individuals evaluated (all islands and experiments, log scale)",
        "train_steps": "training steps (all islands and experiments, log scale)",
        "time": f"wall-clock time ({unit}, compilation included)",
    }[x])
    ax.set_ylabel(_y_label(runs))
    if ys:
        lo, hi = min(ys), max(ys)
        pad = max(0.02, 0.05 * (hi - lo))
        # Room at the top for the experiments' labels.
        top = pad + (0.05 * (hi - lo) if "labels" in present else 0.0)
        ax.set_ylim(max(0.0, lo - pad), min(1.0, hi) + top)
    ax.grid(True, which="major", color="0.88", lw=0.7)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)

    # One legend: the runs (colours) when there are several, then what the
    # lines and marks mean (drawn in a neutral colour).
    ink = "C0" if single else "0.3"
    handles: list[Any] = []
    if not single:
        handles += [Patch(color=f"C{i}", label=run.label) for i, run in enumerate(runs)]
    handles.append(Line2D([], [], color=ink, lw=1.8, label="best in population"))
    if "mean" in present:
        handles.append(Line2D([], [], color=ink, lw=1.0, ls="--",
                              label="mean ± stdev of population" if "band" in present
                              else "mean of population"))
    names = {
        "best_changed": ("o", "new best found", dict(markerfacecolor=ink,
                                                     markeredgecolor="white")),
        "select_check": ("x", "T_select check", dict(color=ink, alpha=0.6)),
        "candidate": ("D", "experiment's candidate on T_select",
                      dict(markerfacecolor="white", markeredgecolor=ink)),
        "passed": ("*", "passed T_select", dict(markerfacecolor="gold",
                                                markeredgecolor=ink, markersize=12)),
    }
    for kind, (marker, label, kw) in names.items():
        if kind in present:
            kw = {"markersize": 6, **kw}
            handles.append(Line2D([], [], ls="none", marker=marker, label=label,
                                  **kw))
    if "boundary" in present:
        handles.append(Line2D([], [], color="0.55", lw=0.8, ls=":",
                              label="new experiment"))
    ax.legend(handles=handles, loc="upper left", fontsize=8, framealpha=0.92)

    main = title if title is not None else (
        f"Search progress: {runs[0].label}" if single else "Search progress")
    fig.suptitle(main, fontsize=13, fontweight="bold")
    subtitle = (_subtitle(runs[0]) if single
                else "  vs  ".join(run.label for run in runs))
    if subtitle:
        ax.set_title(subtitle, fontsize=9, color="0.35")
    try:
        fig.savefig(out)
    except OSError as err:
        raise PlotError(f"{out}: cannot write ({err.strerror or err})") from None
    return out
