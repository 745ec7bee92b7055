"""Config loading, validation and overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from automl_zero.config import apply_overrides, config_from_dict, load_config
from automl_zero.errors import ConfigError

CONFIGS = sorted(Path("configs").glob("*.toml"))


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_shipped_configs_load(path):
    cfg = load_config(path)
    assert cfg.search_tasks
    assert cfg.to_dict()
    # the resolved dict reads back to the same config
    assert config_from_dict(cfg.to_dict(), str(path), path.parent) == cfg


def test_demo_config_mirrors_run_demo():
    cfg = load_config("configs/demo_linear.toml")
    assert cfg.memory.sizes == (4, 3, 1)
    assert cfg.size_init == (10, 2, 8)
    assert cfg.population_size == 1000 and cfg.tournament_size == 10
    assert cfg.max_train_steps == 200_000_000
    assert cfg.fec is not None and cfg.fec.num_train_examples == 10
    assert cfg.fec.cache_size == 100000 and cfg.fec.forget_every == 100
    assert cfg.initial_population == "RANDOM_ALGORITHM"
    assert cfg.sufficient_fitness == 0.9999 and cfg.max_experiments == 0
    assert cfg.randomize_task_seeds
    assert len(cfg.setup_ops) == 6 and cfg.setup_ops == cfg.learn_ops
    assert cfg.search_tasks[0].num_tasks == 10
    assert cfg.final_tasks[0].data_seeds == (1000000,)
    assert cfg.max_abs_error == 100.0  # default of the original


def _write(tmp_path, text):
    p = tmp_path / "c.toml"
    p.write_text(text)
    return p


BASE = """
num_scalar_addresses = 4
[[search_tasks]]
task_type = "scalar_linear_regression_task"
features_size = 4
num_train_examples = 10
num_valid_examples = 10
"""


@pytest.mark.parametrize("text, message", [
    ("populaton_size = 3\n", "unknown key 'populaton_size' (did you mean 'population_size'?)"),
    ("population_size = 'ten'\n", "population_size: must be an integer"),
    ("mutate_prob = 1.5\n", "mutate_prob must be in [0, 1]"),
    ("setup_ops = ['SCALAR_SUMM_OP']\n", "setup_ops[0]: unknown op 'SCALAR_SUMM_OP'"),
    ("initial_population = 'EMPTY'\n", "initial_population: must be one of"),
    ("allowed_mutation_types = ['FLIP']\n", "allowed_mutation_types[0]: must be one of"),
    ("fitness_combination_mode = 'MAX'\n", "fitness_combination_mode: must be one of"),
    ("num_vector_addresses = 0\n", "num_vector_addresses must be >= 1"),
    ("randomize_task_seeds = 1\n", "randomize_task_seeds: must be true or false"),
    ("[fec]\nnum_train_examples = 10\n", "fec: missing required key(s) num_valid_examples"),
    ("[fec]\nnum_train_examples = 10\nnum_valid_examples = 10\nsize = 3\n",
     "fec: unknown key 'size'"),
    ("[train_budget]\ntrain_budget_threshold_factor = -1.0\n",
     "train_budget.train_budget_threshold_factor: must be > 0"),
    ("[[final_tasks]]\ntask_type = 'scalar_linear_regression_task'\nfeatures_size = 4\n"
     "num_train_examples = -3\nnum_valid_examples = 5\n", "final_tasks[0].num_train_examples"),
])
def test_bad_configs_name_the_key(tmp_path, text, message):
    # keys must precede the [[search_tasks]] table in TOML
    path = _write(tmp_path, text + BASE if not text.startswith("[") else BASE + text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert message in str(err.value)
    assert str(path) in str(err.value)


def test_invalid_toml_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(_write(tmp_path, "x = = 3"))
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.toml")


def test_overrides():
    cfg = load_config("configs/demo_linear.toml",
                      ["population_size=50", "fec.cache_size=1000",
                       "final_tasks.0.num_tasks=3", "search_tasks[0].num_train_examples=20",
                       "initial_population=NO_OP_ALGORITHM"])
    assert cfg.population_size == 50
    assert cfg.fec.cache_size == 1000
    assert cfg.final_tasks[0].num_tasks == 3
    assert cfg.search_tasks[0].num_train_examples == 20
    assert cfg.initial_population == "NO_OP_ALGORITHM"
    with pytest.raises(ConfigError, match="expected key=value"):
        apply_overrides({}, ["population_size"])
    with pytest.raises(ConfigError, match="no element 5"):
        load_config("configs/demo_linear.toml", ["final_tasks.5.num_tasks=3"])
    with pytest.raises(ConfigError, match="unknown key 'populationsize'"):
        load_config("configs/demo_linear.toml", ["populationsize=3"])


def test_missing_collection_is_reported():
    cfg = config_from_dict({"num_scalar_addresses": 4}, "x.toml")
    with pytest.raises(ConfigError, match=r"no \[\[final_tasks\]\]"):
        cfg.tasks("final")
