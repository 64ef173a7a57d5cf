"""`escuta worker` with no LiveKit server: it keeps retrying with a clear log line instead of exiting."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time


def test_worker_keeps_retrying_without_livekit() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]  # nothing listens here once the socket closes
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ESCUTA_", "LIVEKIT_"))}
    env.update(LIVEKIT_URL=f"ws://127.0.0.1:{closed_port}", ESCUTA_WORKER_HTTP_PORT="0", ESCUTA_LOG_FORMAT="json")
    proc = subprocess.Popen(
        [sys.executable, "-m", "escuta.cli", "worker"],
        env=env,
        stderr=subprocess.STDOUT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 45
        retries = 0
        seen: list[str] = []
        assert proc.stdout is not None
        os.set_blocking(proc.stdout.fileno(), False)
        while time.monotonic() < deadline and retries < 3:
            line = proc.stdout.readline()
            if not line:
                assert proc.poll() is None, "the worker exited instead of retrying:\n" + "".join(seen)
                time.sleep(0.1)
                continue
            seen.append(line)
            if "failed to connect to livekit, retrying" in line:
                retries += 1
        assert retries >= 3, "".join(seen[-20:])
        assert any("keeps retrying until the server answers" in s for s in seen)
        assert proc.poll() is None
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
