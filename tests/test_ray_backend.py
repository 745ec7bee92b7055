"""The Ray backend on a real Ray runtime: a head started here with `ray start
--head` on loopback only, token authentication on (docs/semantics.md §11.5).

Every Ray process this module starts is stopped by id: the head runs as
`ray start --block` in a session of its own, which ends on SIGTERM with every
process it started; what is left of that session is killed by pid. (`ray stop`
would also stop other people's Ray processes on this machine.)
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from helpers import comparable, outcome
from helpers import jsonl as lines
from helpers import small_search_config as small_config

import automl_zero as az
from automl_zero.run.driver import SearchDriver
from automl_zero.run.rundir import EVENTS, PROGRESS, RunDir

if importlib.util.find_spec("ray") is None:
    pytest.skip("Ray is not installed (pip install 'automl-zero[ray]')",
                allow_module_level=True)

ROOT = Path(__file__).resolve().parent.parent
RAY = Path(sys.executable).parent / "ray"
LOOPBACK = ("127.0.0.1", "[::ffff:127.0.0.1]")
LOOPBACK_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"  # "0": every server on 127.0.0.1
CURRENT_CLUSTER = Path("/tmp/ray/ray_current_cluster")  # written by `ray start`

# ----------------------------------------------------------- processes
def _session_pids(sid: int) -> list[int]:
    """Live processes of session ``sid``."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2:].split()
        if int(fields[3]) == sid and fields[0] not in ("Z", "X"):
            out.append(int(entry.name))
    return out


