"""The whole OpenAPI document, fuzzed: every operation, valid and invalid input, two organizations.

Schemathesis generates requests from `/openapi.json` (positive cases that match the schema and negative
ones that do not) and sends them to a real `escuta api` process on the test database. Each request
carries a credential its operation accepts, drawn from two organizations (owner tokens, device keys,
publishable keys) and the platform admin. Every answer must be: not a 5xx, a status code the document
lists for that operation, of the documented content type, and shaped as documented.

Bounded for CI (about two minutes): `ESCUTA_FUZZ_EXAMPLES` examples per operation and mode (default 10),
derandomized so a failure reproduces. A failure prints the request as a curl command; all of them are
written to `tests/output/fuzz-failures.txt`. `ESCUTA_FUZZ_ONLY=<regex>` fuzzes only matching operations.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from control_api.app import create_app
from tests.conftest import make_settings
from tests.contract.live_api import LiveApi, make_tenant, running_api
from tests.robust.figures import record

Operation = schemathesis.APIOperation[Any, Any, Any, Any]
EXAMPLES = int(os.environ.get("ESCUTA_FUZZ_EXAMPLES", "10"))
ONLY = os.environ.get("ESCUTA_FUZZ_ONLY", "")  # a regex on "METHOD /path", to fuzz a few operations while working
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
OUTPUT = Path(__file__).resolve().parents[1] / "output"
TRIED: Counter[str] = Counter()  # requests sent, per generation mode (the figures in docs/security.md)


@pytest.fixture(scope="module")
def live(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApi]:
    data_dir = tmp_path_factory.mktemp("fuzz-api")
    OUTPUT.mkdir(exist_ok=True)
    with running_api(database_url, data_dir, OUTPUT / "fuzz-api.log") as api:
        import httpx

        with httpx.Client(base_url=api.base_url, timeout=30) as client:
            api.tenants = [make_tenant(client, "Farmácia A"), make_tenant(client, "Farmácia B")]
        yield api


def credential(operation: Operation, api: LiveApi, choice: int) -> dict[str, str]:
    """A credential the operation accepts, chosen by ``choice`` among every kind it lists."""
    schemes = {name for requirement in operation.definition.raw.get("security", []) for name in requirement}
    options: list[dict[str, str]] = [{}]  # an operation without security gets no credential
    if schemes:
        options = []
        for tenant in api.tenants:
            if "accessToken" in schemes:
                options.append(tenant.user())
            if "apiKey" in schemes:
                options += [tenant.device(), tenant.browser()]
        if "adminToken" in schemes:
            options.append(api.admin())
    return options[choice % len(options)]


def operations() -> list[Operation]:
    schema = schemathesis.openapi.from_dict(create_app(make_settings()).openapi())
    found: list[Operation] = []
    for result in schema.get_all_operations():
        found.append(result.ok())  # type: ignore[union-attr]  # an invalid operation raises here
    return found


def run_operation(operation: Operation, api: LiveApi, session: requests.Session) -> list[str]:
    failures: list[str] = []
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        run_mode(operation, api, session, mode, failures)
    return failures


def run_mode(
    operation: Operation,
    api: LiveApi,
    session: requests.Session,
    mode: GenerationMode,
    failures: list[str],
) -> None:
    @given(case=operation.as_strategy(generation_mode=mode), choice=st.integers(0, 7))
    @hypothesis_settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any, choice: int) -> None:
        TRIED[mode.value] += 1
        headers = {**(case.headers or {}), **credential(operation, api, choice)}
        response = case.call(base_url=api.base_url, session=session, headers=headers, timeout=30)
        try:
            case.validate_response(response, checks=CHECKS)
        except (AssertionError, BaseExceptionGroup) as exc:  # one failure group per response
            curl = case.as_curl_command(headers=headers)
            outcome = f"{operation.label} [{mode.value}] -> {response.status_code}"
            failures.append(f"{outcome}: {_summary(exc)}\n    {curl}")

    try:
        check()
    except Unsatisfiable:
        assert mode is GenerationMode.NEGATIVE  # nothing to get wrong (no parameters, no body)


def _summary(exc: BaseException) -> str:
    inner = exc.exceptions if isinstance(exc, BaseExceptionGroup) else [exc]
    return "; ".join(str(e).strip().splitlines()[0] for e in inner)


def test_every_operation_answers_as_documented(live: LiveApi) -> None:
    found: list[str] = []
    with requests.Session() as session:
        for operation in operations():
            if re.search(ONLY, operation.label):
                found += run_operation(operation, live, session)
    report = "\n".join(found)
    (OUTPUT / "fuzz-failures.txt").write_text(report)
    record(
        "fuzz",
        {
            "examples_per_operation_and_mode": EXAMPLES,
            "inputs_tried": sum(TRIED.values()),
            "inputs_by_mode": dict(TRIED),
            "failures": len(found),
            "server_errors": sum("not_a_server_error" in f or "-> 5" in f for f in found),
        },
    )
    assert not found, f"{len(found)} contract failures:\n{report[:20000]}"


def test_the_fuzzer_reaches_every_operation() -> None:
    """No operation is silently skipped (an unparseable schema would drop it)."""
    labels = {op.label for op in operations()}
    spec = create_app(make_settings()).openapi()
    expected = {f"{method.upper()} {path}" for path, item in spec["paths"].items() for method in item}
    assert labels == expected
