"""The deployment files, checked by reading (Docker cannot run where Escuta is developed): every compose
file loads, names files that exist and settings that exist, LiveKit is reachable the way LiveKit documents
for Docker, the image copies every package, and the wheel carries every data file (issue 20.6)."""

from __future__ import annotations

import ipaddress
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from core.settings import flat_fields

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILES = [ROOT / "docker-compose.yml", ROOT / "deploy" / "multinode.compose.yaml"]


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    return data


def _envs(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: p.name)
def test_compose_file_names_what_exists(path: Path) -> None:
    compose = _load(path)
    services = compose["services"]
    known_settings = {name for f in flat_fields().values() for name in f.env_names}
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = str(volume).split(":", 1)[0]
            if source.startswith("."):
                assert (path.parent / source).exists(), f"{name}: {source} does not exist"
        build = service.get("build")
        if build is not None:
            context = path.parent / (build if isinstance(build, str) else build["context"])
            assert (context / "Dockerfile").exists(), f"{name}: no Dockerfile in {context}"
        for dep in service.get("depends_on", []):
            assert dep in services, f"{name} depends on unknown service {dep}"
        for var in _envs(service):
            if var.startswith(("ESCUTA_", "LIVEKIT_")):
                assert var in known_settings, f"{name}: {var} is not an Escuta setting"


def test_livekit_runs_on_the_host_network_and_its_config_exists() -> None:
    """LiveKit in Docker's bridge network advertises 172.x ICE candidates browsers cannot reach."""
    services = _load(ROOT / "docker-compose.yml")["services"]
    livekit = services["livekit"]
    assert livekit.get("network_mode") == "host"
    assert "ports" not in livekit  # meaningless with host networking
    config = _load(ROOT / "deploy" / "livekit.compose.yaml")
    # Host networking: the API is reached on the host's published port, not by a service name.
    assert config["webhook"]["urls"] == ["http://127.0.0.1:8000/livekit/webhook"]
    assert "8000:8000" in [str(p).split(" ")[0] for p in services["api"]["ports"]]
    for name in ("api", "worker"):
        assert "host.docker.internal:host-gateway" in services[name]["extra_hosts"]
        assert _envs(services[name])["LIVEKIT_URL"] == "ws://host.docker.internal:7880"


def test_multinode_shape() -> None:
    deploy = ROOT / "deploy"
    services = _load(deploy / "multinode.compose.yaml")["services"]
    nodes = [s for n, s in services.items() if n.startswith("livekit-")]
    assert len(nodes) >= 2
    rtc_ports = set()
    for node in nodes:
        assert "--node-ip" in node["command"]  # bridge networking: the address browsers reach is named
        config = _load(deploy / node["volumes"][0].split(":")[0])
        assert config["redis"]["address"] == "redis:6379"  # one cluster
        assert config["webhook"]["urls"] == ["http://lb:80/livekit/webhook"]
        ports = (config["rtc"]["tcp_port"], config["rtc"]["udp_port"])
        assert ports not in rtc_ports
        rtc_ports.add(ports)
        published = {str(p).split(":")[0] for p in node["ports"]}
        assert {str(config["rtc"]["tcp_port"]), str(config["rtc"]["udp_port"])} <= published
    apis = [n for n in services if n.startswith("api-")]
    assert len(apis) >= 2
    nginx = (deploy / "nginx.multinode.conf").read_text()
    for api in apis:
        assert f"server {api}:8000" in nginx
    for node in (n for n in services if n.startswith("livekit-")):
        assert f"server {node}:7880" in nginx
    assert "Upgrade $http_upgrade" in nginx  # WebSockets pass through
    assert _envs(services["worker"])["LIVEKIT_URL"] == "ws://lb:7880"
    # Forwarded addresses are believed from the balancer's network only (issue 14.5's trusted proxies).
    for a in apis:
        proxies = json.loads(_envs(services[a])["ESCUTA_TRUSTED_PROXIES"])
        assert proxies and all(ipaddress.ip_network(p).is_private for p in proxies)


def _packages() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    includes: list[str] = project["tool"]["setuptools"]["packages"]["find"]["include"]
    return [p.rstrip("*") for p in includes]


def test_the_image_copies_every_package() -> None:
    copied = set(re.findall(r"^COPY (\w+) \./\1$", (ROOT / "Dockerfile").read_text(), re.MULTILINE))
    assert set(_packages()) <= copied, f"missing from the Dockerfile: {set(_packages()) - copied}"


def test_every_data_file_is_package_data() -> None:
    """A non-Python file inside a package reaches an installed Escuta (the image) only through package-data."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    package_data: dict[str, list[str]] = project["tool"]["setuptools"]["package-data"]
    missing = []
    for package in _packages():
        for path in (ROOT / package).rglob("*"):
            if not path.is_file() or path.suffix in {".py", ".pyc"} or "__pycache__" in path.parts:
                continue
            owner = path.parent
            while owner != ROOT and ".".join(owner.relative_to(ROOT).parts) not in package_data:
                owner = owner.parent
            globs = package_data.get(".".join(owner.relative_to(ROOT).parts), []) if owner != ROOT else []
            if not any(path.relative_to(owner).match(g) for g in globs):
                missing.append(str(path.relative_to(ROOT)))
    assert missing == []
