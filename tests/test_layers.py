"""The layers of the tree point down only, and all SQL lives in `db/` (README, "Layers").

    escuta/                      the `escuta` command: CLI, supervisor             (top)
    agents/  control_api/  jobs/ realtime workers, HTTP API, background jobs       (side by side)
    stt/                         speech-to-text providers, shared by agents and API
    db/                          PostgreSQL: pool, migrations, every query
    core/                        settings, crypto, security, logging, domain types  (ground)

A module may import its own package and any layer below it; never one above, nor a sibling on its own
level. Imports inside functions count too: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LEVEL = {"core": 0, "db": 1, "stt": 2, "agents": 3, "control_api": 3, "jobs": 3, "escuta": 4}
# SQL statements in string literals (a docstring that mentions a table does not match these shapes).
SQL = re.compile(r"\b(SELECT\s+[\w*(]|INSERT\s+INTO\s|UPDATE\s+\w+\s+SET\s|DELETE\s+FROM\s|COPY\s+\w+)", re.IGNORECASE)


def _modules(package: str) -> list[Path]:
    return sorted(p for p in (ROOT / package).rglob("*.py") if "__pycache__" not in p.parts)


def imported_packages(path: Path) -> list[tuple[int, str]]:
    """(line, top-level package) of every absolute import in the file, at any depth."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split(".")[0]))
    return found


def violations(package: str) -> list[str]:
    own = LEVEL[package]
    bad = []
    for path in _modules(package):
        for line, target in imported_packages(path):
            if target == package or target not in LEVEL:
                continue
            if LEVEL[target] >= own:
                where = "above" if LEVEL[target] > own else "beside"
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {target} ({where} {package})")
    return bad


@pytest.mark.parametrize("package", sorted(LEVEL))
def test_a_layer_imports_only_layers_below_it(package: str) -> None:
    assert violations(package) == []


def test_the_checker_sees_an_upward_import(tmp_path: Path) -> None:
    """The check itself: a lazy import of a higher layer inside a function is found."""
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from agents.worker import entrypoint\n    import control_api.app\n")
    assert [t for _, t in imported_packages(module)] == ["agents", "control_api"]


def sql_outside_db() -> list[str]:
    bad = []
    for package in LEVEL:
        if package == "db":
            continue
        for path in _modules(package):
            tree = ast.parse(path.read_text())
            docstrings = {
                id(n.body[0].value)
                for n in ast.walk(tree)
                if isinstance(n, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
                and n.body
                and isinstance(n.body[0], ast.Expr)
                and isinstance(n.body[0].value, ast.Constant)
            }
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Constant)
                    and isinstance(node.value, str)
                    and id(node) not in docstrings
                    and SQL.search(node.value)
                ):
                    bad.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return bad


def test_all_sql_is_in_db() -> None:
    assert sql_outside_db() == []
