"""Command-line interface: ``automl-zero`` (also ``python -m automl_zero``)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from automl_zero import __version__
from automl_zero.config import TASK_COLLECTIONS, Config, load_config
from automl_zero.engine.evaluator import Evaluator
from automl_zero.errors import AutoMLZeroError
from automl_zero.executor import MemorySpec
from automl_zero.language.algorithm import Algorithm
from automl_zero.language.algorithm_io import load_algorithm
from automl_zero.language.generator import (
    linear_algorithm,
    neural_net_algorithm,
)
from automl_zero.language.json_format import dumps_algorithm
from automl_zero.language.ops import OPS
from automl_zero.run import build
from automl_zero.run.driver import ProgressRecord, SearchDriver
from automl_zero.run.rundir import RunDir, new_run_dir
from automl_zero.run.workers import BACKENDS, default_workers, make_backend
from automl_zero.tasks import make_tasks

__all__ = ["main", "cli"]


class _UserError(click.ClickException):
    """A bad input reported as one line, exit status 2, no traceback."""

    exit_code = 2

    def format_message(self) -> str:
        return self.message


def _fail(err: Exception) -> _UserError:
    return _UserError(str(err))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="automl-zero")
def cli() -> None:
    """AutoML-Zero: evolve machine learning algorithms from scratch."""


def _load(program: Path, cfg: Config | None, which: str = "search") -> Algorithm:
    feature_size = None
    if cfg is not None:
        specs = getattr(cfg, f"{which}_tasks")
        if specs:
            feature_size = specs[0].features_size
    return load_algorithm(program, feature_size=feature_size)


def make_evaluator(cfg: Config, which: str, seed: int,
                   memory: MemorySpec | None = None) -> Evaluator:
    """The evaluator the original uses for a collection: search tasks with the
    config's combination mode and train budget; select and final tasks with the
    mean and no budget (docs/semantics.md §9). No FEC: every run is full."""
    tasks = make_tasks(cfg.tasks(which))
    memory = cfg.memory if memory is None else memory
    if which != "search":
        return Evaluator(tasks, memory, max_abs_error=cfg.max_abs_error, seed=seed)
    return Evaluator(tasks, memory,
                     fitness_combination_mode=cfg.fitness_combination_mode,
                     max_abs_error=cfg.max_abs_error, train_budget=build.train_budget(cfg),
                     seed=seed)


@cli.command()
@click.argument("program", type=click.Path(path_type=Path))
@click.option("--config", "config_path", required=True, type=click.Path(path_type=Path),
              help="Experiment config (TOML), e.g. configs/demo_linear.toml.")
@click.option("--tasks", "which", type=click.Choice(TASK_COLLECTIONS), default="search",
              show_default=True, help="Task collection of the config to evaluate on.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the random-init ops' random numbers.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a config key, e.g. --set final_tasks.0.num_tasks=10.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def evaluate(program: Path, config_path: Path, which: str, seed: int,
             overrides: tuple[str, ...], as_json: bool) -> None:
    """Evaluate PROGRAM (text or JSON) on a task collection and print its fitness."""
    try:
        cfg = load_config(config_path, overrides)
        alg = _load(program, cfg, which)
        memory = cfg.memory.covering(alg)
        if memory != cfg.memory:
            click.echo(f"note: {program} needs memory {'/'.join(map(str, memory.sizes))}"
                       f" (scalars/vectors/matrices); the config has "
                       f"{'/'.join(map(str, cfg.memory.sizes))}: extended", err=True)
        t0 = time.perf_counter()
        evaluator = make_evaluator(cfg, which, seed, memory)
        result = evaluator.evaluate_many([alg])
        seconds = time.perf_counter() - t0
    except (AutoMLZeroError, ValueError) as err:
        raise _fail(err) from None
    fitness = float(result.fitness[0])
    if as_json:
        click.echo(json.dumps({
            "program": str(program),
            "config": str(config_path),
            "tasks": which,
            "num_tasks": evaluator.batch.num_tasks,
            "fitness": fitness,
            "per_task": [float(f) for f in result.per_task[0]],
            "fitness_combination_mode": evaluator.fitness_combination_mode,
            "train_steps": int(result.train_steps[0]),
            "seed": seed,
            "seconds": seconds,
        }))
    else:
        click.echo(f"fitness = {fitness:.6f}  ({which} tasks: "
                   f"{evaluator.batch.num_tasks}, "
                   f"{evaluator.fitness_combination_mode.split('_')[0].lower()})")


class _Display:
    """Live progress on a terminal (rich), plain log lines otherwise; events
    (compiling, the end of each experiment) as lines above the live panel."""

    def __init__(self, out_dir: Path | None) -> None:
        from rich.console import Console

        self.console = Console(stderr=True, highlight=False)
        self.live = None
        self.out_dir = out_dir
        if self.console.is_terminal:
            from rich.live import Live

            self.live = Live(console=self.console, refresh_per_second=4,
                             transient=False)

    def __enter__(self) -> _Display:
        if self.live is not None:
            self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.__exit__(*exc)

    def progress(self, r: ProgressRecord) -> None:
        fec = "" if r.fec_hit_rate is None else f"  FEC hits {r.fec_hit_rate:.0%}"
        if r.hurdle_savings is not None:
            fec += f"  hurdles saved {r.hurdle_savings:.0%}"
        if r.islands > 1:
            fec += (f"  {r.islands} islands ({r.individuals_per_s / r.islands:,.0f}/s "
                    f"each), {r.migrations} migrations")
        text = (f"experiment {r.experiment}  individuals {r.individuals:,}  "
                f"({r.individuals_per_s:,.0f}/s)  best {r.best:.6f}"
                f"{'' if r.mean is None else f'  mean {r.mean:.6f}'}{fec}  {r.budget} {r.budget_used:.0%}  "
                f"{r.elapsed_s:.0f}s")
        if self.live is not None:
            from rich.panel import Panel

            self.live.update(Panel(text, title=f"automl-zero search → {self.out_dir}"))
        else:
            self.console.print(text, markup=False, soft_wrap=True)

    def event(self, e: dict) -> None:
        if e["event"] == "compiling":
            self.console.print(f"compiling the executor for features_size "
                               f"{e['features_size']} (once, about 45 s on 2 cores; cached for "
                               f"later runs)...", markup=False)
        elif e["event"] == "experiment_start" and e.get("workers", 1) > 1:
            self.console.print(f"experiment {e['experiment']}: {e['islands']} islands on "
                               f"{e['workers']} workers", markup=False)
        elif e["event"] == "worker_restarted":
            self.console.print(f"{e['why']}: replaced; the run goes on from its "
                               f"checkpoint at {e['resumed_from_elapsed_s']:.0f} s "
                               f"(same result)", markup=False)
        elif e["event"] == "experiment_end":
            if e["search_fitness"] is None:
                text = f"experiment {e['experiment']} ended: {e['why']}"
            else:
                text = (f"experiment {e['experiment']} ended ({e['reason']}): best "
                        f"search fitness {e['search_fitness']:.6f}, T_select fitness "
                        f"{e['select_fitness']:.6f}: {e['why']}")
            self.console.print(text, markup=False, soft_wrap=True)


def _run_search(driver: SearchDriver, out_dir: Path) -> None:
    """Run with live progress; Ctrl-C / SIGTERM stop cleanly (exit status 130)."""
    import signal

    from automl_zero.language.effective import effective_algorithm

    def stop(signum, frame) -> None:  # noqa: ANN001
        # The first Ctrl-C (or SIGTERM, e.g. from a cluster scheduler) asks the
        # run to stop after its current batch, checkpointed; a second one
        # interrupts at once.
        if driver.stop_requested:
            raise KeyboardInterrupt
        driver.request_stop()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with _Display(out_dir) as display:
            driver.progress = display.progress
            driver.on_event = display.event
            result = driver.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo(f"run directory: {out_dir}")
    click.echo(f"stopped by: {result.stopped_by}; experiments: {result.experiments}; "
               f"individuals: {result.total_individuals:,}; "
               f"train steps: {result.total_train_steps:,}; "
               f"{result.elapsed_s:.1f} s; seed {result.seed}")
    if result.best_algorithm is None:
        click.echo("no algorithm found yet")
    else:
        click.echo(f"search fitness = {result.search_fitness:.6f}   select fitness = "
                   f"{result.select_fitness:.6f}   final fitness = "
                   + (f"{result.final_fitness:.6f}" if result.final_fitness is not None
                      else "(not evaluated)"))
        click.echo("best algorithm" + (" so far" if result.stopped_by == "interrupted"
                                       else "") + ":")
        click.echo(result.best_algorithm.to_text(), nl=False)
        click.echo("without dead code:")
        click.echo(effective_algorithm(result.best_algorithm, driver.cfg.multiclass).to_text(),
                   nl=False)
    if result.stopped_by == "interrupted":
        click.echo(f"interrupted: continue with `automl-zero resume {out_dir}`")
        sys.exit(130)


@cli.command()
@click.argument("config_path", metavar="CONFIG", type=click.Path(path_type=Path))
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Run directory (default: runs/<timestamp>).")
@click.option("--seed", type=int, default=None,
              help="Random seed (default: the config's random_seed; 0: time-based).")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a config key, e.g. --set population_size=100.")
@click.option("--checkpoint-every", type=click.FloatRange(min=0.1), default=30.0,
              show_default=True, help="Seconds between checkpoints.")
@click.option("--islands", type=click.IntRange(1, 1_000_000), default=None,
              help="Islands (populations) per experiment; overrides the config's "
                   "`islands` (default there: 1).")
@click.option("--workers", type=click.IntRange(1), default=None,
              help="Worker processes running the islands (default: one per core, "
                   "at most one per island). Results do not depend on it.")
@click.option("--backend", type=click.Choice(BACKENDS), default="local",
              show_default=True, help="local: processes on this machine; ray: Ray "
                                      "actors (pip install 'automl-zero[ray]').")
@click.option("--address", default=None, metavar="HOST:PORT",
              help="Ray cluster to join (ray backend; default: a local Ray runtime).")
def search(config_path: Path, out_dir: Path | None, seed: int | None,
           overrides: tuple[str, ...], checkpoint_every: float, islands: int | None,
           workers: int | None, backend: str, address: str | None) -> None:
    """Search for algorithms as the CONFIG describes (T_search → T_select → T_final)."""
    try:
        if islands is not None:
            overrides = (*overrides, f"islands={islands}")
        cfg = load_config(config_path, overrides)
        out_dir = out_dir if out_dir is not None else new_run_dir()
        with make_backend(backend, workers, cfg.islands, address) as runner, \
                RunDir.create(out_dir) as run_dir:
            driver = SearchDriver(cfg, run_dir, seed,
                                  checkpoint_every_s=checkpoint_every, backend=runner)
            _run_search(driver, out_dir)
    except (AutoMLZeroError, ValueError) as err:
        raise _fail(err) from None


@cli.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--checkpoint-every", type=click.FloatRange(min=0.1), default=30.0,
              show_default=True, help="Seconds between checkpoints.")
@click.option("--workers", type=click.IntRange(1), default=None,
              help="Worker processes (default: one per core, at most one per island).")
@click.option("--backend", type=click.Choice(BACKENDS), default="local",
              show_default=True, help="local or ray (any backend continues any run).")
@click.option("--address", default=None, metavar="HOST:PORT",
              help="Ray cluster to join (ray backend).")
def resume(run_dir: Path, checkpoint_every: float, workers: int | None, backend: str,
           address: str | None) -> None:
    """Continue the run in RUN_DIR from its last checkpoint."""
    try:
        with RunDir.open(run_dir) as directory:
            driver = SearchDriver.resume(directory, checkpoint_every_s=checkpoint_every)
            with make_backend(backend, workers, driver.cfg.islands, address) as runner:
                driver._backend, driver._own_backend = runner, False
                _run_search(driver, run_dir)
    except (AutoMLZeroError, ValueError) as err:
        raise _fail(err) from None


@cli.command()
@click.argument("program", type=click.Path(path_type=Path))
@click.option("--config", "config_path", type=click.Path(path_type=Path),
              help="Config whose feature size resolves integer element indices.")
@click.option("--json", "as_json", is_flag=True, help="Print the lossless JSON form.")
def show(program: Path, config_path: Path | None, as_json: bool) -> None:
    """Print PROGRAM in the paper's style (or as JSON)."""
    try:
        cfg = load_config(config_path) if config_path is not None else None
        alg = _load(program, cfg)
    except (AutoMLZeroError, ValueError) as err:
        raise _fail(err) from None
    click.echo(dumps_algorithm(alg) if as_json else alg.to_text(), nl=False)


