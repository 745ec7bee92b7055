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
    assert cfg.tasks("search")
    assert cfg.to_dict()
    # the resolved dict reads back to the same config
    assert config_from_dict(cfg.to_dict(), str(path), path.parent) == cfg


def test_demo_configs_mirror_run_demo():
    original = load_config("configs/demo_linear_original.toml")
    islands = load_config("configs/demo_linear.toml")
    # the islands demo: the original's budget per experiment over 4 islands
    assert islands.islands == 4 and original.islands == 1
    assert islands.max_train_steps * islands.islands == original.max_train_steps
    assert islands.select_every == 10000 and original.select_every == 0
    same = {"islands", "max_train_steps", "select_every"}
    a, b = original.to_dict(), islands.to_dict()
    assert {k: v for k, v in a.items() if k not in same} == {
        k: v for k, v in b.items() if k not in same}
    cfg = original
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
    ("mutate_prob = 1.5\n", "mutate_prob: must be <= 1, got 1.5"),
    ("setup_ops = ['SCALAR_SUMM_OP']\n", "setup_ops[0]: unknown op 'SCALAR_SUMM_OP'"),
    ("initial_population = 'EMPTY'\n", "initial_population: must be one of"),
    ("allowed_mutation_types = ['FLIP']\n", "allowed_mutation_types[0]: must be one of"),
    ("fitness_combination_mode = 'MAX'\n", "fitness_combination_mode: must be one of"),
    ("num_vector_addresses = 0\n", "num_vector_addresses: must be >= 1 (v0 features)"),
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
    with pytest.raises(ConfigError, match=r"--set final_tasks.5.num_tasks=3: no element 5 "
                                          r"in 'final_tasks' \(it has 1: 0..0\)"):
        load_config("configs/demo_linear.toml", ["final_tasks.5.num_tasks=3"])
    with pytest.raises(ConfigError, match=r"^--set populationsize=3: unknown key "
                                          r"'populationsize' \(did you mean 'population_size'"):
        load_config("configs/demo_linear.toml", ["populationsize=3"])


def test_missing_collection_is_reported():
    cfg = config_from_dict({"num_scalar_addresses": 4}, "x.toml")
    with pytest.raises(ConfigError, match=r"no \[\[final_tasks\]\]"):
        cfg.tasks("final")


# --------------------------------------------------------------------------
# Files, overrides and absurd settings: one ConfigError naming the file or
# the override and the key.


def test_config_file_problems_name_the_file(tmp_path):
    latin1 = tmp_path / "latin1.toml"
    latin1.write_bytes(b"# caf\xe9\n" + BASE.encode())
    with pytest.raises(ConfigError, match=r"latin1\.toml: not a UTF-8 text file"):
        load_config(latin1)
    bom = tmp_path / "bom.toml"
    bom.write_bytes(b"\xef\xbb\xbf" + BASE.encode())
    assert load_config(bom).num_scalar_addresses == 4
    with pytest.raises(ConfigError, match="is a directory, not a config file"):
        load_config(tmp_path)
    for name, text, message in (
            ("big.toml", "x = 1" + "0" * 5000 + "\n", "invalid TOML: "),
            ("deep.toml", "x = " + "[" * 100_000 + "]" * 100_000 + "\n", "invalid TOML: "),
            ("nul.toml", "x = 1\x00\n", "not a text file (NUL byte at byte 5)")):
        path = tmp_path / name
        path.write_text(text)
        with pytest.raises(ConfigError) as err:
            load_config(path)
        assert str(err.value).startswith(f"{path}: {message}")
        assert len(str(err.value)) < 300


@pytest.mark.parametrize("key", ["engine", "structural_cache"])
def test_removed_keys_are_refused_with_what_to_do(tmp_path, key):
    value = "'OBJECT'" if key == "engine" else "true"
    path = _write(tmp_path, f"{key} = {value}\n" + BASE)
    with pytest.raises(ConfigError, match=rf"c\.toml: {key}: this key was removed: .*"
                                          rf"delete the key"):
        load_config(path)
    with pytest.raises(ConfigError, match=rf"^--set {key}=.*: {key}: this key was removed"):
        load_config(_write(tmp_path, BASE), [f"{key}={value}"])
    # Configs saved by older versions (run directories) can be read leniently.
    cfg = config_from_dict({key: True, "num_scalar_addresses": 4}, "old.json",
                           ignore_removed=True)
    assert cfg.num_scalar_addresses == 4 and not hasattr(cfg, key)


DEMO = "configs/demo_linear.toml"


