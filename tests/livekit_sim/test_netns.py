"""Without root the fixture must fail loudly (one line saying why), never skip or pass."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .netns import REPO_ROOT


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