@cli.command()
@click.argument("name", type=click.Choice(["linear", "logistic", "neural_net"]))
@click.option("--learning-rate", type=float, default=None,
              help="Learning rate (default: the original's 0.01).")
def example(name: str, learning_rate: float | None) -> None:
    """Print a hand-designed algorithm: the original's LINEAR (linear
    regression) or NEURAL_NET (2-layer ReLU network), or logistic regression
    (linear with a bias; on classification tasks the executor's sigmoid makes
    its update SGD on the log-loss)."""
    from automl_zero.language.generator import logistic_regression_algorithm

    lr = 0.01 if learning_rate is None else learning_rate
    build_alg = {"linear": linear_algorithm, "logistic": logistic_regression_algorithm,
                 "neural_net": neural_net_algorithm}[name]
    click.echo(build_alg(lr).to_text(), nl=False)


@cli.command()
def ops() -> None:
    """List the op table, one op per line.

    \b
    Columns:
      code          the op's number: the original's enum value and the
                    paper's OP number (Table S1)
      name          the original's enum name
      printed form  how programs print it: s, v, m are scalar, vector and
                    matrix addresses, {o} the output, {a} and {b} the inputs,
                    {d0}..{d2} stored constants
      cost          compute cost in the original's compute_cost units; only
                    the train budget uses it (docs/semantics.md §3.6, §6.3)
      random        "random": draws new random numbers each time it runs
    """
    name_w = max(len(op.name) for op in OPS)
    fmt_w = max(len(op.fmt) for op in OPS)
    cost_w = max(len(f"{op.cost:,}") for op in OPS)
    click.echo(f"{'code':>4s}  {'name':{name_w}s}  {'printed form':{fmt_w}s}  "
               f"{'cost':>{cost_w}s}  random")
    for op in OPS:
        click.echo(f"{op.code:4d}  {op.name:{name_w}s}  {op.fmt:{fmt_w}s}  "
                   f"{op.cost:>{cost_w},d}  {'random' if op.random else ''}".rstrip())
    click.echo("code = paper OP number; printed form: s/v/m = scalar/vector/matrix "
               "address, {o} output, {a} {b} inputs, {d0}..{d2} constants; cost = "
               "the original's compute_cost units (train budget only); random = "
               "draws random numbers each run")