@pytest.mark.parametrize(("override", "message"), [
    ("population_size=abc", "population_size: must be an integer, got 'abc'"),
    ("population_size=0", "population_size: must be >= 1, got 0"),
    ("populationsize=3", "unknown key 'populationsize' (did you mean 'population_size'?)"),
    ("population_size.x=3", "'population_size' is a value, not a table or array"),
    ("fec=3", "fec: must be a table, got 3"),
    ("fec.size=3", "fec: unknown key 'size'"),
    ("fec.cache_sise=3", "fec: unknown key 'cache_sise' (did you mean 'cache_size'?)"),
    ("fec.forget_every=1", "fec.forget_every: must be 0 (off) or > 1, got 1"),
    ("search_tasks.x.num_tasks=3", "no element x in 'search_tasks' (it has 1: 0..0)"),
    ("search_tasks.\u0661.num_tasks=3", "no element \u0661 in 'search_tasks'"),
    ("search_tasks." + "9" * 5000 + ".num_tasks=3", "no element 9999"),
    ("search_tasks.0.num_tasks=-3",
     "search_tasks[0].num_tasks: must be a positive integer, got -3"),
    ("search_tasks[0].features_size=1001",
     "search_tasks[0].features_size: 1001 is more than the executor supports: at most 1000"),
    ("search_tasks.0.foo=1", "search_tasks[0].foo: unknown key"),
    ("population_size=1" + "0" * 5000, "cannot read the value"),
    ("mutate_setup_size_min=100", "mutate_setup_size_min (100) > mutate_setup_size_max"),
    ("num_scalar_addresses=70000",
     "num_scalar_addresses: must be <= 65536 (addresses are 16-bit: 0..65535), got 70000"),
    ("mutate_prob=nan", "mutate_prob: must not be NaN"),
    ("initial_population='rand\u00f6m_algorithm'", "initial_population: must be one of"),
    ("setup_ops=['\u017fcalar_sum_op']", "setup_ops[0]: unknown op 'ſcalar_sum_op'"),
])
def test_override_errors_name_the_override(override, message):
    overrides = ["population_size=50", override]
    if override.startswith("mutate_setup_size_min"):
        overrides.append("mutate_setup_size_max=10")
    with pytest.raises(ConfigError) as err:
        load_config(DEMO, overrides)
    text = str(err.value)
    assert text.startswith(f"--set {override[:79]}"), text
    assert "--set population_size=50" not in text
    assert DEMO not in text
    assert message in text
    assert len(text) < 600


def test_override_syntax_errors():
    for override in ("population_size", "=3", "a..b=3", ".x=1"):
        with pytest.raises(ConfigError, match=r"^--set "):
            apply_overrides({}, [override])
    with pytest.raises(ConfigError, match=r"no table 'search_tasks' in the config"):
        apply_overrides({}, ["search_tasks.0.num_tasks=3"])


def test_file_errors_still_name_the_file_when_overrides_are_given(tmp_path):
    path = _write(tmp_path, "population_size = 'ten'\n" + BASE)
    with pytest.raises(ConfigError, match=rf"^{path}: population_size: must be an integer"):
        load_config(path, ["tournament_size=3"])


def test_config_from_dict_needs_a_table():
    with pytest.raises(ConfigError, match="x: a config must be a table of keys"):
        config_from_dict([1, 2], "x")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"x: unknown key 3"):
        config_from_dict({3: 4}, "x")


# Absurd sizes are refused before anything is allocated, with the memory they
# would need (far beyond any machine's memory, so these hold everywhere).


def _memory_error(overrides: list[str]) -> str:
    with pytest.raises(ConfigError) as err:
        load_config(DEMO, overrides)
    text = str(err.value)
    assert "would need" in text and "of memory, more than the" in text
    assert "of this machine" in text and len(text) < 800
    return text


def test_memory_sizes_that_cannot_fit_are_refused():
    from automl_zero.config import executor_lane_bytes
    from automl_zero.errors import format_bytes
    sets = [f"{c}_tasks.0.features_size=1000" for c in ("search", "select", "final")]
    text = _memory_error(["num_matrix_addresses=65536", *sets])
    need = executor_lane_bytes((4, 3, 65536), 1000)
    assert need == 8 * (2 * (4 + 3 * 1000 + 65536 * 1000**2) + 1000 + 2 * 1000**2 + 12)
    assert text.startswith("--set num_matrix_addresses=65536, --set "
                           "search_tasks.0.features_size=1000: ")
    # All of the demo's 10 search tasks run in lockstep, one lane each.
    assert f"10 task lane(s) of {need:,} bytes" in text
    assert f"would need {format_bytes(10 * need)} of memory" in text


@pytest.mark.parametrize(("override", "message"), [
    ("population_size=1000000000000", "population_size = 1000000000000 programs of up to "
                                      "20 instructions"),
    ("batch_size=1000000000000", "batch_size = 1000000000000 children"),
    ("tournament_size=1000000000000", "tournament_size = 1000000000000 draws each"),
    ("setup_size_init=1000000000000", "setup_size_init = 1000000000000"),
    ("search_tasks.0.num_tasks=1000000000000", "search_tasks[0]: 1000000000000 task(s)"),
    ("select_tasks.0.num_train_examples=1000000000000",
     "select_tasks[0]: 100 task(s) of 1000000000000 train examples"),
    ("final_tasks.0.num_train_epochs=1000000000000", "x 1000000000000 epoch(s)"),
    ("fec.num_train_examples=1000000000000", "fec.num_train_examples"),
])
def test_absurd_sizes_are_refused_with_the_memory_they_need(override, message):
    text = _memory_error([override])
    assert text.startswith(f"--set {override}: ")
    assert message in text


def test_random_search_keeps_no_population():
    cfg = load_config(DEMO, ["method=RANDOM_SEARCH", "population_size=1000000000000"])
    assert cfg.population_size == 10**12


def test_ops_that_cannot_be_written_with_this_memory_are_refused():
    with pytest.raises(ConfigError, match=r"setup_ops: SCALAR_VECTOR_PRODUCT_OP writes a "
                                          r"vector, but memory has no vector address"):
        load_config("configs/demo_linear.toml", ["num_vector_addresses=1"])
    with pytest.raises(ConfigError, match=r"setup_ops: MATRIX_GAUSSIAN_SET_OP writes a "
                                          r"matrix, but memory has no matrix address"):
        load_config("configs/baseline_digits.toml", ["num_matrix_addresses=0"])
