"""The pure-NumPy runtime and the standalone export against the numba executor.

* The runtime's generator and epoch orders are the executor's.
* After ``fit``, the runtime's memory equals the executor's memory after
  training bit for bit (NaN payloads aside) (no validation passes: ``num_valid_examples=0``), for the
  hand-designed programs and for random programs (random ops included, same
  seed), on regression and ACCURACY tasks, 1 and 3 epochs.
* With one epoch, the fitness computed from the runtime's predictions on the
  validation examples equals the executor's fitness.
* The exported module, imported in an isolated interpreter where automl_zero
  cannot be imported, predicts exactly what the in-package estimator predicts.

The executor runs at F = 4 only (one kernel variant); the op statements are
checked at other feature sizes in test_numpy_ops.py.
"""

from __future__ import annotations

import ast
import math
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from helpers import random_program_around_sgd

from automl_zero.executor import MemorySpec, TaskBatch, execute
from automl_zero.export import export_python, program_model
from automl_zero.export.runtime import Xoshiro256Plus, generate_epochs
from automl_zero.language.algorithm import Algorithm
from automl_zero.language.generator import (
    linear_algorithm,
    neural_net_algorithm,
    random_algorithm,
)
from automl_zero.language.instruction import Instruction
from automl_zero.language.ops import OPS
from automl_zero.sklearn import EvolvedClassifier, EvolvedRegressor
from automl_zero.tasks import EvalType, Task
from automl_zero.tasks import generate_epochs as task_generate_epochs

F = 4
MEMORY = MemorySpec(6, 9, 3)  # covers the neural net (5/9/2)
GEN_SIZES = (6, 6, 3)  # addresses of the random programs
N_TRAIN, N_VALID = 40, 15
ALL_CODES = tuple(op.code for op in OPS)


def _data(seed: int, classification: bool):
    r = np.random.default_rng(seed)
    X, Xv = r.normal(size=(N_TRAIN, F)), r.normal(size=(N_VALID, F))
    w = r.normal(size=F)
    if classification:
        return X, (X @ w > 0).astype(float), Xv, (Xv @ w > 0).astype(float)
    return X, X @ w + 0.1 * r.normal(size=N_TRAIN), Xv, Xv @ w + 0.1 * r.normal(size=N_VALID)


def _random_programs(count: int, seed: int) -> list[Algorithm]:
    """Random programs over all ops (random ops included), and random programs
    around an SGD core that sometimes write s0 and v0."""
    r = np.random.default_rng(seed)
    programs = []
    for k in range(count):
        if k % 3 == 2:
            programs.append(random_program_around_sgd(r, GEN_SIZES))
        else:
            sizes = (int(r.integers(0, 5)), int(r.integers(1, 7)), int(r.integers(0, 9)))
            programs.append(random_algorithm(sizes, (ALL_CODES,) * 3, GEN_SIZES, r))
    return programs


HAND_DESIGNED = [linear_algorithm(0.05), neural_net_algorithm()]
RANDOM_PROGRAMS = _random_programs(60, seed=2024)


def _is_random(alg: Algorithm) -> bool:
    return any(OPS[ins.op].random for c in alg.components for ins in c)


# --------------------------------------------------------------------------
# Generator and epoch orders.
# --------------------------------------------------------------------------


def test_generator_draws_are_the_kernels() -> None:
    from automl_zero.executor._kernel import _gaussian, _seed_rng, _uniform01

    for seed in (0, 1, 235732282, 2**32 - 1):
        state = (np.zeros(4, dtype=np.uint64), np.zeros(2))
        _seed_rng(state, seed)
        ours = Xoshiro256Plus(seed)
        assert ours.state == [int(x) for x in state[0]]
        for k in range(300):
            if k % 3 == 0:
                assert ours.uniform01() == _uniform01(state[0])
            else:  # odd runs of normals leave a cached value behind
                assert ours.normal() == _gaussian(state)


@pytest.mark.parametrize("n,epochs,seed", [(1, 3, 0), (7, 4, 5), (40, 3, 2**32 + 17)])
def test_epoch_orders_are_the_executors(n: int, epochs: int, seed: int) -> None:
    np.testing.assert_array_equal(generate_epochs(n, epochs, seed),
                                  task_generate_epochs(n, epochs, seed))