@cli.group(invoke_without_command=True)
@click.option("--repeats", type=click.IntRange(1), default=7, show_default=True,
              help="Timed repeats per workload (the median is reported).")
@click.option("--evals", type=click.IntRange(10), default=1000, show_default=True,
              help="Algorithm evaluations per repeat.")
@click.option("--no-compile", is_flag=True,
              help="Skip measuring cold and cached compile times.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.pass_context
def bench(ctx: click.Context, repeats: int, evals: int, no_compile: bool,
          as_json: bool) -> None:
    """Benchmark the executor: µs per evaluation, instructions/s, compile time.

    `automl-zero bench search` benchmarks the demo search instead."""
    if ctx.invoked_subcommand is not None:
        return
    from automl_zero.run.bench import measure_compile_times, run_executor_benchmarks

    def report(r):  # noqa: ANN001
        if not as_json:
            click.echo(f"{r.name:58s} {r.us_per_eval:10.2f} µs/eval "
                       f"{r.instructions_per_s / 1e6:8.1f} M instr/s")

    if not as_json:
        click.echo(f"automl-zero {__version__} executor benchmark (median of "
                   f"{repeats} repeats, compile excluded; instructions counted per "
                   f"task)")
    results = run_executor_benchmarks(repeats, evals, report)
    compile_times = {} if no_compile else measure_compile_times()
    if as_json:
        click.echo(json.dumps({"executor": [r.to_dict() for r in results],
                               "compile": compile_times}, indent=2))
        return
    by_name = {r.name: r for r in results}
    default = by_name["F=16 all 65 ops: random 6/10/22, default executor"]
    per = by_name["F=16 all 65 ops: random 6/10/22, per-task loop"]
    click.echo(f"F=16 all ops, default executor speed relative to the per-task loop:"
               f" {per.us_per_eval / default.us_per_eval:.2f}x")
    for key, value in compile_times.items():
        click.echo(f"{key:58s} {value:10.2f} s")


def _float_list(text: str, what: str, kind: type = float) -> list:
    try:
        values = [kind(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise click.BadParameter(f"expected comma-separated numbers, got {text!r}",
                                 param_hint=what) from None
    if not values or any(x <= 0 for x in values):
        raise click.BadParameter(f"expected positive numbers, got {text!r}",
                                 param_hint=what)
    return values


@bench.command("network")
@click.option("--features", default="16,32", show_default=True,
              help="Comma-separated feature sizes F.")
@click.option("--learning-rates", default="0.001,0.01", show_default=True,
              help="Comma-separated learning rates (0.01 makes some tasks diverge "
                   "and stop early).")
@click.option("--sweep", is_flag=True,
              help="Instead: F = 4, 8, 16, 32, 64, 128, 256, every step run "
                   "(learning rate 1e-6, stopping threshold 1e9).")
@click.option("--repeats", type=click.IntRange(1), default=7, show_default=True,
              help="Timed repeats (the median is reported).")
@click.option("--evals", type=click.IntRange(1), default=3, show_default=True,
              help="Evaluations per timed repeat.")
@click.option("--no-reference", is_flag=True,
              help="Do not build and run the compiled C reference.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def bench_network(features: str, learning_rates: str, sweep: bool, repeats: int,
                  evals: int, no_reference: bool, as_json: bool) -> None:
    """The executor at the paper's sizes against a compiled C loop.

    The hand-designed 2-layer network (`automl-zero example neural_net`) on 10
    2-layer regression tasks of 1000 train / 100 valid examples; the C loop of
    the same program (built here with the system compiler, -O3 -march=native
    -ffast-math) runs the same data and initial weights. Ratio = our time / C."""
    from automl_zero.run import bench_network as bn

    sizes = list(bn.SWEEP_SIZES) if sweep else _float_list(features, "--features", int)
    rates = ([bn.SWEEP_LEARNING_RATE] if sweep
             else _float_list(learning_rates, "--learning-rates"))
    max_abs_error = bn.SWEEP_MAX_ABS_ERROR if sweep else bn.MAX_ABS_ERROR

    def report(r):  # noqa: ANN001
        if as_json:
            return
        ref = ("   (no C compiler)" if r.reference_us is None else
               f" {r.reference_us:11.1f} {r.reference_steps:8d} {r.ratio:7.2f}x")
        click.echo(f"{r.features_size:5d} {r.learning_rate:8g} {r.us_per_eval:11.1f} "
                   f"{r.train_steps:8d} {r.ns_per_task_step:11.1f}{ref}")

    if not as_json:
        click.echo(f"automl-zero {__version__} network benchmark (median of {repeats} "
                   f"repeats of {evals} evaluations; compile excluded)")
        click.echo(f"{'F':>5s} {'lr':>8s} {'µs/eval':>11s} {'steps':>8s} "
                   f"{'ns/step':>11s} {'C µs/eval':>11s} {'C steps':>8s} {'ratio':>8s}")
    try:
        results = bn.run_network_benchmark(sizes, rates, repeats, evals,
                                           with_reference=not no_reference,
                                           max_abs_error=max_abs_error, report=report)
    except AutoMLZeroError as err:  # e.g. a feature size the executor does not support
        raise _fail(err) from None
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in results], indent=2))


