"""The Fashion-MNIST configs (configs/paper_fashion.toml: the paper's "Full"
method; configs/basic_fashion.toml: its "Basic" method) and the
``fashion_mnist`` data set name, on small generated IDX files (never the
installed package)."""

from __future__ import annotations

import gzip
import re
import struct
from collections.abc import Sequence
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest

from automl_zero.config import Config, config_from_dict, load_config
from automl_zero.errors import DataError
from automl_zero.language.ops import op_by_name
from automl_zero.tasks import TaskSpec, datasets
from automl_zero.tasks.datasets import (
    FASHION_MNIST_DEFAULT_PATH,
    load_dataset,
)
from automl_zero.tasks.generate import make_tasks

CONFIGS = Path(__file__).resolve().parent.parent / "configs"
PAPER = CONFIGS / "paper_fashion.toml"
BASIC = CONFIGS / "basic_fashion.toml"
ALL_PAIRS = frozenset(combinations(range(10), 2))
# The original's recommended held-out pairs (docs/semantics.md §12.5).
HELD_OUT = frozenset({(0, 5), (0, 9), (1, 8), (2, 9), (3, 5), (3, 6), (3, 8), (4, 6),
                      (8, 9)})
# Key paths of the Fashion-MNIST data directory in each config.
PAPER_PATHS = ("island_groups.0.search_tasks.0.path", "select_tasks.0.path",
               "final_tasks.0.path")