# --------------------------------------------------------------------------
# Memory after training and fitness.
# --------------------------------------------------------------------------


def _fit_runtime(alg: Algorithm, X, y, classification: bool, epochs: int, seed: int,
                 data_seed: int):
    return program_model(alg, memory=MEMORY.sizes, classification=classification,
                         epochs=epochs, random_state=seed, epoch_seed=data_seed).fit(X, y)


def _assert_memory_equal(alg: Algorithm, model, result, p: int, what: str) -> None:
    banks = [x[p, 0] for x in result.final_memory]
    for name, got, want in zip("svm", model.memory, banks, strict=True):
        assert got.shape == want.shape, (what, name)
        # Bit-identical (signs of zeros included); only NaN payloads and signs
        # may differ.
        np.testing.assert_array_equal(got, want, err_msg=f"{what}: bank {name} of\n{alg}")
        numbers = ~np.isnan(want)
        np.testing.assert_array_equal(np.signbit(got[numbers]), np.signbit(want[numbers]),
                                      err_msg=f"{what}: signs in bank {name} of\n{alg}")
    assert model.train_steps == result.train_steps[p], what


@pytest.mark.parametrize("epochs", [1, 3])
@pytest.mark.parametrize("eval_type", [EvalType.RMS_ERROR, EvalType.ACCURACY])
def test_memory_after_fit_equals_executor(eval_type: EvalType, epochs: int) -> None:
    classification = eval_type == EvalType.ACCURACY
    data_seed = 7 + epochs
    X, y, Xv, yv = _data(data_seed, classification)
    task = Task.from_arrays(X, y, Xv, yv, eval_type, num_train_epochs=epochs,
                            seed=data_seed)
    programs = HAND_DESIGNED + RANDOM_PROGRAMS
    seeds = [1000 + p for p in range(len(programs))]
    result = execute(programs, TaskBatch.from_tasks([task]), MEMORY, seeds=seeds,
                     num_valid_examples=0, return_memory=True)
    completed = 0
    for p, alg in enumerate(programs):
        model = _fit_runtime(alg, X, y, classification, epochs, seeds[p], data_seed)
        _assert_memory_equal(alg, model, result, p, f"program {p}")
        completed += not model.diverged
    # The comparison means something: most programs train to the end.
    assert completed >= len(programs) // 2


@pytest.mark.parametrize("eval_type", [EvalType.RMS_ERROR, EvalType.ACCURACY])
def test_fitness_from_runtime_predictions_equals_executor(eval_type: EvalType) -> None:
    classification = eval_type == EvalType.ACCURACY
    data_seed = 31
    X, y, Xv, yv = _data(data_seed, classification)
    task = Task.from_arrays(X, y, Xv, yv, eval_type, num_train_epochs=1, seed=data_seed)
    programs = HAND_DESIGNED + RANDOM_PROGRAMS
    seeds = [77 * p + 3 for p in range(len(programs))]
    fitness = execute(programs, TaskBatch.from_tasks([task]), MEMORY, seeds=seeds).fitness
    scored = 0
    for p, alg in enumerate(programs):
        model = _fit_runtime(alg, X, y, classification, 1, seeds[p], data_seed)
        pred = model.predict(Xv)
        if model.diverged:
            expected = 0.0  # training stopped in the first epoch
        elif classification:
            expected = float(np.mean((yv > 0.5) == (pred > 0.5)))
        elif not np.all(np.abs(yv - pred) <= 100.0):
            expected = 0.0  # the validation stops: fitness 0 in the first epoch
        else:
            rms = math.sqrt(float(np.mean((yv - pred) ** 2)))
            expected = 1.0 - 2.0 / math.pi * math.atan(rms) if math.isfinite(rms) else 0.0
            scored += 1
        assert fitness[p, 0] == pytest.approx(expected, rel=1e-9, abs=1e-12), \
            f"program {p}:\n{alg}"
    if not classification:
        assert scored >= 10


