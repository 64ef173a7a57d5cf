"""Run the server in a private network namespace joined to ours by a veth pair.

Why: libwebrtc (inside the LiveKit SDK) ignores loopback interfaces and aioice skips 127.0.0.1, so ICE
never starts on loopback alone. The server runs in a child namespace (`unshare --net`) that owns one
end of a veth pair; the test process keeps the other end, so SDK clients, agent workers and their job
subprocesses (all in the test's namespace) reach it at a private address, while the test process keeps
its own loopback (PostgreSQL at 127.0.0.1:5432 and so on).

Cleanup is structural: the namespace lives exactly as long as the server process, and destroying it
destroys both veth ends. The server gets SIGKILL if the process that started it dies (PDEATHSIG), so a
crashed pytest leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

# 10.213.<n>.0/24, n chosen per run: 1 is our end, 2 the server's.
SUBNET_PREFIX = "10.213"
REPO_ROOT = Path(__file__).resolve().parents[2]


class NamespaceError(RuntimeError):
    """The namespace (or the server in it) could not be set up."""


@dataclass
class NamespacedServer:
    proc: subprocess.Popen[bytes]
    host_if: str
    host_ip: str
    server_ip: str
    port: int
    log_path: Path

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        # Normally already gone with the namespace; this covers a server that outlived its stop.
        subprocess.run(["ip", "link", "del", self.host_if], capture_output=True, check=False)


def _die_with_parent() -> None:
    pr_set_pdeathsig = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


def _run(*cmd: str) -> None:
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise NamespaceError(f"`{' '.join(cmd)}` failed: {res.stderr.strip() or res.returncode}")


def _free_subnet() -> str:
    used = subprocess.run(["ip", "-4", "-o", "route"], capture_output=True, text=True, check=False).stdout
    used += subprocess.run(["ip", "-4", "-o", "addr"], capture_output=True, text=True, check=False).stdout
    choices = list(range(1, 255))
    random.shuffle(choices)
    for n in choices:
        if f"{SUBNET_PREFIX}.{n}." not in used:
            return f"{SUBNET_PREFIX}.{n}"
    raise NamespaceError(f"no free {SUBNET_PREFIX}.x.0/24 subnet")


def preflight() -> None:
    """Raise NamespaceError, with one line saying why, if a namespace cannot be created here."""
    if os.geteuid() != 0:
        raise NamespaceError(
            f"needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN) to create a network namespace; uid is {os.geteuid()}"
        )
    for tool in ("unshare", "nsenter", "ip"):
        if shutil.which(tool) is None:
            raise NamespaceError(f"`{tool}` is not installed (util-linux / iproute2)")


def start_in_namespace(
    *,
    api_key: str,
    api_secret: str,
    log_path: Path,
    port: int = 7880,
    extra_args: list[str] | None = None,
    ready_timeout: float = 30.0,
) -> NamespacedServer:
    preflight()
    subnet = _free_subnet()
    tag = secrets.token_hex(3)
    host_if, ns_if = f"lks{tag}h", f"lks{tag}n"
    host_ip, server_ip = f"{subnet}.1", f"{subnet}.2"
    cmd = [
        "unshare",
        "--net",
        "--",
        sys.executable,
        "-m",
        "tests.livekit_sim",
        "--port",
        str(port),
        "--api-key",
        api_key,
        # One `--opt=value` token: a secret that starts with "-" must not read as another option.
        f"--api-secret={api_secret}",
        *(extra_args or []),
    ]
    log_file = log_path.open("ab")
    proc = subprocess.Popen(cmd, cwd=REPO_ROOT, stdout=log_file, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
    log_file.close()
    server = NamespacedServer(proc, host_if, host_ip, server_ip, port, log_path)
    try:
        netns = _wait_for_own_netns(proc)
        _run("ip", "link", "add", host_if, "type", "veth", "peer", "name", ns_if, "netns", str(proc.pid))
        # IPv6 off on both ends: fewer ICE candidates, and no link-local traffic at all.
        with contextlib.suppress(OSError):
            Path(f"/proc/sys/net/ipv6/conf/{host_if}/disable_ipv6").write_text("1")
        _run("ip", "addr", "add", f"{host_ip}/24", "dev", host_if)
        _run("ip", "link", "set", host_if, "up")
        inside = ["nsenter", f"--net={netns}"]
        _run(*inside, "sh", "-c", "echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6 || true")
        _run(*inside, "ip", "addr", "add", f"{server_ip}/24", "dev", ns_if)
        _run(*inside, "ip", "link", "set", ns_if, "up")
        _run(*inside, "ip", "link", "set", "lo", "up")
        _wait_ready(server, ready_timeout)
    except BaseException:
        server.stop()
        raise
    return server


def _wait_for_own_netns(proc: subprocess.Popen[bytes]) -> str:
    # `unshare` creates the namespace and then execs the server; until then the pid is still in ours,
    # and a veth end moved "into" it would land in the host namespace.
    mine = os.readlink("/proc/self/ns/net")
    path = f"/proc/{proc.pid}/ns/net"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise NamespaceError(f"`unshare --net` exited with {proc.returncode} (namespaces not permitted?)")
        with contextlib.suppress(OSError):
            if os.readlink(path) != mine:
                return path
        time.sleep(0.01)
    raise NamespaceError("the server never entered its own network namespace")


def _wait_ready(server: NamespacedServer, timeout: float) -> None:
    url = f"http://{server.server_ip}:{server.port}/"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise NamespaceError(f"server exited with {server.proc.returncode}; log: {server.log_path}")
        try:
            with urllib.request.urlopen(url, timeout=1) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise NamespaceError(f"server not ready at {url} after {timeout:.0f}s; log: {server.log_path}")