@bench.command("search")
@click.option("--seeds", type=click.IntRange(1), default=10, show_default=True,
              help="Demo searches (seeds 1..N) for the time to solution.")
@click.option("--time-limit", type=click.FloatRange(min=1), default=300.0,
              show_default=True, help="Seconds allowed per search.")
@click.option("--individuals", type=click.IntRange(1000), default=200_000,
              show_default=True, help="Individuals per throughput measurement.")
@click.option("--keying-seeds", type=click.IntRange(0), default=3, show_default=True,
              help="Experiments per FEC keying for individuals per train budget.")
@click.option("--config", "config_path", default="configs/demo_linear_original.toml",
              show_default=True, help="Search config.")
def bench_search(seeds: int, time_limit: float, individuals: int, keying_seeds: int,
                 config_path: str) -> None:
    """Individuals/s (with and without caches) and time to an algorithm passing
    T_select, median over seeds, on the demo search."""
    import numpy as np

    from automl_zero.run.bench import (
        run_keying_benchmark,
        run_search_benchmark,
        run_throughput_benchmark,
    )

    click.echo(f"automl-zero {__version__} search benchmark on {config_path}")
    rates = run_throughput_benchmark(individuals, config_path)
    for name, rate in rates.items():
        click.echo(f"throughput, {name:38s} {rate:10,.0f} individuals/s")

    def report_keying(r):  # noqa: ANN001
        click.echo(f"FEC keyed per {r.keying.lower():9s} seed {r.seed:2d}: "
                   f"{r.individuals:9,} individuals in one experiment's train steps, "
                   f"FEC hits {r.fec_hit_rate:.1%}, {r.seconds:5.1f} s")

    keyed = run_keying_benchmark(range(1, keying_seeds + 1), config_path, report_keying)
    for keying in ("ALGORITHM", "TASK"):
        rows = [r for r in keyed if r.keying == keying]
        if rows:
            click.echo(f"FEC keyed per {keying.lower():9s} median: "
                       f"{np.median([r.individuals for r in rows]):,.0f} individuals, "
                       f"{np.median([r.seconds for r in rows]):.1f} s per experiment")

    def report(r):  # noqa: ANN001
        solved = (f"{r.time_to_select_s:7.1f} s" if r.time_to_select_s is not None
                  else "  not solved")
        click.echo(f"seed {r.seed:3d}: T_select passed after {solved}; "
                   f"{r.individuals:,} individuals ({r.individuals_per_s:,.0f}/s), "
                   f"{r.experiments} experiment(s), final fitness "
                   f"{r.final_fitness if r.final_fitness is not None else float('nan'):.6f}")

    results = run_search_benchmark(range(1, seeds + 1), time_limit, config_path,
                                   report)
    times = [r.time_to_select_s if r.time_to_select_s is not None else np.inf
             for r in results]
    solved = sum(np.isfinite(times))
    click.echo(f"time to T_select: median {np.median(times):.1f} s over {seeds} seeds "
               f"({solved} solved within {time_limit:.0f} s; min {min(times):.1f} s, "
               f"max {max(times):.1f} s)")


@bench.command("scale")
@click.option("--part", "parts", multiple=True,
              type=click.Choice(["throughput", "ray", "select", "hurdles", "islands"]),
              help="What to measure (default: all but ray; ray needs the [ray] extra).")
@click.option("--seeds", type=click.IntRange(1), default=10, show_default=True,
              help="Demo searches for the time to T_select.")
@click.option("--workers", type=click.IntRange(1), default=2, show_default=True,
              help="Workers for the time to T_select and the many-islands run.")
@click.option("--islands", type=click.IntRange(1), default=None,
              help="Islands for the throughput and the time to T_select "
                   "(default: the config's, at least 2 for the throughput).")
@click.option("--hurdle-seeds", type=click.IntRange(1), default=5, show_default=True)
@click.option("--hurdle-steps", type=click.IntRange(1000), default=20_000_000,
              show_default=True, help="Train steps per hurdle experiment.")
@click.option("--config", "config_path", default="configs/demo_linear.toml",
              show_default=True, help="Demo config.")
