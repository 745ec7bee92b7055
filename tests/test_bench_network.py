"""The network benchmark's C yardstick computes the same program as the executor."""

from __future__ import annotations

import shutil

import pytest

from automl_zero.run.bench_network import run_network_benchmark

pytestmark = pytest.mark.skipif(
    not (shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")),
    reason="no C compiler")


def test_c_reference_runs_the_same_network_as_the_executor():
    """Same steps (early stops included) and the same fitness up to the order
    of additions (the C loop is compiled with -ffast-math)."""
    results = run_network_benchmark([4], [0.01, 0.5], repeats=1, evals=1,
                                    num_train=60, num_valid=10)
    steady, diverging = results
    assert steady.train_steps == steady.reference_steps == 10 * 60
    assert diverging.train_steps == diverging.reference_steps < 10 * 60
    for r in results:
        assert r.max_fitness_diff is not None and r.max_fitness_diff < 1e-9
        assert r.us_per_eval > 0 and r.reference_us > 0


def test_cli_refuses_bad_feature_sizes_without_a_traceback():
    from click.testing import CliRunner

    from automl_zero.run.cli import cli

    result = CliRunner().invoke(cli, ["bench", "network", "--features", "2000",
                                      "--repeats", "1", "--evals", "1"])
    assert result.exit_code == 2
    assert "features_size: 2000 is more than the executor supports" in result.output
    assert "Traceback" not in result.output
    result = CliRunner().invoke(cli, ["bench", "network", "--features", "8,x"])
    assert result.exit_code == 2 and "--features" in result.output
