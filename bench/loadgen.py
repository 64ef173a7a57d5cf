"""A bounded HTTP load generator for the benches: fixed request list, fixed concurrency, latencies out."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import psutil


@dataclass
class LoadResult:
    label: str
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def pct(self, p: float) -> float:
        xs = sorted(self.latencies_ms)
        if not xs:
            return float("nan")
        return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


async def run_load(
    label: str,
    url: str,
    requests: Sequence[tuple[bytes, dict[str, str]]],
    concurrency: int,
    request_timeout: float = 30.0,
) -> LoadResult:
    queue: asyncio.Queue[tuple[bytes, dict[str, str]]] = asyncio.Queue()
    for r in requests:
        queue.put_nowait(r)
    latencies: list[float] = []
    errors = 0
    conn = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=conn, timeout=aiohttp.ClientTimeout(total=request_timeout)) as session:

        async def worker() -> None:
            nonlocal errors
            while True:
                try:
                    body, headers = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                t = time.perf_counter()
                async with session.post(url, data=body, headers=headers) as resp:
                    await resp.read()
                    if resp.status >= 400:
                        errors += 1
                latencies.append((time.perf_counter() - t) * 1000)

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    return LoadResult(label, len(requests), errors, elapsed, latencies)


class _LeanClient(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection sending pre-built requests one after another."""

    def __init__(self, shared: _LeanShared) -> None:
        self.shared = shared
        self.buffer = b""
        self.sent_at = 0.0
        self.finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self._send_next()

    def _send_next(self) -> None:
        assert self.transport is not None
        wire = self.shared.next()
        if wire is None:
            self.transport.close()
            if not self.finished.done():
                self.finished.set_result(None)
            return
        self.sent_at = time.perf_counter()
        self.transport.write(wire)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = self.buffer[:end].lower()
        at = head.find(b"content-length:")
        length = 0
        if at >= 0:
            stop = head.find(b"\r\n", at)
            length = int(head[at + 15 : stop if stop >= 0 else len(head)])
        if len(self.buffer) < end + 4 + length:
            return
        self.shared.done(int(self.buffer[9:12]), (time.perf_counter() - self.sent_at) * 1000)
        self.buffer = self.buffer[end + 4 + length :]
        self._send_next()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.finished.done():
            if self.shared.remaining():
                self.finished.set_exception(ConnectionError(f"the server closed a connection: {exc}"))
            else:
                self.finished.set_result(None)


@dataclass
class _LeanShared:
    wires: list[bytes]
    index: int = 0
    errors: int = 0
    latencies_ms: list[float] = field(default_factory=list)

    def next(self) -> bytes | None:
        if self.index >= len(self.wires):
            return None
        self.index += 1
        return self.wires[self.index - 1]

    def remaining(self) -> bool:
        return self.index < len(self.wires)

    def done(self, status: int, ms: float) -> None:
        self.latencies_ms.append(ms)
        if status >= 400:
            self.errors += 1


async def run_load_lean(
    label: str,
    url: str,
    requests: Sequence[tuple[bytes, dict[str, str]]],
    concurrency: int,
    request_timeout: float = 60.0,
) -> LoadResult:
    """:func:`run_load` with a client that costs almost no CPU: raw keep-alive HTTP/1.1 connections
    writing requests serialized before the clock starts (a few microseconds each, against ~100 for
    aiohttp). On two cores shared with the servers, aiohttp's own CPU was what the servers competed with;
    this one leaves the cores to them, so a second server process has a core to scale onto."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    wires = []
    for body, headers in requests:
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        wires.append(
            f"POST {parts.path} HTTP/1.1\r\nHost: {host}:{port}\r\n{head}Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
    shared = _LeanShared(wires)
    loop = asyncio.get_running_loop()
    start = time.perf_counter()
    clients = []
    for _ in range(min(concurrency, len(wires))):
        _, client = await loop.create_connection(lambda: _LeanClient(shared), host, port)
        clients.append(client)
    await asyncio.wait_for(asyncio.gather(*(c.finished for c in clients)), request_timeout + len(wires) / 100)
    elapsed = time.perf_counter() - start
    return LoadResult(label, len(wires), shared.errors, elapsed, shared.latencies_ms)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_uvicorn(
    app_path: str, port: int, env: dict[str, str], *, workers: int = 1, tree: str | None = None
) -> subprocess.Popen[bytes]:
    """A uvicorn server; ``workers`` > 1 shares one socket among processes, ``tree`` runs another checkout's
    code (e.g. main's, for a before/after in the same run) with this interpreter and its packages."""
    extra = ["--workers", str(workers)] if workers > 1 else []
    if tree is not None:
        env = {**env, "PYTHONPATH": tree}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            app_path,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
            *extra,
        ],
        env={**os.environ, **env},
        cwd=tree,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"{app_path} exited with {proc.returncode}") from None
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{app_path} did not start")