def bench_scale(parts: tuple[str, ...], seeds: int, workers: int, islands: int | None,
                hurdle_seeds: int, hurdle_steps: int, config_path: str) -> None:
    """Scale-out: individuals/s on 1 and 2 workers, time to T_select, hurdles'
    saving, 64 islands on 2 workers."""
    import numpy as np

    from automl_zero.run import bench_scale as bs

    parts = parts or ("throughput", "select", "hurdles", "islands")
    click.echo(f"automl-zero {__version__} scale-out benchmark ({default_workers()} "
               f"cores visible)")
    click.echo(f"starting 2 worker processes: {bs.worker_startup_seconds(2):.2f} s")
    if "throughput" in parts:
        n = islands or max(2, load_config(config_path).islands)
        rates = bs.measure_throughput(config_path, islands=n, report=lambda w, r: click.echo(
            f"  {n} islands on {w} worker(s): {r:,.0f} individuals/s"))
        click.echo(f"throughput, {n} islands: 1 worker {rates[1]:,.0f}/s, 2 workers "
                   f"{rates[2]:,.0f}/s: {rates[2] / rates[1]:.2f}x (medians of 3)")
    if "ray" in parts:
        n = islands or max(2, load_config(config_path).islands)
        rates = bs.measure_backends(config_path, islands=n, workers=workers,
                                    report=lambda b, r: click.echo(
                                        f"  {n} islands, {workers} workers, {b}: "
                                        f"{r:,.0f} individuals/s"))
        click.echo(f"backends, {n} islands on {workers} workers: local "
                   f"{rates['local']:,.0f}/s, ray {rates['ray']:,.0f}/s: "
                   f"{rates['ray'] / rates['local']:.2f}x (medians of 3)")
    if "select" in parts:
        def report(r):  # noqa: ANN001
            solved = f"{r.seconds:6.1f} s" if r.seconds is not None else "not solved"
            click.echo(f"  seed {r.seed:3d}: T_select passed after {solved}, "
                       f"{r.experiments} experiment(s), {r.individuals:,} individuals")
        found = bs.measure_time_to_select(range(1, seeds + 1), config_path, workers,
                                          islands, report=report)
        times = [r.seconds if r.seconds is not None else np.inf for r in found]
        click.echo(f"time to T_select on {workers} worker(s): median "
                   f"{np.median(times):.1f} s over {seeds} seeds")
    if "hurdles" in parts:
        def report_h(r):  # noqa: ANN001
            click.echo(f"  seed {r.seed} hurdles {'on ' if r.hurdles else 'off'}: "
                       f"{r.individuals_per_s:8,.0f} individuals/s, {r.individuals:,} "
                       f"individuals in {r.train_steps:,} train steps, T_select "
                       f"{r.select_fitness:.4f}"
                       + ("" if r.savings is None else f", saved {r.savings:.0%}"))
        runs = bs.measure_hurdles(range(1, hurdle_seeds + 1), train_steps=hurdle_steps,
                                  report=report_h)
        on = [r for r in runs if r.hurdles]
        off = [r for r in runs if not r.hurdles]
        click.echo(f"hurdles: individuals/s {np.median([r.individuals_per_s for r in on]) / np.median([r.individuals_per_s for r in off]):.2f}x "
                   f"(medians), T_select fitness {np.mean([r.select_fitness for r in on]):.4f} "
                   f"with vs {np.mean([r.select_fitness for r in off]):.4f} without "
                   f"(means over {hurdle_seeds} seeds, same train steps)")
    if "islands" in parts:
        m = bs.measure_many_islands(workers=workers, config=config_path)
        click.echo(f"{m.islands} islands on {m.workers} workers: {m.seconds:.1f} s to a "
                   f"result ({m.individuals:,} individuals, {m.migrations} migrations, "
                   f"{m.seconds_per_migration * 1e3:.0f} ms per migration, T_select "
                   f"{m.select_fitness:.4f})")


# ---------------------------------------------------------------- analysis
# `simplify` and `ablate` (automl_zero/analysis, docs/analysis.md).


def _analysis_number(text: str, option: str) -> float:
    """A finite number >= 0 given as option text (a ValueError otherwise)."""
    import math

    from automl_zero.errors import excerpt

    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{option}: expected a number >= 0, got {excerpt(text)}") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{option}: expected a finite number >= 0, got {excerpt(text)}")
    return value


def _analysis_inputs(program: Path, config_path: Path | None, which: str, seed: int,
                     overrides: tuple[str, ...]) -> tuple[Algorithm, Evaluator | None]:
    """PROGRAM and, with a config, the evaluator of its task collection (memory
    extended to cover the program, with a note, as `evaluate` does)."""
    if config_path is None and overrides:
        raise ValueError("--set needs --config")
    cfg = load_config(config_path, overrides) if config_path is not None else None
    alg = _load(program, cfg, which)
    if cfg is None:
        return alg, None
    memory = cfg.memory.covering(alg)
    if memory != cfg.memory:
        click.echo(f"note: {program} needs memory {'/'.join(map(str, memory.sizes))}"
                   f" (scalars/vectors/matrices); the config has "
                   f"{'/'.join(map(str, cfg.memory.sizes))}: extended", err=True)
    return alg, make_evaluator(cfg, which, seed, memory)


def _analysis_where(evaluator: Evaluator, which: str) -> str:
    return (f"{which} tasks: {evaluator.batch.num_tasks}, "
            f"{evaluator.fitness_combination_mode.split('_')[0].lower()}")


@cli.command("simplify")
@click.argument("program", type=click.Path(path_type=Path))
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=None,
              help="Experiment config (TOML) whose tasks measure the fitness; without "
                   "it only the static simplification runs.")
@click.option("--tasks", "which", type=click.Choice(TASK_COLLECTIONS), default="search",
              show_default=True, help="Task collection of the config to measure on.")
@click.option("--tolerance", default="0", show_default=True, metavar="T",
              help="Largest absolute fitness change, against the original, that a "
                   "removal may cause.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the random-init ops' random numbers.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a config key, e.g. --set search_tasks.0.num_tasks=3.")
@click.option("-o", "--out", "out_path", type=click.Path(path_type=Path), default=None,
              help="Write the simplified program here (JSON if the name ends in .json).")