@pytest.mark.parametrize("eval_type", [EvalType.RMS_ERROR, EvalType.ACCURACY])
def test_runtime_predictions_equal_automl_zero_predict(eval_type: EvalType) -> None:
    """The estimator's predictions on new rows are the executor's predictions
    of those rows (``automl_zero.predict``, which runs the kernel) — one epoch,
    so the executor's only validation pass is the prediction of the rows."""
    import automl_zero as az

    classification = eval_type == EvalType.ACCURACY
    data_seed = 12
    X, y, Xv, _ = _data(data_seed, classification)
    task = Task.from_arrays(X, y, Xv, np.zeros(len(Xv)), eval_type, num_train_epochs=1,
                            seed=data_seed)
    programs = HAND_DESIGNED + RANDOM_PROGRAMS
    finite = 0
    for p, alg in enumerate(programs):
        seed = 5 * p + 1
        model = _fit_runtime(alg, X, y, classification, 1, seed, data_seed)
        got = model.predict(Xv)
        want = az.predict(alg, task, Xv, memory=MEMORY, seed=seed)
        if model.diverged:
            assert np.isnan(want).all(), f"program {p}:\n{alg}"
            continue
        # The kernel stops at a NaN prediction (NaN after it); before: equal.
        stop = int(np.argmax(np.isnan(got))) + 1 if np.isnan(got).any() else len(got)
        np.testing.assert_array_equal(got[:stop], want[:stop], err_msg=f"program {p}:\n{alg}")
        finite += bool(np.isfinite(got).all())
    assert finite >= len(programs) // 3


def test_hand_designed_programs_learn() -> None:
    X, y, Xv, yv = _data(3, classification=False)
    model = _fit_runtime(linear_algorithm(0.05), X, y, False, 5, 0, 0)
    assert np.sqrt(np.mean((model.predict(Xv) - yv) ** 2)) < 0.5 * np.std(yv)
    X, y, Xv, yv = _data(3, classification=True)
    model = _fit_runtime(neural_net_algorithm(0.1), X, y, True, 10, 0, 0)
    assert np.mean((model.predict(Xv) > 0.5) == yv) > 0.7


# --------------------------------------------------------------------------
# The exported module.
# --------------------------------------------------------------------------


def _constants_program() -> Algorithm:
    """Every kind of constant (negative, -0.0, inf, NaN, index codes) and F."""
    make = Instruction.make
    return Algorithm(
        (make("SCALAR_CONST_SET_OP", out=2, data=(-0.0,)),
         make("SCALAR_CONST_SET_OP", out=3, data=(math.inf,)),
         make("SCALAR_CONST_SET_OP", out=4, data=(math.nan,)),
         make("SCALAR_CONST_SET_OP", out=5, data=(-0.05,)),
         make("VECTOR_CONST_SET_OP", out=1, data=(0.7, -1.5)),
         make("MATRIX_CONST_SET_OP", out=0, data=(0.2, 0.9, 0.5)),
         make("VECTOR_UNIFORM_SET_OP", out=2, data=(0.5, -0.5)),  # reversed: low
         make("MATRIX_UNIFORM_SET_OP", out=1, data=(-0.1, 0.1)),
         make("SCALAR_GAUSSIAN_SET_OP", out=2, data=(0.0, 1.0))),
        (make("MATRIX_VECTOR_PRODUCT_OP", out=3, in1=1, in2=0),
         make("VECTOR_MEAN_OP", out=1, in1=3),
         make("SCALAR_PRODUCT_OP", out=1, in1=1, in2=5),
         make("VECTOR_INNER_PRODUCT_OP", out=4, in1=1, in2=0),
         make("SCALAR_SUM_OP", out=1, in1=1, in2=4)),
        (make("SCALAR_DIFF_OP", out=4, in1=0, in2=1),
         make("SCALAR_PRODUCT_OP", out=4, in1=4, in2=5),
         make("SCALAR_VECTOR_PRODUCT_OP", out=4, in1=4, in2=0),
         make("VECTOR_DIFF_OP", out=1, in1=1, in2=4),
         make("MATRIX_ST_DEV_OP", out=3, in1=1)),
    )