def process_cpu_seconds(proc: subprocess.Popen[bytes]) -> float:
    """User + system CPU of a server and its worker processes so far."""
    try:
        root = psutil.Process(proc.pid)
        total = 0.0
        for p in [root, *root.children(recursive=True)]:
            t = p.cpu_times()
            total += t.user + t.system
        return total
    except psutil.NoSuchProcess:
        return 0.0


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


_ROOT = Path(__file__).resolve().parent.parent


class LoadProcess:
    """Rounds of load from a process of its own, until :meth:`stop`: the clients of a real deployment.

    A load generator in the bench's own event loop shares it with whatever else the bench does (reading a
    10 MB download, say) and measures that as server latency. Here it runs in a child process at the
    bench's priority, fed the requests through a file, and answers its latencies when told to stop.
    """

    def __init__(
        self,
        url: str,
        requests: Sequence[tuple[bytes, dict[str, str]]],
        concurrency: int,
        rate: float | None = None,
    ) -> None:
        """``rate`` (requests/s): an open loop at that rate instead of ``concurrency`` clients."""
        self._spec = {
            "url": url,
            "concurrency": concurrency,
            "rate": rate,
            "requests": [[body.decode(), headers] for body, headers in requests],
        }
        self._proc: asyncio.subprocess.Process | None = None
        self._started = 0.0

    async def start(self) -> None:
        fd, path = tempfile.mkstemp(prefix="escuta-load-", suffix=".json")
        with os.fdopen(fd, "w") as f:
            json.dump(self._spec, f)
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.loadgen", path,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            cwd=_ROOT,
        )  # fmt: skip
        self._started = time.perf_counter()
        assert self._proc.stdout is not None
        await self._proc.stdout.readline()  # "ready": the first round has started

    async def stop(self, label: str) -> LoadResult:
        assert self._proc is not None and self._proc.stdin is not None
        self._proc.stdin.write(b"stop\n")
        await self._proc.stdin.drain()
        out, _ = await self._proc.communicate()
        answer = json.loads(out)
        return LoadResult(label, answer["requests"], answer["errors"], answer["seconds"], answer["latencies_ms"])


def _read_spec(spec_path: str) -> dict[str, Any]:
    path = Path(spec_path)
    spec: dict[str, Any] = json.loads(path.read_text())
    path.unlink()
    return spec


async def open_loop_load(
    url: str, requests: Sequence[tuple[bytes, dict[str, str]]], rate: float, stop: asyncio.Future[Any]
) -> LoadResult:
    """Requests at a fixed rate (open loop) until ``stop`` is done: what a latency goal is measured with.

    A closed loop (N clients each waiting for its answer) sends as fast as the server answers, so it uses
    every core it can and measures throughput; traffic arrives at its own pace instead. Latency is counted
    from when each request was due, not when it went out, so a stalled server cannot hide its stall by
    delaying the requests behind it (coordinated omission).
    """
    latencies: list[float] = []
    errors = 0
    tasks: set[asyncio.Task[None]] = set()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256)) as session:

        async def one(body: bytes, headers: dict[str, str], due: float) -> None:
            nonlocal errors
            try:
                async with session.post(url, data=body, headers=headers) as resp:
                    await resp.read()
                    errors += resp.status >= 400
            except aiohttp.ClientError:
                errors += 1
            latencies.append((time.perf_counter() - due) * 1000)

        start = time.perf_counter()
        i = 0
        while not stop.done():
            due = start + i / rate
            wait = due - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            body, headers = requests[i % len(requests)]
            task = asyncio.create_task(one(body, headers, due))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            i += 1
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    return LoadResult("open loop", len(latencies), errors, elapsed, latencies)


async def _serve_load(spec_path: str) -> None:
    """The child of :class:`LoadProcess`: rounds of load until a line arrives on stdin."""
    spec = _read_spec(spec_path)
    requests = [(body.encode(), headers) for body, headers in spec["requests"]]
    loop = asyncio.get_running_loop()
    told = loop.run_in_executor(None, sys.stdin.readline)
    print("ready", flush=True)
    latencies: list[float] = []
    errors = n = 0
    started = time.perf_counter()
    if spec.get("rate"):
        r = await open_loop_load(spec["url"], requests, spec["rate"], told)
        latencies, errors, n = r.latencies_ms, r.errors, r.requests
    while not told.done():
        r = await run_load("load", spec["url"], requests, spec["concurrency"])
        latencies += r.latencies_ms
        errors += r.errors
        n += r.requests
    seconds = time.perf_counter() - started
    print(json.dumps({"requests": n, "errors": errors, "seconds": seconds, "latencies_ms": latencies}), flush=True)


if __name__ == "__main__":
    asyncio.run(_serve_load(sys.argv[1]))