@click.option("--multiclass", is_flag=True,
              help="Without --config: the program is for multi-class tasks (prediction "
                   "in v2, label in v1; docs/semantics.md §4.13). With --config it "
                   "follows the config's tasks.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def simplify_command(program: Path, config_path: Path | None, which: str,
                     tolerance: str, seed: int, overrides: tuple[str, ...],
                     out_path: Path | None, multiclass: bool, as_json: bool) -> None:
    """Simplify PROGRAM: drop dead code and no-ops, fold constants and (with
    --config) drop what the fitness does not need; print it before and after."""
    from automl_zero.analysis.simplify import simplify
    from automl_zero.language.algorithm_io import save_algorithm

    try:
        tol = _analysis_number(tolerance, "--tolerance")
        alg, evaluator = _analysis_inputs(program, config_path, which, seed, overrides)
        result = simplify(alg, evaluator, tol,
                          multiclass=None if evaluator is not None else multiclass)
        if out_path is not None:
            save_algorithm(result.simplified, out_path,
                           "json" if out_path.suffix.lower() == ".json" else "text")
    except (AutoMLZeroError, ValueError, OSError) as err:
        raise _fail(err) from None
    if as_json:
        click.echo(json.dumps({
            "program": str(program),
            "config": None if config_path is None else str(config_path),
            "tasks": None if evaluator is None else which,
            "num_tasks": None if evaluator is None else evaluator.batch.num_tasks,
            "static_only": evaluator is None, "seed": seed,
            "out": None if out_path is None else str(out_path),
            **result.to_dict()}))
        return
    n0, n1 = len(result.original), len(result.simplified)
    if evaluator is None:
        click.echo("static simplification only (no --config): dead code, no-ops and "
                   "constant folding; fitness not measured")
        click.echo(f"original ({n0} instructions):")
    else:
        click.echo(f"original ({n0} instructions): fitness {result.fitness_before:.6f} "
                   f"({_analysis_where(evaluator, which)})")
    click.echo(result.original.to_text(), nl=False)
    if evaluator is None:
        click.echo(f"simplified ({n1} instructions):")
    else:
        change = result.fitness_after - result.fitness_before
        click.echo(f"simplified ({n1} instructions): fitness {result.fitness_after:.6f} "
                   f"(change {change:+.6g}; tolerance {tol:g})")
    click.echo(result.simplified.to_text(), nl=False)
    for note in result.notes:
        if evaluator is not None:
            click.echo(f"note: {note}")
    click.echo(f"removed or replaced {len(result.removed)} of {n0} instructions"
               + (":" if result.removed else ""))
    width = max([len(str(c.instruction)) for c in result.removed] + [11])
    for c in result.removed:
        what = (f"folded → {c.replacement}" if c.reason == "folded" else c.reason)
        click.echo(f"  {c.component_name:7s} {c.index + 1:3d}  "
                   f"{str(c.instruction):{width}s}  {what}"
                   + (f" ({c.detail})" if c.detail else ""))
    if out_path is not None:
        click.echo(f"simplified program written to {out_path}")


@cli.command("ablate")
@click.argument("program", type=click.Path(path_type=Path))
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=None,
              help="Experiment config (TOML) whose tasks measure the fitness (required).")
@click.option("--tasks", "which", type=click.Choice(TASK_COLLECTIONS), default="search",
              show_default=True, help="Task collection of the config to measure on.")
@click.option("--threshold", default="0.01", show_default=True, metavar="D",
              help="An instruction is essential if knocking it out lowers the fitness "
                   "by more than D.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the random-init ops' random numbers.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a config key, e.g. --set search_tasks.0.num_tasks=3.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def ablate_command(program: Path, config_path: Path | None, which: str, threshold: str,
                   seed: int, overrides: tuple[str, ...], as_json: bool) -> None:
    """Knock out each instruction of PROGRAM's effective program in turn and
    print the fitness each costs, largest first, with its role."""
    from automl_zero.analysis.ablate import ablate

    try:
        if config_path is None:
            raise ValueError("ablate needs --config: the fitness is measured on its tasks")
        limit = _analysis_number(threshold, "--threshold")
        alg, evaluator = _analysis_inputs(program, config_path, which, seed, overrides)
        rows = ablate(alg, evaluator, limit)
    except (AutoMLZeroError, ValueError) as err:
        raise _fail(err) from None
    base = rows[0].fitness_before if rows else None
    if as_json:
        click.echo(json.dumps({
            "program": str(program), "config": str(config_path), "tasks": which,
            "num_tasks": evaluator.batch.num_tasks, "seed": seed, "threshold": limit,
            "fitness": base, "instructions": len(alg),
            "effective_instructions": len(rows),
            "ablations": [a.to_dict() for a in rows]}))
        return
    if not rows:
        click.echo(f"the effective program of {program} is empty: nothing to knock out")
        return
    click.echo(f"fitness {base:.6f} ({_analysis_where(evaluator, which)}); effective "
               f"program: {len(rows)} of {len(alg)} instructions")
    click.echo(f"essential (*): knocking it out lowers the fitness by more than {limit:g}")
    width = max([len(str(a.instruction)) for a in rows] + [11])
    click.echo(f"{'rank':>4s}  {'function':8s} {'#':>3s}  {'instruction':{width}s}  "
               f"{'role':20s}  {'Δ fitness':>10s}  essential")
    for k, a in enumerate(rows, 1):
        click.echo(f"{k:4d}  {a.component_name:8s} {a.original_index + 1:3d}  "
                   f"{str(a.instruction):{width}s}  {a.role:20s}  "
                   f"{a.fitness_change:+10.6f}  {'*' if a.essential else ''}")


@cli.command("plot")
@click.argument("run_dirs", metavar="RUN_DIR...", nargs=-1, required=True,
                type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Image file (.png, .pdf, .svg); default RUN_DIR/progress.png "
                   "for one run, required for several.")
@click.option("--x", "x_axis", type=click.Choice(["individuals", "train_steps", "time"]),
              default="individuals", show_default=True,
              help="x axis: individuals evaluated or training steps (log scale), or "
                   "wall-clock time.")
@click.option("--title", default=None, help="Title (default: from the run).")
@click.option("--label", "labels", multiple=True, metavar="TEXT",
              help="Legend label of each run, in order (default: directory names).")
def plot_command(run_dirs: tuple[Path, ...], output: Path | None, x_axis: str,
                 title: str | None, labels: tuple[str, ...]) -> None:
    """Plot search progress (the paper's Figure 6): best and mean fitness on
    T_search against individuals evaluated, new best algorithms, T_select
    checks and experiments marked; several RUN_DIRs are overlaid (e.g.
    evolution against random search). Needs matplotlib:
    pip install "automl-zero[plot]"."""
    from automl_zero.run.plot import plot_runs

    try:
        out = plot_runs(run_dirs, output, x=x_axis, title=title, labels=labels or None)
    except AutoMLZeroError as err:
        raise _fail(err) from None
    click.echo(f"wrote {out}")