EXPORT_CASES = [
    # name, program, classification, epochs, random_state
    ("linear_reg", linear_algorithm(0.05), False, 2, 0),
    ("net_clf", neural_net_algorithm(0.1), True, 3, 11),
    ("constants_reg", _constants_program(), False, 2, 5),
    ("random_reg", next(a for a in RANDOM_PROGRAMS if _is_random(a)), False, 1, 3),
]

_SUBPROCESS = textwrap.dedent('''
    """Runs in `python -I -S`: site-packages are added to sys.path without their
    .pth files, so automl_zero's editable install is not importable."""
    import importlib.util
    import sys

    site, here = sys.argv[1], sys.argv[2]
    sys.path.append(site)
    sys.path.insert(0, here)
    assert importlib.util.find_spec("automl_zero") is None, "automl_zero importable"
    import numpy as np

    X, y, Xt = (np.load(f"{here}/{k}.npy") for k in ("X", "y", "Xt"))
    for name in sys.argv[3:]:
        module = __import__(name)
        cls = getattr(module, "EvolvedClassifier", None) or module.EvolvedRegressor
        labels = (y > np.median(y)).astype(int) * 5 + 2 if cls.__name__ == "EvolvedClassifier" else y
        model = cls().fit(X, labels)
        out = {"predict": model.predict(Xt)}
        if hasattr(model, "predict_proba"):
            out["proba"] = model.predict_proba(Xt)
        try:
            model.predict(Xt[:, :-1])
        except ValueError as exc:
            assert "features" in str(exc), exc
        else:
            raise AssertionError("wrong feature count accepted")
        assert model.n_features_in_ == X.shape[1]
        assert cls(**model.get_params()).get_params() == model.get_params()
        np.savez(f"{here}/out_{name}.npz", **out)
    # scikit-learn works with the exported estimator without automl_zero.
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    module = __import__(sys.argv[3])
    scores = cross_val_score(make_pipeline(StandardScaler(), module.EvolvedRegressor()),
                             X, y, cv=3)
    assert np.all(np.isfinite(scores)), scores
    print("ok")
''')