BASIC_PATHS = ("search_tasks.0.path", "select_tasks.0.path", "final_tasks.0.path")


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def _idx_bytes(array: np.ndarray) -> bytes:
    """IDX encoding of a uint8 array: magic 0x0000 08 ndim, big-endian dims, data."""
    header = struct.pack(">I", 0x0800 | array.ndim)
    header += b"".join(struct.pack(">I", d) for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def _write_fashion(directory: Path, per_class: int, shape: tuple[int, ...] = (2, 2),
                   compress: bool = True, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST-layout training files (10 classes of ``per_class`` images
    of ``shape``), gzip-compressed like Debian's package; returns (images, labels)."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(10, dtype=np.uint8), per_class)
    rng.shuffle(labels)
    images = rng.integers(0, 256, (labels.size, *shape), dtype=np.uint8)
    directory.mkdir(parents=True, exist_ok=True)
    for name, array in (("train-images-idx3-ubyte", images),
                        ("train-labels-idx1-ubyte", labels)):
        data = _idx_bytes(array)
        if compress:
            (directory / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (directory / name).write_bytes(data)
    return images, labels


def _load(config: Path, data_dir: Path | None, extra: Sequence[str] = ()) -> Config:
    """The config with its Fashion-MNIST paths pointing at ``data_dir``."""
    keys = PAPER_PATHS if config == PAPER else BASIC_PATHS
    overrides = [f'{k}="{data_dir}"' for k in keys] if data_dir is not None else []
    return load_config(config, [*overrides, *extra])


def _pairs(specs: Sequence[TaskSpec]) -> set[tuple[int, int]]:
    """The class pairs a collection's randomly paired tasks can draw."""
    (spec,) = specs
    return set(ALL_PAIRS - set(spec.held_out_pairs))


def _codes(names: Sequence[str]) -> list[int]:
    return [op_by_name(n).code for n in names]


@pytest.fixture(scope="module")
def fashion_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Enough tiny 2x2 images for the configs' 8000 train / 1000 valid tasks:
    5000 per class, as many as a projected task takes from a class."""
    directory = tmp_path_factory.mktemp("fashion")
    _write_fashion(directory, per_class=5000)
    return directory


# --------------------------------------------------------------------------
# The fashion_mnist data set name
# --------------------------------------------------------------------------


@pytest.mark.parametrize("compress", [True, False])
def test_fashion_mnist_reads_the_idx_files(tmp_path: Path, compress: bool) -> None:
    images, labels = _write_fashion(tmp_path, per_class=3, shape=(28, 28),
                                    compress=compress)
    ds = load_dataset("fashion_mnist", tmp_path)
    assert ds.name == "fashion_mnist"
    assert ds.features.shape == (30, 784) and ds.features.dtype == np.float64
    np.testing.assert_array_equal(ds.features, images.reshape(30, 784))
    np.testing.assert_array_equal(ds.labels, labels)
    # The same files read as "mnist": the same arrays under the other name.
    mnist = load_dataset("mnist", tmp_path)
    assert mnist.name == "mnist" and mnist is not ds
    np.testing.assert_array_equal(mnist.features, ds.features)
    assert datasets.load_fashion_mnist(tmp_path) is ds  # cached


def test_fashion_mnist_path_defaults_to_the_debian_location(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert FASHION_MNIST_DEFAULT_PATH == "/usr/share/datasets/fashion-mnist"
    _write_fashion(tmp_path, per_class=2)
    monkeypatch.setattr(datasets, "FASHION_MNIST_DEFAULT_PATH", str(tmp_path))
    ds = load_dataset("fashion_mnist")
    assert ds.num_examples == 20 and ds.name == "fashion_mnist"
    with pytest.raises(DataError, match="needs a path"):
        load_dataset("mnist")  # no default for the others


def test_missing_fashion_mnist_names_the_package(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"Fashion-MNIST directory .*nowhere does not "
                                        r"exist.*apt-get install dataset-fashion-mnist"):
        load_dataset("fashion_mnist", tmp_path / "nowhere")
    with pytest.raises(DataError, match=r"no Fashion-MNIST file train-images-idx3-ubyte "
                                        r"\(or train-images-idx3-ubyte.gz\).*"
                                        r"dataset-fashion-mnist"):
        load_dataset("fashion_mnist", tmp_path)
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(DataError, match="not a directory.*dataset-fashion-mnist"):
        load_dataset("fashion_mnist", tmp_path / "file")
    # MNIST's own messages do not mention the Fashion-MNIST package.
    with pytest.raises(DataError, match="MNIST directory") as err:
        load_dataset("mnist", tmp_path / "nowhere")
    assert "dataset-fashion-mnist" not in str(err.value)


def test_fashion_mnist_files_are_checked_like_mnist(tmp_path: Path) -> None:
    _write_fashion(tmp_path, per_class=2)
    labels = tmp_path / "train-labels-idx1-ubyte.gz"
    labels.write_bytes(gzip.compress(_idx_bytes(np.full(20, 12, np.uint8))))
    with pytest.raises(DataError, match=r"Fashion-MNIST labels .* class ids in 0..9"):
        load_dataset("fashion_mnist", tmp_path)
    labels.write_bytes(gzip.compress(_idx_bytes(np.zeros(19, np.uint8))))
    with pytest.raises(DataError, match="Fashion-MNIST files disagree"):
        load_dataset("fashion_mnist", tmp_path)
    labels.write_bytes(gzip.compress(_idx_bytes(np.zeros(20, np.uint8)))[:15])
    with pytest.raises(DataError, match="not a valid gzip file"):
        load_dataset("fashion_mnist", tmp_path)


# --------------------------------------------------------------------------
# The configs
# --------------------------------------------------------------------------


@pytest.mark.parametrize("config", [PAPER, BASIC], ids=lambda p: p.name)
def test_configs_load_and_round_trip(config: Path, tmp_path: Path) -> None:
    # The shipped paths are the Debian location; reading a config never reads data.
    shipped = load_config(config)
    assert {s.path for c in ("search", "select", "final") for s in shipped.tasks(c)
            if s.dataset_name == "fashion_mnist"} == {FASHION_MNIST_DEFAULT_PATH}
    cfg = _load(config, tmp_path)
    fashion = [s for c in ("search", "select", "final") for s in cfg.tasks(c)
               if s.dataset_name == "fashion_mnist"]
    assert len(fashion) == 3 and {s.path for s in fashion} == {str(tmp_path)}
    assert config_from_dict(cfg.to_dict(), str(config), config.parent) == cfg


def test_paper_fashion_is_the_full_method() -> None:
    cfg = load_config(PAPER)
    assert cfg.memory.sizes == (8, 14, 3)
    assert cfg.size_init == (0, 0, 0) and cfg.initial_population == "NO_OP_ALGORITHM"
    assert (cfg.mutate_setup_size_max, cfg.mutate_predict_size_max,
            cfg.mutate_learn_size_max) == (21, 21, 45)
    assert (cfg.mutate_setup_size_min, cfg.mutate_predict_size_min,
            cfg.mutate_learn_size_min) == (0, 0, 0)
    # Table S5's op sets: 9 / 58 / 58.
    assert _codes(cfg.setup_ops) == list(range(56, 65))
    predict = list(range(56)) + [60, 61]
    assert _codes(cfg.predict_ops) == predict and _codes(cfg.learn_ops) == predict
    assert (cfg.population_size, cfg.tournament_size, cfg.mutate_prob) == (100, 10, 0.9)
    kinds = cfg.allowed_mutation_types
    assert (kinds.count("INSERT_INSTRUCTION_MUTATION_TYPE"),
            kinds.count("REMOVE_INSTRUCTION_MUTATION_TYPE"),
            kinds.count("RANDOMIZE_COMPONENT_FUNCTION_MUTATION_TYPE"),
            kinds.count("ALTER_PARAM_MUTATION_TYPE"), len(kinds)) == (1, 2, 3, 3, 9)
    # All the paper's upgrades.
    assert cfg.fec is not None
    assert (cfg.fec.num_train_examples, cfg.fec.num_valid_examples) == (10, 10)
    assert cfg.train_budget is not None
    assert cfg.train_budget.train_budget_threshold_factor == 4.0


def test_paper_fashion_islands_hurdles_and_budget() -> None:
    cfg = load_config(PAPER)
    # Half the islands on Fashion-MNIST, half on digits; shared T_select/T_final.
    assert cfg.islands == 4 and cfg.island_group_of() == (0, 0, 1, 1)
    assert [g.fraction for g in cfg.island_groups] == [0.5, 0.5]
    fashion, digits = cfg.search_groups()
    assert [s.dataset_name for s in fashion] == ["fashion_mnist"]
    assert [s.dataset_name for s in digits] == ["digits"]
    assert not cfg.search_tasks
    for spec in (*fashion, *digits, *cfg.select_tasks, *cfg.final_tasks):
        assert spec.features_size == 16 and spec.eval_type is not None
    assert {s.dataset_name for s in (*cfg.select_tasks, *cfg.final_tasks)} == {
        "fashion_mnist"}
    assert [s.num_tasks for s in fashion] == [10] and [s.num_tasks for s in digits] == [10]
    assert (fashion[0].num_train_examples, fashion[0].num_valid_examples) == (8000, 1000)
    # Hurdles: stage 1 = the first 2 of each group's 10 tasks, 75th percentile.
    assert cfg.hurdles is not None
    assert cfg.hurdles.first_stage_tasks == 2
    assert cfg.hurdles.first_stage_train_fraction == 1.0
    assert cfg.hurdles.percentile == 75.0
    # Migration of half the population; the paper's >= 100 per experiment.
    assert cfg.migration_fraction == 0.5 and cfg.migration_every > 0
    assert cfg.max_individuals // cfg.migration_every >= 100
    # Children or one hour bound the run; S10's 100B steps are not reached.
    assert cfg.max_individuals == 2_000_000
    assert cfg.max_train_steps == 100_000_000_000
    assert cfg.time_limit_seconds == 3600


def test_basic_fashion_is_the_basic_method() -> None:
    cfg = load_config(BASIC)
    baseline = load_config(CONFIGS / "baseline_cifar10.toml")
    method = ("num_scalar_addresses", "num_vector_addresses", "num_matrix_addresses",
              "setup_ops", "predict_ops", "learn_ops", "setup_size_init",
              "predict_size_init", "learn_size_init", "mutate_setup_size_min",
              "mutate_setup_size_max", "mutate_predict_size_min",
              "mutate_predict_size_max", "mutate_learn_size_min",
              "mutate_learn_size_max", "population_size", "tournament_size",
              "initial_population", "allowed_mutation_types", "mutate_prob",
              "train_budget", "fec", "hurdles", "islands", "migration_every",
              "island_groups", "fitness_combination_mode", "random_seed")
    for key in method:
        assert getattr(cfg, key) == getattr(baseline, key), key
    assert cfg.memory.sizes == (5, 9, 2) and cfg.fec is None and cfg.hurdles is None
    assert cfg.islands == 1 and cfg.migration_every == 0 and not cfg.island_groups
    assert cfg.max_train_steps == 40_000_000_000 and cfg.time_limit_seconds == 3600
    # The same task families as baseline_cifar10.toml's search and final tasks.
    for mine, theirs in ((cfg.search_tasks, baseline.search_tasks),
                         (cfg.final_tasks, baseline.final_tasks)):
        assert [s.held_out_pairs for s in mine] == [s.held_out_pairs for s in theirs]
        assert [s.num_tasks for s in mine] == [s.num_tasks for s in theirs]


def test_both_configs_share_their_fashion_tasks(tmp_path: Path) -> None:
    paper, basic = _load(PAPER, tmp_path), _load(BASIC, tmp_path)
    assert paper.search_groups()[0] == basic.search_tasks
    assert paper.select_tasks == basic.select_tasks
    assert paper.final_tasks == basic.final_tasks


@pytest.mark.parametrize("config", [PAPER, BASIC], ids=lambda p: p.name)
def test_select_and_final_use_only_the_held_out_pairs(config: Path) -> None:
    cfg = load_config(config)
    for specs in cfg.search_groups():
        assert _pairs(specs) == ALL_PAIRS - HELD_OUT  # the 36 search pairs
    assert _pairs(cfg.select_tasks) == HELD_OUT
    assert _pairs(cfg.final_tasks) == HELD_OUT
    # T_select and T_final draw split/projection seeds from disjoint ranges.
    (select,), (final,) = cfg.select_tasks, cfg.final_tasks
    assert (select.min_supported_data_seed, select.max_supported_data_seed) == (100, 200)
    assert (final.min_supported_data_seed, final.max_supported_data_seed) == (0, 100)
    assert final.num_tasks == 100 and select.num_tasks == 20


_NAME = re.compile(r"\[(?P<data>\w+),pos=(?P<pos>\d+),neg=(?P<neg>\d+),seed=(?P<seed>\d+)")


def _parsed(name: str) -> tuple[str, tuple[int, int], int]:
    match = _NAME.search(name)
    assert match is not None, name
    return (match["data"], (int(match["pos"]), int(match["neg"])), int(match["seed"]))


@pytest.mark.parametrize("config", [PAPER, BASIC], ids=lambda p: p.name)
def test_tasks_build_from_generated_idx_files(config: Path, fashion_dir: Path) -> None:
    keys = ("island_groups.0.search_tasks.0", "island_groups.1.search_tasks.0") \
        if config == PAPER else ("search_tasks.0",)
    few = [f"{k}.num_tasks=3" for k in (*keys, "select_tasks.0", "final_tasks.0")]
    cfg = _load(config, fashion_dir, few)
    for group in cfg.search_groups():
        for task in make_tasks(group):
            data, pair, _ = _parsed(task.name)
            assert pair not in HELD_OUT
            if data == "fashion_mnist":
                assert task.train_features.shape == (8000, 16)
                assert task.valid_features.shape == (1000, 16)
            else:
                assert data == "digits" and task.train_features.shape == (256, 16)
    for which, seeds in (("select", range(100, 200)), ("final", range(100))):
        tasks = make_tasks(cfg.tasks(which))
        assert len(tasks) == 3
        for task in tasks:
            data, pair, seed = _parsed(task.name)
            assert data == "fashion_mnist" and pair in HELD_OUT and seed in seeds
            assert task.valid_features.shape == (1000, 16)
            assert set(np.unique(task.train_labels)) == {0.0, 1.0}


def test_configs_name_the_package_when_the_data_is_missing(tmp_path: Path) -> None:
    cfg = _load(BASIC, tmp_path / "missing", ["search_tasks.0.num_tasks=1"])
    with pytest.raises(DataError, match="apt-get install dataset-fashion-mnist"):
        make_tasks(cfg.search_tasks)