@cli.command("compare")
@click.argument("programs", metavar="[PROGRAM]...", nargs=-1,
                type=click.Path(path_type=Path))
@click.option("--config", "config_path", required=True, type=click.Path(path_type=Path),
              help="Config whose task collection is used, e.g. configs/demo_linear.toml.")
@click.option("--tasks", "which", type=click.Choice(TASK_COLLECTIONS), default=None,
              help="Task collection (default: final if the config has final tasks, "
                   "else select).")
@click.option("--baselines", default=None, metavar="NAMES",
              help="Comma-separated: linear, logistic, neural_net (hand-designed "
                   "programs), sklearn_linear (RidgeCV / LogisticRegression), "
                   "sklearn_mlp (MLPRegressor / MLPClassifier), or none. Default: "
                   "the ones that fit the tasks' type.")
@click.option("--learning-rate", type=click.FloatRange(min=0, min_open=True),
              default=0.01, show_default=True,
              help="Learning rate of the hand-designed programs (the original's "
                   "default).")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the programs' random-init ops.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a config key, e.g. --set final_tasks.0.num_tasks=10.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def compare_command(programs: tuple[Path, ...], config_path: Path, which: str | None,
                    baselines: str | None, learning_rate: float, seed: int,
                    overrides: tuple[str, ...], as_json: bool) -> None:
    """Compare PROGRAMs (files, or run directories: their best algorithm)
    with baselines on the same tasks: mean ± SEM of the executor's fitness
    over tasks, and the fraction of tasks on which each program beats each
    baseline. Baselines are the hand-designed programs and scikit-learn
    models fitted on each task's training examples, scored like programs."""
    from automl_zero.run import compare as cmp

    try:
        cfg = load_config(config_path, overrides)
        which = cmp.default_collection(cfg) if which is None else which
        tasks = make_tasks(cfg.tasks(which))
        loaded = [cmp.load_program(p, tasks[0].features_size) for p in programs]
        result = cmp.compare(loaded, cfg, which, cmp.parse_baselines(baselines, tasks),
                             learning_rate=learning_rate, seed=seed, tasks=tasks,
                             note=lambda text: click.echo(f"note: {text}", err=True))
    except (AutoMLZeroError, ValueError) as err:
        raise _fail(err) from None
    if as_json:
        click.echo(json.dumps(result.to_dict()))
    else:
        click.echo(result.format())


@cli.command("export")
@click.argument("program", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["python"]), default="python",
              show_default=True, help="What to write: a standalone Python module.")
@click.option("-o", "--out", "out_path", type=click.Path(path_type=Path), required=True,
              help="The module to write, e.g. evolved_model.py.")
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=None,
              help="Config of the search: features size, task type (regression or "
                   "classification), epochs and memory are taken from its search tasks.")
@click.option("--features", "features_size", type=click.IntRange(1), default=None,
              help="Number of input features (without --config; overrides it).")
@click.option("--kind", type=click.Choice(["regression", "binary", "multiclass"]),
              default=None,
              help="Estimator kind: a regressor, a binary classifier (prediction s1) "
                   "or a multi-class one (prediction v2, labels in v1; docs/export.md). "
                   "Default: from the config's tasks, else regression.")
@click.option("--classification/--regression", default=None,
              help="Same as --kind binary / --kind regression.")
@click.option("--epochs", type=click.IntRange(1), default=None,
              help="Passes over the training data in fit (default: the config's, else 1).")
def export_command(program: Path, fmt: str, out_path: Path, config_path: Path | None,
                   features_size: int | None, kind: str | None,
                   classification: bool | None, epochs: int | None) -> None:
    """Write PROGRAM (a program file or a run directory's best algorithm) as a
    standalone NumPy module holding a scikit-learn–compatible estimator
    (docs/export.md)."""
    from automl_zero.export import export_python
    from automl_zero.run.compare import load_program
    from automl_zero.tasks import EvalType

    try:
        cfg = load_config(config_path) if config_path is not None else None
        spec = cfg.tasks("search")[0] if cfg is not None else None
        path, alg = load_program(program, spec.features_size if spec else None)
        if kind is None and classification is not None:
            kind = "binary" if classification else "regression"
        memory = None
        if cfg is not None and spec is not None:
            features_size = features_size or spec.features_size
            if kind is None:
                kind = {EvalType.ACCURACY: "binary",
                        EvalType.MULTICLASS_ACCURACY: "multiclass"}.get(spec.eval_type,
                                                                        "regression")
            epochs = epochs or spec.num_train_epochs
            memory = cfg.memory.covering(alg)
        if features_size is None:
            raise ValueError("give --features N (the number of input features) "
                             "or --config")
        source = export_python(
            alg, features_size=features_size, memory=memory,
            classification=kind or "regression", epochs=epochs or 1,
            info={"program": str(path), "config": str(config_path or "-")},
            module_name=_module_name(out_path))
        out_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = out_path.with_name(out_path.name + ".tmp")
        tmp.write_text(source)
        tmp.replace(out_path)
    except (AutoMLZeroError, ValueError, OSError) as err:
        raise _fail(err) from None
    what = {"binary": "Classifier", "multiclass": "Classifier"}.get(kind or "", "Regressor")
    extra = " (multi-class)" if kind == "multiclass" else ""
    click.echo(f"wrote {out_path}: an Evolved{what}{extra} for {features_size} "
               f"features (NumPy only; `from {_module_name(out_path)} import "
               f"Evolved{what}`)")


def _module_name(path: Path) -> str:
    """The import name of a module file (an identifier, else a stand-in)."""
    stem = path.stem
    return stem if stem.isidentifier() else "evolved_model"


@cli.group("experiment")
def experiment_group() -> None:
    """Reproduce the paper's experiments (results in docs/results.md)."""


