"""``automl-zero compare``: the executor's fitness for scikit-learn predictions,
known orderings of baselines, logistic regression, the command line."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from helpers import LINEAR_CONFIG

from automl_zero.config import load_config
from automl_zero.executor import MemorySpec, TaskBatch, execute
from automl_zero.language.algorithm_io import save_algorithm
from automl_zero.language.generator import (
    linear_algorithm,
    logistic_regression_algorithm,
    neural_net_algorithm,
)
from automl_zero.run.cli import cli
from automl_zero.run.compare import (
    compare,
    fitness_from_predictions,
    parse_baselines,
    sklearn_fitness,
)
from automl_zero.tasks import EvalType, Task, TaskSpec, make_tasks

# Five linear-regression tasks with few training examples (a small budget).
SMALL = ["final_tasks.0.num_tasks=5", "final_tasks.0.num_train_examples=200",
         "final_tasks.0.num_valid_examples=50"]


def linear_tasks(n: int = 3, train: int = 60, valid: int = 20, epochs: int = 1):
    return make_tasks([TaskSpec.from_dict({
        "task_type": "scalar_linear_regression_task", "features_size": 4,
        "num_train_examples": train, "num_valid_examples": valid, "num_tasks": n,
        "num_train_epochs": epochs, "eval_type": "RMS_ERROR"}, "test")])


def classification_tasks(n: int = 3) -> list[Task]:
    """Linearly separable-ish synthetic tasks (labels 0/1) with a bias."""
    rng = np.random.default_rng(5)
    tasks = []
    for i in range(n):
        w, b = rng.normal(size=4), rng.normal()
        x, vx = rng.normal(size=(200, 4)), rng.normal(size=(60, 4))
        flip = rng.random(200) < 0.1  # some label noise
        y = ((x @ w + b > 0) ^ flip).astype(float)
        vy = (vx @ w + b > 0).astype(float)
        tasks.append(Task.from_arrays(x, y, vx, vy, "ACCURACY", seed=i, index=i))
    return tasks


def test_fitness_from_predictions_equals_the_executors_on_regression():
    tasks = linear_tasks()
    batch = TaskBatch.from_tasks(tasks)
    programs = [linear_algorithm(0.05), linear_algorithm(0.001),
                linear_algorithm(40.0)]  # the last one diverges: fitness 0
    result = execute(programs, batch, MemorySpec(4, 3, 1), [0, 0, 0],
                     record_predictions=True)
    for p in range(len(programs)):
        for t, task in enumerate(tasks):
            ours = fitness_from_predictions(task.valid_labels,
                                            result.predictions[p, t], task.eval_type)
            assert ours == pytest.approx(result.fitness[p, t], abs=1e-12)
    assert result.fitness[2].max() == 0.0 and result.fitness[0].min() > 0.5


def test_fitness_from_predictions_equals_the_executors_on_classification():
    tasks = classification_tasks()
    batch = TaskBatch.from_tasks(tasks)
    alg = logistic_regression_algorithm(0.1)
    result = execute([alg], batch, MemorySpec(5, 3, 1), [0], return_memory=True)
    scalars, vectors, _ = result.final_memory
    for t, task in enumerate(tasks):
        logits = task.valid_features @ vectors[0, t, 1] + scalars[0, t, 4]
        ours = fitness_from_predictions(task.valid_labels, logits, EvalType.ACCURACY)
        assert ours == result.fitness[0, t]
        assert ours > 0.8


def test_fitness_from_predictions_reference_values():
    # docs/semantics.md §5.4: RMSE 0.1 gives 0.936549; logits +3 / -3 on
    # labels 1 score 1 and 0; NaN is the negative class; a too-large error 0.
    assert fitness_from_predictions([0.0, 0.0], [0.1, -0.1], "RMS_ERROR") == \
        pytest.approx(0.936549, abs=1e-6)
    assert fitness_from_predictions([1.0, 1.0], [3.0, 3.0], "ACCURACY") == 1.0
    assert fitness_from_predictions([1.0, 1.0], [-3.0, -3.0], "ACCURACY") == 0.0
    assert fitness_from_predictions([0.0, 1.0], [np.nan, np.inf], "ACCURACY") == 1.0
    assert fitness_from_predictions([0.0, 0.0], [0.0, 101.0], "RMS_ERROR") == 0.0
    assert fitness_from_predictions([0.0, 0.0], [0.0, 101.0], "RMS_ERROR",
                                    max_abs_error=1000) > 0.0


def test_linear_program_and_ridge_are_both_exact_on_noiseless_linear_tasks():
    tasks = linear_tasks(n=3, train=200, valid=50, epochs=3)
    for task in tasks:
        assert sklearn_fitness("sklearn_linear", task) > 0.99999
    result = execute([linear_algorithm(0.05)], TaskBatch.from_tasks(tasks),
                     MemorySpec(4, 3, 1), [0])
    assert result.fitness.min() > 0.9999


def test_sklearn_logistic_regression_scores_as_the_executor_would():
    from sklearn.linear_model import LogisticRegression

    for task in classification_tasks(2):
        model = LogisticRegression(max_iter=1000).fit(task.train_features,
                                                      task.train_labels.astype(int))
        accuracy = model.score(task.valid_features, task.valid_labels.astype(int))
        assert sklearn_fitness("sklearn_linear", task) == pytest.approx(accuracy)
        assert 0.8 < sklearn_fitness("sklearn_mlp", task) <= 1.0


def test_linear_regression_beats_the_network_at_a_small_budget(tmp_path):
    cfg = load_config(LINEAR_CONFIG, SMALL)
    linear = tmp_path / "linear.txt"
    save_algorithm(linear_algorithm(0.01), linear)
    from automl_zero.run.compare import load_program

    result = compare([load_program(linear, 4)], cfg)
    assert result.collection == "final" and result.num_tasks == 5
    by_name = {b.name: b for b in result.baselines}
    assert list(by_name) == ["linear", "neural_net", "sklearn_linear", "sklearn_mlp"]
    assert by_name["linear"].mean > by_name["neural_net"].mean
    assert by_name["sklearn_linear"].mean > 0.9999  # noiseless: exact
    # The program is the linear baseline itself: same seed, same fitness.
    program = result.programs[0]
    assert np.array_equal(program.per_task, by_name["linear"].per_task)
    assert result.wins(program, by_name["linear"]) == (0, 5, 0)
    assert result.wins(program, by_name["neural_net"])[0] == 5
    text = result.format()
    assert "linear.txt" in text and "± " in text and "100%" in text


def test_logistic_regression_beats_chance_on_projected_digits():
    tasks = make_tasks([TaskSpec.from_dict({
        "task_type": "projected_binary_classification_task", "dataset_name": "digits",
        "features_size": 4, "num_train_examples": 256, "num_valid_examples": 32,
        "num_tasks": 6, "eval_type": "ACCURACY"}, "test")])
    cfg = load_config(LINEAR_CONFIG)
    result = compare([], cfg, "final", ["logistic", "linear", "sklearn_linear"],
                     learning_rate=0.05, tasks=tasks)
    logistic = result.baselines[0]
    assert logistic.name == "logistic"
    assert logistic.mean > 0.75 and logistic.per_task.min() > 0.5
    assert result.baselines[2].mean > 0.75


def test_default_baselines_follow_the_task_type():
    assert parse_baselines(None, linear_tasks(1))[0] == "linear"
    assert parse_baselines(None, classification_tasks(1))[0] == "logistic"
    assert parse_baselines("none", linear_tasks(1)) == []
    assert parse_baselines("neural_net, linear", linear_tasks(1)) == ["neural_net",
                                                                     "linear"]


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_compare_command_json(tmp_path):
    program = tmp_path / "nn.txt"
    save_algorithm(neural_net_algorithm(0.01), program)  # needs memory 5/9/2
    args = ["compare", str(program), "--config", LINEAR_CONFIG, "--baselines",
            "linear,sklearn_linear", "--json", *sum((["--set", s] for s in SMALL), [])]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    line = [ln for ln in result.output.splitlines() if ln.startswith("{")][0]
    data = json.loads(line)
    assert data["tasks"] == "final" and data["num_tasks"] == 5
    assert [b["name"] for b in data["baselines"]] == ["linear", "sklearn_linear"]
    assert len(data["programs"][0]["per_task"]) == 5
    beats = {b["baseline"]: b for b in data["beats"]}
    assert beats["linear"]["wins"] + beats["linear"]["ties"] + \
        beats["linear"]["losses"] == 5
    assert "extended" in result.output  # the memory note (stderr)


@pytest.mark.parametrize("extra, message", [
    (["--baselines", "linear,ridge"], "unknown baseline 'ridge'"),
    (["nope.txt"], "nope.txt"),
    (["--tasks", "select", "--set", "select_tasks=[]"], "no [[select_tasks]]"),
])
def test_compare_errors_are_one_line(extra, message):
    result = run("compare", "--config", LINEAR_CONFIG, *extra)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_compare_a_directory_without_best_algorithm(tmp_path):
    result = run("compare", str(tmp_path), "--config", LINEAR_CONFIG)
    assert result.exit_code == 2 and "best_algorithm.json" in result.output


def test_example_logistic():
    result = run("example", "logistic", "--learning-rate", "0.2")
    assert result.exit_code == 0 and "s2 = 0.2" in result.output
    assert "s1 = s1 + s4" in result.output