def test_exported_module_predicts_as_in_package_estimator(tmp_path: Path) -> None:
    r = np.random.default_rng(5)
    X, Xt = r.normal(size=(60, F)), r.normal(size=(20, F))
    y = X @ r.normal(size=F) + 0.1 * r.normal(size=60)
    for name, arr in (("X", X), ("y", y), ("Xt", Xt)):
        np.save(tmp_path / f"{name}.npy", arr)
    expected = {}
    for name, alg, classification, epochs, seed in EXPORT_CASES:
        source = export_python(alg, features_size=F, classification=classification,
                               epochs=epochs, random_state=seed, module_name=name,
                               info={"source": "test"})
        (tmp_path / f"{name}.py").write_text(source)
        if classification:
            est = EvolvedClassifier(program=alg, epochs=epochs, random_state=seed)
            est.fit(X, (y > np.median(y)).astype(int) * 5 + 2)
            expected[name] = {"predict": est.predict(Xt), "proba": est.predict_proba(Xt)}
        else:
            est = EvolvedRegressor(program=alg, epochs=epochs, random_state=seed).fit(X, y)
            expected[name] = {"predict": est.predict(Xt)}
    site = str(Path(np.__file__).resolve().parent.parent)
    script = tmp_path / "run_exported.py"
    script.write_text(_SUBPROCESS)
    proc = subprocess.run(
        [sys.executable, "-I", "-S", str(script), site, str(tmp_path),
         *[case[0] for case in EXPORT_CASES]],
        capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"
    for name, want in expected.items():
        got = np.load(tmp_path / f"out_{name}.npz")
        assert set(got.files) == set(want), name
        for key, value in want.items():
            np.testing.assert_array_equal(got[key], value, err_msg=f"{name} {key}")
    assert np.all(np.isfinite(expected["linear_reg"]["predict"]))
    assert set(expected["net_clf"]["predict"]) <= {2, 7}


def test_exported_module_layout() -> None:
    alg = neural_net_algorithm()
    source = export_python(alg, features_size=F, classification=True, epochs=2,
                           info={"fitness": 0.75, "run": 'a """ quoted\nname'})
    tree = ast.parse(source)
    doc = ast.get_docstring(tree)
    for line in alg.to_text().splitlines():
        assert line in doc  # the program in the paper's notation
    assert "fitness: 0.75" in doc and "EvolvedClassifier" in doc
    # Module-level imports: numpy and math only.
    imported = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            imported |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module)
    assert imported == {"__future__", "math", "numpy"}
    names = {node.name for node in tree.body
             if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    assert {"setup", "predict", "learn", "EvolvedClassifier", "ProgramModel",
            "Xoshiro256Plus"} <= names
    assert "EvolvedRegressor" not in names
    # Each instruction appears as its printed form and its NumPy statement.
    for component in alg.components:
        for ins in component:
            assert f"    # {ins}\n" in source
    assert "    v[3] = matvec(m[0], v[0])\n" in source
    assert "    s[4] = s[0] - s[1]\n" in source


def test_export_refuses_bad_arguments() -> None:
    alg = linear_algorithm()
    with pytest.raises(ValueError, match="features_size"):
        export_python(alg, features_size=0)
    with pytest.raises(ValueError, match="epochs"):
        export_python(alg, features_size=2, epochs=0)
    with pytest.raises(ValueError, match="max_abs_error"):
        export_python(alg, features_size=2, max_abs_error=math.nan)
    with pytest.raises(TypeError):
        export_python(alg.to_text(), features_size=2)


def test_export_memory_covers_the_program() -> None:
    alg = neural_net_algorithm()  # uses 5 / 9 / 2 addresses
    assert "MEMORY_SIZES = (5, 9, 2)" in export_python(alg, features_size=2)
    assert "MEMORY_SIZES = (20, 9, 3)" in export_python(alg, features_size=2,
                                                        memory=(20, 3, 3))
    assert "MEMORY_SIZES = (6, 9, 3)" in export_python(alg, features_size=2, memory=MEMORY)


def test_cli_export_writes_an_importable_module(tmp_path: Path) -> None:
    """`automl-zero export` with a config: features, task kind and memory from
    its search tasks; the module imports and trains."""
    from click.testing import CliRunner

    from automl_zero.language.algorithm_io import save_algorithm
    from automl_zero.run.cli import cli

    program = tmp_path / "linear.txt"
    save_algorithm(linear_algorithm(0.05), program)
    out = tmp_path / "evolved_lin.py"
    r = CliRunner().invoke(cli, ["export", str(program), "--config",
                                 "configs/demo_linear.toml", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "EvolvedRegressor for 4 features" in r.output
    namespace: dict = {}
    exec(compile(out.read_text(), str(out), "exec"), namespace)  # our own output
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    y = X @ np.array([1.0, -2.0, 0.5, 0.0])
    model = namespace["EvolvedRegressor"]().fit(X, y)
    assert model.score(X, y) > 0.99
    with pytest.raises(ValueError, match="features"):
        model.predict(X[:, :3])


@pytest.mark.parametrize("args, words", [
    (["--features", "0"], "--features"),
    ([], "--features N"),
    (["--config", "nope.toml"], "nope.toml"),
])
def test_cli_export_errors_are_one_line(tmp_path: Path, args, words) -> None:
    from click.testing import CliRunner

    from automl_zero.language.algorithm_io import save_algorithm
    from automl_zero.run.cli import cli

    program = tmp_path / "linear.txt"
    save_algorithm(linear_algorithm(0.05), program)
    r = CliRunner().invoke(cli, ["export", str(program), "-o", str(tmp_path / "m.py"),
                                 *args])
    assert r.exit_code == 2
    assert words in r.output and "Traceback" not in r.output


def test_cli_export_missing_program(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from automl_zero.run.cli import cli

    r = CliRunner().invoke(cli, ["export", str(tmp_path / "none.txt"), "--features", "4",
                                 "-o", str(tmp_path / "m.py")])
    assert r.exit_code == 2 and "none.txt" in r.output and "Traceback" not in r.output
