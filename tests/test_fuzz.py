"""Fuzz tests of every input path: program text, JSON programs, configs and
task specs. Whatever the input, only the package's own errors
(``AutoMLZeroError`` subclasses) come out, their messages stay one bounded
line, and whatever parses round-trips."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from automl_zero.config import (
    REMOVED_KEYS,
    Config,
    apply_overrides,
    config_from_dict,
    load_config,
)
from automl_zero.errors import AutoMLZeroError, ConfigError, ProgramParseError
from automl_zero.language.algorithm import Algorithm
from automl_zero.language.algorithm_io import load_algorithm
from automl_zero.language.json_format import dumps_algorithm, loads_algorithm
from automl_zero.language.text_format import format_algorithm, parse_algorithm
from automl_zero.tasks import TASK_TYPES, TaskSpec

ROOT = Path(__file__).resolve().parents[1]
PROGRAM = (ROOT / "examples" / "linear_regressor.txt").read_text()
PROGRAM_JSON = dumps_algorithm(parse_algorithm(PROGRAM))
DEMO = ROOT / "configs" / "demo_linear.toml"

# AUTOML_ZERO_FUZZ_EXAMPLES=5000 fuzzes deeper than the default run.
FUZZ = settings(max_examples=int(os.environ.get("AUTOML_ZERO_FUZZ_EXAMPLES", "300")),
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
# Longest error message allowed (messages quote at most 80 characters of input;
# the rest is fixed text such as lists of valid names).
MAX_MESSAGE = 1200


def check_message(err: AutoMLZeroError) -> None:
    """One line of bounded length."""
    message = str(err)
    assert message and "\n" not in message and len(message) <= MAX_MESSAGE, message


# --------------------------------------------------------------------------
# Strategies

# Every code point, surrogates and control characters included.
ANY_CHAR = st.characters(codec=None, exclude_categories=())
# Fragments that stress the tokenizer and the numbers.
FRAGMENTS = st.sampled_from([
    "0", "1", "9", ".", "-", "+", "e", "E", ";", "#", ":", "(", ")", "[", "]", ",",
    "=", " ", "\t", "\n", "\r", "\r\n", "s", "v", "m", "\x00", "\x0c", "\u0663",
    "\uff13", "\u00b2", "\u2028", "\u00a0", "\ufeff", "\ud800", "nan", "inf",
    "-inf", "def ", "def Learn():", "pass", "s" + "9" * 30, "1e999", "1" * 5000,
    "x" * 10_000, "dot(", "heaviside(", "v3[", "m2[0.5, ", "s4 = ", "{", "}", '"',
])
INSERTION = st.one_of(FRAGMENTS, ANY_CHAR, st.text(ANY_CHAR, max_size=6))


@st.composite
def mutated(draw: st.DrawFn, text: str, insertion: st.SearchStrategy[str] = INSERTION
            ) -> str:
    """``text`` after a few random insertions, deletions, replacements and
    duplications of characters."""
    chars = list(text)
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["insert", "delete", "replace", "duplicate"]))
        pos = draw(st.integers(0, len(chars)))
        if kind == "insert":
            chars[pos:pos] = list(draw(insertion))
        elif kind == "delete" and chars:
            del chars[pos:pos + draw(st.integers(1, 12))]
        elif kind == "replace" and chars:
            chars[min(pos, len(chars) - 1)] = draw(insertion)
        elif kind == "duplicate":
            chars[pos:pos] = chars[pos:pos + draw(st.integers(1, 40))]
    return "".join(chars)


SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(-2**70, 2**70),
    st.sampled_from([0, 1, -1, 2**31, 2**63, 10**30]),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.sampled_from(["RANDOM_ALGORITHM", "SCALAR_SUM_OP", "ACCURACY", "RMS_ERROR",
                     "nan", "inf", "digits", "npz", *TASK_TYPES]),
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


def _paths(obj: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(obj, dict):
        for key, value in obj.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            out += _paths(value, (*prefix, i))
    return out


@st.composite
def structurally_mutated(draw: st.DrawFn, obj: Any, keys: st.SearchStrategy[str],
                         values: st.SearchStrategy[Any] = JSON_VALUES) -> Any:
    """A deep copy of ``obj`` with a few values replaced, keys deleted or added."""
    obj = json.loads(json.dumps(obj))
    for _ in range(draw(st.integers(1, 4))):
        paths = _paths(obj)
        path = draw(st.sampled_from(paths[1:])) if len(paths) > 1 else ()
        if not path:
            continue
        parent = obj
        for step in path[:-1]:
            parent = parent[step]
        kind = draw(st.sampled_from(["replace", "delete", "add"]))
        if kind == "replace":
            parent[path[-1]] = draw(values)
        elif kind == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(keys)] = draw(values)
        else:
            parent.append(draw(values))
    return obj


# --------------------------------------------------------------------------
# Program text


def check_text(text: str, feature_size: int | None = None) -> Algorithm | None:
    try:
        alg = parse_algorithm(text, feature_size=feature_size)
    except ProgramParseError as err:
        check_message(err)
        return None
    assert parse_algorithm(format_algorithm(alg)) == alg
    assert loads_algorithm(dumps_algorithm(alg)) == alg
    return alg


def test_the_seed_program_parses():
    assert len(check_text(PROGRAM)) == 6


@FUZZ
@given(st.text(ANY_CHAR, max_size=200))
def test_random_unicode_text(text):
    check_text(text)


@FUZZ
@given(st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=200),
       st.sampled_from([None, 4]))
def test_random_printable_text(text, feature_size):
    check_text(text, feature_size)


@FUZZ
@given(mutated(PROGRAM), st.sampled_from([None, 1, 4, 1000]))
def test_mutated_programs(text, feature_size):
    check_text(text, feature_size)


@FUZZ
@given(st.lists(mutated("s3 = s0 - s1"), min_size=1, max_size=5))
def test_mutated_instructions(lines):
    check_text("def Learn():\n" + "\n".join(f"  {line}" for line in lines))


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300) | mutated(PROGRAM).map(lambda t: t.encode("utf-8",
                                                                        "surrogatepass")))
def test_random_files(content):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "program.txt"
        path.write_bytes(content)
        try:
            alg = load_algorithm(path)
        except ProgramParseError as err:
            check_message(err)
            assert str(path) in str(err)
        else:
            assert parse_algorithm(format_algorithm(alg)) == alg


# --------------------------------------------------------------------------
# JSON programs


def check_json(text: str) -> Algorithm | None:
    try:
        alg = loads_algorithm(text)
    except ProgramParseError as err:
        check_message(err)
        return None
    assert loads_algorithm(dumps_algorithm(alg)) == alg
    assert parse_algorithm(format_algorithm(alg)) == alg
    return alg


def test_the_seed_json_program_parses():
    assert len(check_json(PROGRAM_JSON)) == 6


JSON_FRAGMENTS = st.sampled_from([
    "{", "}", "[", "]", ",", ":", '"', "\\", "\\u0000", "\\ud800", "NaN", "Infinity",
    "-Infinity", "null", "true", "1e999", "1" * 5000, "-0", "0.5", "1.0", " ",
    '"op"', '"out"', '"data"', '"format_version"', "[" * 3000,
])


@FUZZ
@given(mutated(PROGRAM_JSON, st.one_of(JSON_FRAGMENTS, INSERTION))
       | mutated(PROGRAM_JSON, st.sampled_from(list("0123456789 -."))))
def test_mutated_json_text(text):
    check_json(text)


@FUZZ
@given(structurally_mutated(json.loads(PROGRAM_JSON), st.sampled_from(
    ["op", "in1", "in2", "out", "data", "metadata", "format", "extra"])))
def test_mutated_json_documents(obj):
    check_json(json.dumps(obj))


@FUZZ
@given(JSON_VALUES)
def test_random_json_values(obj):
    check_json(json.dumps(obj))


# --------------------------------------------------------------------------
# Configs and task specs

BASE_CONFIG = load_config(DEMO).to_dict()
BASE_CONFIG["train_budget"] = {"train_budget_baseline": "LINEAR_ALGORITHM"}
CONFIG_KEYS = st.one_of(
    st.sampled_from(sorted({*BASE_CONFIG, *Config.__dataclass_fields__, *REMOVED_KEYS,
                            *TaskSpec.__dataclass_fields__, "cache_size",
                            "forget_every", "train_budget_threshold_factor"})),
    st.text(max_size=10),
)


def check_config(data: Any, overrides: tuple[str, ...] = ()) -> Config | None:
    try:
        cfg = config_from_dict(data, "fuzz.toml", overrides=overrides)
    except ConfigError as err:
        check_message(err)
        return None
    assert config_from_dict(cfg.to_dict(), "again.toml") == cfg
    return cfg


def test_the_seed_config_validates():
    assert check_config(BASE_CONFIG) is not None


@FUZZ
@given(structurally_mutated(BASE_CONFIG, CONFIG_KEYS))
def test_mutated_configs(data):
    check_config(data)


@FUZZ
@given(st.dictionaries(CONFIG_KEYS, JSON_VALUES, max_size=6))
def test_random_configs(data):
    check_config(data)


OVERRIDE_KEYS = st.sampled_from([
    "population_size", "fec.cache_size", "fec", "search_tasks.0.num_tasks",
    "search_tasks[0].features_size", "final_tasks.1.num_tasks", "select_tasks.x",
    "method", "engine", "mutate_prob", "setup_ops", "train_budget.x", "a..b", "",
]) | st.text(max_size=12)
OVERRIDE_VALUES = st.sampled_from([
    "3", "-1", "0", "1e999", "nan", "inf", "'x'", "[1, 2]", "{a = 1}", "true", "x y",
    "1" * 5000, "[" * 3000, "RANDOM_SEARCH", '"SCALAR_SUM_OP"', "1000000000000",
]) | st.text(max_size=12)


@FUZZ
@given(st.lists(st.tuples(OVERRIDE_KEYS, OVERRIDE_VALUES).map("=".join)
                | st.text(max_size=12), max_size=3))
def test_random_overrides(overrides):
    try:
        data = apply_overrides(BASE_CONFIG, overrides)
    except ConfigError as err:
        check_message(err)
        assert str(err).startswith("--set ")
        return
    check_config(data, tuple(overrides))


BASE_SPEC = {"task_type": "scalar_linear_regression_task", "features_size": 4,
             "num_train_examples": 10, "num_valid_examples": 5, "num_tasks": 2,
             "data_seeds": [1, 2], "eval_type": "RMS_ERROR"}
FIXED_SPEC = {"task_type": "unit_test_fixed_task", "train_features": [[1.0, 2.0]],
              "train_labels": [3.0], "valid_features": [[4.0, 5.0]], "valid_labels": [6.0]}
PROJECTED_SPEC = {"task_type": "projected_binary_classification_task",
                  "features_size": 8, "num_train_examples": 10, "num_valid_examples": 5,
                  "held_out_pairs": [[1, 2]], "positive_class": 3, "negative_class": 4}


@FUZZ
@given(st.sampled_from([BASE_SPEC, FIXED_SPEC, PROJECTED_SPEC]).flatmap(
    lambda spec: structurally_mutated(spec, CONFIG_KEYS)))
def test_mutated_task_specs(data):
    try:
        spec = TaskSpec.from_dict(data, "fuzz_tasks[0]")
    except ConfigError as err:
        check_message(err)
        return
    assert TaskSpec.from_dict(spec.to_dict(), "again") == spec


@pytest.mark.parametrize("content", [b"\xff\xfe\x00x", b"x = [" * 2000, b"\x00",
                                     b"population_size = 1" + b"0" * 5000])
def test_config_files_that_are_not_toml(tmp_path, content):
    path = tmp_path / "c.toml"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    check_message(err.value)
    assert str(err.value).startswith(f"{path}: ")


def test_fuzz_files_are_not_left_behind():
    assert not any(name.startswith("program") for name in os.listdir("."))
