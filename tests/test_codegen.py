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


def test_task_loop_body_rewrites_memory_and_temporaries():
    body = "acc = 0.0\nfor i in range(F):\n    acc += v[a, i] * v[b, i]\ns[o] = acc"
    out = codegen.task_loop_body(body)
    assert "acc_t[t] += v[a, i, t] * v[b, i, t]" in out
    assert "s[o, t] = acc_t[t]" in out
    assert codegen.task_loop_body("pass") == "pass"
    assert "if running[t]:" in codegen.task_loop_body("s[o] = d0", skip_stopped=True)