def _end_session(proc: subprocess.Popen, grace: float = 30.0) -> list[int]:
    """SIGTERM the session leader ``proc`` (started with start_new_session),
    wait for its session to end, SIGKILL what is left; the pids that had to be
    killed."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    deadline = time.time() + grace
    while time.time() < deadline and (proc.poll() is None or _session_pids(proc.pid)):
        time.sleep(0.2)
    left = _session_pids(proc.pid)
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=30)
    return left


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening(port: int) -> list[str]:
    """Local addresses of the TCP sockets listening on ``port``."""
    out = subprocess.run(["ss", "-tln"], capture_output=True, text=True,
                         check=True).stdout
    found = []
    for line in out.splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 4 and fields[3].rsplit(":", 1)[-1] == str(port):
            found.append(fields[3].rsplit(":", 1)[0])
    return found


# ------------------------------------------------------------- the head
@pytest.fixture(scope="module")
def head(tmp_path_factory):
    """A Ray head on a free loopback port (token authentication on); yields
    its address and the `ray start` process; stopped, with all it started,
    at the end."""
    port = _free_port()
    address = f"127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("ray") / "head.log"
    env = dict(os.environ, **{LOOPBACK_ENV: "0"})
    env.pop("RAY_ADDRESS", None)
    with pytest.MonkeyPatch.context() as mp:
        # This process is a Ray driver too: loopback and token auth. Ray reads
        # the loopback switch when it is imported, so set the constant as well.
        mp.setenv(LOOPBACK_ENV, "0")
        mp.setenv("RAY_AUTH_MODE", "token")
        mp.delenv("RAY_ADDRESS", raising=False)
        import ray
        from ray._private import ray_constants

        mp.setattr(ray_constants, "ENABLE_RAY_CLUSTER", False)
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [str(RAY), "start", "--head", f"--port={port}", "--num-cpus=2",
                 "--include-dashboard=false", "--block"],
                env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True)
        try:
            deadline = time.time() + 90
            while time.time() < deadline and "Ray runtime started" not in \
                    log.read_text(errors="replace"):
                assert proc.poll() is None, log.read_text(errors="replace")[-3000:]
                time.sleep(0.2)
            assert "Ray runtime started" in log.read_text(errors="replace")
            yield address, proc
        finally:
            if ray.is_initialized():
                ray.shutdown()
            _end_session(proc)
            # `ray start` points later `ray.init()` calls at this head: the
            # pointer goes with it (`ray stop` removes it too).
            try:
                if CURRENT_CLUSTER.read_text().strip() == address:
                    CURRENT_CLUSTER.unlink()
            except OSError:
                pass
    assert not _session_pids(proc.pid), "Ray processes survived the head"


# ------------------------------------------------------------------ tests
def test_head_listens_on_loopback_only(head):
    address, proc = head
    port = int(address.rsplit(":", 1)[1])
    if shutil.which("ss") is None:
        pytest.skip("no `ss` on this machine")
    found = _listening(port)
    assert found, f"nothing listens on port {port}"
    assert all(a in LOOPBACK for a in found), found
    # Every socket of every process the head started is on loopback.
    out = subprocess.run(["ss", "-tlnp"], capture_output=True, text=True,
                         check=True).stdout
    pids = set(_session_pids(proc.pid))
    theirs = [line.split()[3] for line in out.splitlines()[1:]
              if any(f"pid={p}," in line for p in pids)]
    assert theirs, "no listening socket of the head's processes found"
    assert all(a.rsplit(":", 1)[0] in LOOPBACK for a in theirs), theirs


def test_ray_workers_give_the_in_process_result(head, tmp_path):
    import ray

    address, _ = head
    cfg = small_config("islands=2", "migration_every=500", "max_individuals=2000")
    local = az.search(cfg, seed=5, out=tmp_path / "local", workers=1)
    remote = az.search(cfg, seed=5, out=tmp_path / "ray", workers=2, backend="ray",
                       address=address)
    assert (remote.backend, remote.workers) == ("ray", 2)
    assert outcome(remote) == outcome(local)
    assert comparable(tmp_path / "ray" / PROGRESS) == comparable(
        tmp_path / "local" / PROGRESS)
    assert lines(tmp_path / "ray" / PROGRESS)[-1]["migrations"] == 3
    assert not ray.is_initialized()  # the backend left the cluster


def test_a_killed_actor_is_replaced_and_the_result_is_unchanged(head, tmp_path):
    import ray

    from automl_zero.run.ray_backend import RayBackend

    address, _ = head
    cfg = small_config("islands=2", "migration_every=1500", "max_individuals=12000")
    full = az.search(cfg, seed=17, out=tmp_path / "full", workers=1)
    assert not ray.is_initialized()
    backend = RayBackend(2, cfg.islands, address)  # joins again after a shutdown
    killed = []
    records = []
    events: list[dict] = []

    def kill_once(record) -> None:
        records.append(record)
        if len(records) == 2 and not killed:
            killed.append(backend.actors[0])
            ray.kill(killed[0])

    try:
        first = backend.actors
        with RunDir.create(tmp_path / "cut") as run_dir:
            result = SearchDriver(cfg, run_dir, 17, progress=kill_once,
                                  on_event=events.append, checkpoint_every_s=0.2,
                                  backend=backend).run()
        assert killed
        assert not set(map(id, backend.actors)) & set(map(id, first))  # new actors
    finally:
        backend.close()
    assert not ray.is_initialized()
    restarts = [e for e in events if e["event"] == "worker_restarted"]
    assert len(restarts) == 1 and restarts[0]["workers"] == [0]
    assert [e["event"] for e in lines(tmp_path / "cut" / EVENTS)].count(
        "worker_restarted") == 1
    assert outcome(result) == outcome(full)
    assert comparable(tmp_path / "cut" / PROGRESS) == comparable(
        tmp_path / "full" / PROGRESS)
    # The cluster is usable again from this process.
    ray.init(address=address, log_to_driver=False)
    try:
        assert ray.cluster_resources().get("CPU") == 2
    finally:
        ray.shutdown()


_PROBE = textwrap.dedent("""
    import json, subprocess
    from automl_zero.run.ray_backend import RayBackend
    import ray
    backend = RayBackend(1, 1, None)
    try:
        gcs = ray.get_runtime_context().gcs_address
        port = gcs.rsplit(":", 1)[1]
        ss = subprocess.run(["ss", "-tln"], capture_output=True, text=True).stdout
        found = [f.split()[3].rsplit(":", 1)[0] for f in ss.splitlines()[1:]
                 if f.split()[3].rsplit(":", 1)[-1] == port]
        print(json.dumps({"gcs": gcs, "listening": found}))
    finally:
        backend.close()
""")


def _probe_own_runtime(env: dict) -> tuple[subprocess.CompletedProcess, list[int]]:
    """Run ``_PROBE`` (a RayBackend without an address) in a session of its
    own; the result and the pids that had to be killed afterwards."""
    proc = subprocess.Popen([sys.executable, "-c", _PROBE], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        left = _end_session(proc, grace=15)
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr), left


def test_own_runtime_without_address_is_on_loopback_only(head):
    if shutil.which("ss") is None:
        pytest.skip("no `ss` on this machine")
    env = {k: v for k, v in os.environ.items()
           if k not in (LOOPBACK_ENV, "RAY_AUTH_MODE")}
    env["RAY_ADDRESS"] = "local"  # not the head of this module: a runtime of its own
    done, left = _probe_own_runtime(env)
    assert not left, f"the probe left Ray processes behind: {left}"
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["listening"], report
    assert all(a in LOOPBACK for a in report["listening"]), report
    assert report["gcs"].rsplit(":", 1)[0] == "127.0.0.1", report


def test_own_runtime_without_address_ignores_a_running_head(head):
    address, _ = head
    env = {k: v for k, v in os.environ.items()
           if k not in ("RAY_AUTH_MODE", "RAY_ADDRESS")}
    env[LOOPBACK_ENV] = "0"
    done, left = _probe_own_runtime(env)
    assert not left, f"the probe left Ray processes behind: {left}"
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["gcs"] != address