@experiment_group.command("rs-vs-evolution")
@click.option("--setting", type=click.Choice(["linear", "affine", "linear_learn",
                                              "affine_learn"]),
              default="linear", show_default=True,
              help="What is searched: the whole linear or affine regressor, or only "
                   "its Learn function (configs/rs_vs_evolution*.toml).")
@click.option("--evaluations", type=click.IntRange(1), default=None,
              help="Random programs judged by random search (default: as many as "
                   "evolution spent, the paper's protocol).")
@click.option("--experiments", type=click.IntRange(1), default=100, show_default=True,
              help="Evolution experiments, each of at most max_individuals "
                   "evaluations, stopped at its first acceptable algorithm.")
@click.option("--seed", type=click.IntRange(0), default=1, show_default=True,
              help="Seed of both searches (results do not depend on --workers).")
@click.option("--workers", type=click.IntRange(1), default=1, show_default=True,
              help="Worker processes.")
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=None,
              help="Config of the setting (default: the repository's "
                   "configs/rs_vs_evolution*.toml file of --setting).")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a config key, e.g. --set max_individuals=100000.")
@click.option("--evaluate-all", is_flag=True,
              help="Run every random program, also those whose predictions cannot "
                   "depend on the labels (slower; same counts).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def rs_vs_evolution_command(setting: str, evaluations: int | None, experiments: int,
                            seed: int, workers: int, config_path: Path | None,
                            overrides: tuple[str, ...], evaluate_all: bool,
                            as_json: bool) -> None:
    """Evolution against random search (paper §4.1, Figure 4): the success
    rates of both at finding algorithms better than a hand-designed SGD
    regressor, with 95 % intervals, their ratio and the random-search
    difficulty."""
    from automl_zero.run.experiments import rs_vs_evolution as rve

    try:
        result = rve.run(setting, experiments=experiments, evaluations=evaluations,
                         seed=seed, workers=workers, config_path=config_path,
                         overrides=overrides, evaluate_all=evaluate_all,
                         progress=lambda text: click.echo(text, err=True))
    except (AutoMLZeroError, ValueError, OSError) as err:
        raise _fail(err) from None
    if as_json:
        click.echo(json.dumps(result.to_dict()))
    else:
        click.echo(result.format())


@experiment_group.command("rs-vs-evolution-figure")
@click.argument("results", metavar="RESULT.json...", nargs=-1, required=True,
                type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="Image file (.png, .pdf, .svg).")
@click.option("--title", default=None, help="Title (default: the paper's Figure 4).")
def rs_vs_evolution_figure_command(results: tuple[Path, ...], output: Path,
                                   title: str | None) -> None:
    """Draw `rs-vs-evolution --json` results: per file, the success rates of
    random search and evolution with their 95 % intervals and the ratio
    (the content of the paper's Figure 4)."""
    from automl_zero.run.experiments.rs_vs_evolution_figure import plot_results

    try:
        path = plot_results(results, output, title)
    except (AutoMLZeroError, ValueError, OSError) as err:
        raise _fail(err) from None
    click.echo(f"wrote {path}")


@cli.command("noise")
@click.argument("programs", metavar="PROGRAM...", nargs=-1, required=True,
                type=click.Path(path_type=Path))
@click.option("--features", "features_size", type=click.IntRange(1), default=None,
              help="Feature size; needed only to read integer const-set indices "
                   "(v3[5] = ...) of text programs.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def noise_command(programs: tuple[Path, ...], features_size: int | None,
                  as_json: bool) -> None:
    """Detect noise injected into hidden activations (paper §4.3) in each
    PROGRAM (a program file, or a run directory: its best algorithm),
    statically on its effective program; also input noise and whether the
    prediction is noisy (docs/analysis.md §3). One line per program."""
    from automl_zero.analysis.noise import detect_noise
    from automl_zero.run.compare import load_program

    try:
        loaded = [load_program(p, features_size) for p in programs]
    except (AutoMLZeroError, ValueError, OSError) as err:
        raise _fail(err) from None
    reports = [(label, detect_noise(alg)) for label, alg in loaded]
    if as_json:
        click.echo(json.dumps({"programs": [{"program": label, **r.to_dict()}
                                            for label, r in reports]}))
        return
    for label, r in reports:
        click.echo(f"{label}: {r.summary()}")


@cli.command("lr-decay")
@click.argument("programs", metavar="PROGRAM...", nargs=-1, required=True,
                type=click.Path(path_type=Path))
@click.option("--steps", type=click.IntRange(1), default=8000, show_default=True,
              help="Training steps to simulate the learning rate's map for "
                   "(examples x epochs: 800 x 10 in the fast-training experiment).")
@click.option("--factor", type=click.FloatRange(1.0, min_open=True), default=2.0,
              show_default=True,
              help="How much the step size must shrink from the first to the "
                   "last step to count as decay.")
@click.option("--features", "features_size", type=click.IntRange(1), default=None,
              help="Feature size: to read integer const-set indices (v3[5] = ...) "
                   "of text programs, and F for maps over vectors or matrices "
                   "(default 16).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def lr_decay_command(programs: tuple[Path, ...], steps: int, factor: float,
                     features_size: int | None, as_json: bool) -> None:
    """Detect learning-rate decay (paper §4.3, fast training) in each PROGRAM
    (a program file, or a run directory: its best algorithm), on its
    effective program: a step-size scalar that Learn rewrites by a fixed
    map of itself and constants, whose simulated value shrinks by at least
    --factor over --steps steps (docs/analysis.md §4). One line per program."""
    from automl_zero.analysis.lr_decay import DEFAULT_FEATURES_SIZE, detect_lr_decay
    from automl_zero.run.compare import load_program

    try:
        loaded = [load_program(p, features_size) for p in programs]
    except (AutoMLZeroError, ValueError, OSError) as err:
        raise _fail(err) from None
    reports = [(label, detect_lr_decay(alg, steps, factor=factor,
                                       features_size=features_size
                                       or DEFAULT_FEATURES_SIZE))
               for label, alg in loaded]
    if as_json:
        click.echo(json.dumps({"programs": [{"program": label, **r.to_dict()}
                                            for label, r in reports]}))
        return
    for label, r in reports:
        click.echo(f"{label}: {r.summary()}")


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``automl-zero`` command."""
    cli.main(args=argv, prog_name="automl-zero")


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
