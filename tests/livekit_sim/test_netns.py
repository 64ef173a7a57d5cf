"""Without root the fixture must fail loudly (one line saying why), never skip or pass."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .netns import REPO_ROOT, start_in_namespace


def test_fixture_fails_with_one_line_when_namespaces_are_not_allowed(tmp_path: Path) -> None:
    # Pretend to be an unprivileged user in a separate pytest run that uses the real fixture.
    (tmp_path / "conftest.py").write_text(
        "import os\nos.geteuid = lambda: 1000\npytest_plugins = ['tests.livekit_sim.fixtures']\n"
    )
    (tmp_path / "test_needs_server.py").write_text("def test_x(livekit_server):\n    pass\n")
    res = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", str(tmp_path)],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    out = res.stdout + res.stderr
    assert res.returncode == 1, out
    assert "1 error" in out and "skipped" not in out and "passed" not in out, out
    report = out.split("ERROR at setup of test_x", 1)[1].split("short test summary", 1)[0]
    (line,) = [ln for ln in report.splitlines()[1:] if ln.strip() and not ln.startswith("=")]
    assert line.startswith("LiveKit test server unavailable: needs root"), out
    assert "uid is 1000" in line, line


def _links() -> str:
    return subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True, check=True).stdout


def _netns_list() -> str:
    return subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout


def _live_net_namespaces() -> set[str]:
    """Every network namespace some process is in ("net:[inode]")."""
    found = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        with contextlib.suppress(OSError):
            found.add(os.readlink(f"/proc/{pid}/ns/net"))
    return found


def _assert_set_up(pid: int, host_if: str, host_ip: str, server_ip: str) -> str:
    """The server runs in a namespace of its own, joined to ours by the veth pair; returns that namespace."""
    netns = os.readlink(f"/proc/{pid}/ns/net")
    assert netns != os.readlink("/proc/self/ns/net")
    ns_if = host_if[:-1] + "n"
    links = _links()
    # Our end of the veth is here with our address; the other end only inside the server's namespace.
    assert f" {host_if}@" in links and f" {ns_if}@" not in links, links
    ours = subprocess.run(["ip", "-o", "-4", "addr", "show", "dev", host_if], capture_output=True, text=True)
    assert f"{host_ip}/24" in ours.stdout, ours
    inside = subprocess.run(
        ["nsenter", f"--net=/proc/{pid}/ns/net", "ip", "-o", "-4", "addr", "show", "dev", ns_if],
        capture_output=True,
        text=True,
    )
    assert f"{server_ip}/24" in inside.stdout, inside
    return netns


def _assert_gone(netns: str, host_if: str, named_before: str) -> None:
    """The namespace and both veth ends vanished by themselves (nobody ran `ip link del`)."""
    tag = host_if[:-1]
    deadline = time.monotonic() + 5  # the kernel tears a namespace down asynchronously
    while (tag in _links() or netns in _live_net_namespaces()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert tag not in _links(), _links()
    assert netns not in _live_net_namespaces()
    # It never was a named namespace (`unshare --net`), so nothing is left in `ip netns list` either.
    assert _netns_list() == named_before


@pytest.mark.livekit
def test_a_server_removes_its_namespace_and_veth_pair_when_it_stops(tmp_path: Path) -> None:
    """Not the session fixture: an instance of our own, so that we can watch it go away."""
    named_before = _netns_list()
    server = start_in_namespace(api_key="APIcleanup", api_secret=secrets.token_hex(24), log_path=tmp_path / "s.log")
    try:
        netns = _assert_set_up(server.proc.pid, server.host_if, server.host_ip, server.server_ip)
        # Stop the server process alone (what `stop()` does, minus its fallback `ip link del`).
        server.proc.terminate()
        server.proc.wait(10)
        _assert_gone(netns, server.host_if, named_before)
    finally:
        server.stop()


@pytest.mark.livekit
def test_a_server_dies_with_the_process_that_started_it(tmp_path: Path) -> None:
    """A pytest killed with SIGKILL runs no teardown: the server (PDEATHSIG), its namespace and veth go."""
    named_before = _netns_list()
    starter = subprocess.Popen(
        [sys.executable, "-c", _STARTER, str(tmp_path / "s.log")],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert starter.stdout is not None
        info = json.loads(starter.stdout.readline() or "null")
        assert info, f"the starter exited with {starter.wait(5)}"
        netns = _assert_set_up(info["pid"], info["host_if"], info["host_ip"], info["server_ip"])
        starter.kill()
        starter.wait(10)
        _assert_gone(netns, info["host_if"], named_before)
    finally:
        starter.kill()
        starter.wait(10)


_STARTER = """
import json, sys, time
from pathlib import Path
from tests.livekit_sim.netns import start_in_namespace

s = start_in_namespace(api_key="APIorphan", api_secret="s" * 32, log_path=Path(sys.argv[1]))
print(json.dumps({"pid": s.proc.pid, "host_if": s.host_if, "host_ip": s.host_ip, "server_ip": s.server_ip}), flush=True)
time.sleep(60)
"""
