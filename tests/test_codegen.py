"""The generated kernel is up to date with the op table."""

from __future__ import annotations

from automl_zero.executor import _kernel, codegen
from automl_zero.language.ops import OPS, table_hash


def test_generated_kernel_is_up_to_date():
    # If this fails: python -m automl_zero.executor.codegen
    assert codegen.KERNEL_PATH.read_text() == codegen.generate_kernel_source()
    assert table_hash() == _kernel.OPS_TABLE_HASH


def test_every_op_has_a_dispatch_branch():
    source = codegen.generate_kernel_source()
    for op in OPS:
        assert f"c == {op.code}:  # {op.name}" in source


def test_lane_body_rewrites_memory_and_temporaries():
    body = "acc = 0.0\nfor i in range(F):\n    acc += v[a, i] * v[b, i]\ns[o] = acc"
    out = codegen.lane_body(body, lanes=2)
    assert out.startswith("for blk in range(nb):")
    assert "acc_1 += v[blk, a, i, 1] * v[blk, b, i, 1]" in out
    # A store to memory computes every lane first, then stores them all.
    lines = [line.strip() for line in out.splitlines()]
    assert lines[-4:] == ["_r0 = acc_0", "_r1 = acc_1", "s[blk, o, 0] = _r0",
                          "s[blk, o, 1] = _r1"]
    assert "tv[i, 1] = _r1" in codegen.lane_body("tv[i] = acc", lanes=2)
    assert codegen.lane_body("pass") == "pass"
    random = codegen.lane_body("s[o] = d0", skip_stopped=True, lanes=2)
    assert "if blk * W + 1 < n_run:" in random


def test_lane_body_refuses_statements_it_does_not_understand():
    import pytest

    with pytest.raises(ValueError, match="not understood"):
        codegen.lane_body("print(s[o])")
