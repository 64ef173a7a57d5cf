"""The agent worker: the name LiveKit dispatches, and how it reports its load."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from core.settings.base import Section


class WorkerSettings(Section):
    prefix: ClassVar[str] = "worker_"
    flat_names: ClassVar[dict[str, str]] = {"agent_name": "agent_name"}

    agent_name: str = Field(
        "escuta",
        description="Name the worker registers with; tokens dispatch this name. Empty = automatic dispatch.",
    )
    load_threshold: float = Field(
        0.75,
        gt=0,
        description="Load (0..1, see `ESCUTA_WORKER_LOAD_MEASURE`) at which the worker stops taking new jobs; "
        "above 1 it never does (tests use that; livekit-agents warns about it).",
    )
    load_measure: Literal["cpu", "jobs"] = Field(
        "cpu",
        description="How the worker reports its load to LiveKit. `cpu`: livekit-agents' default, the host's CPU "
        "use averaged over 2.5 s, for a worker that has its host to itself. `jobs`: running jobs / "
        "`ESCUTA_WORKER_MAX_JOBS`, a fixed capacity per worker process whatever else runs on the host (shared hosts, "
        "several workers per machine); with a threshold of 1 the worker takes exactly that many jobs.",
    )
    max_jobs: int = Field(
        8,
        ge=1,
        description="Jobs (rooms) one worker process runs at full load when `ESCUTA_WORKER_LOAD_MEASURE=jobs`.",
    )
    num_idle_processes: int = Field(1, ge=0, description="Job processes kept warm (models loaded) ahead of dispatch.")
    http_port: int = Field(8081, ge=0, le=65535, description="Worker health endpoint port (0=random).")
    heartbeat_seconds: float = Field(
        10.0,
        gt=0,
        description="How often each worker records its heartbeat (load, jobs) in PostgreSQL; one silent for three "
        "intervals counts as gone in the console and `/health/worker`.",
    )

    @property
    def dead_after_seconds(self) -> float:
        return 3 * self.heartbeat_seconds
