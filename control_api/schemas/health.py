"""Liveness, readiness and the job scheduler's health. Their 503 answers carry these same shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import asyncpg
from pydantic import BaseModel, ConfigDict, Field

from control_api.schemas.formats import Timestamp

_AT = "2025-03-14T09:26:53.589793+00:00"


class Liveness(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "ok"}]})

    status: Literal["ok"]


class ServiceStatus(BaseModel):
    """`GET /` for API clients (seed 002's "Status da API")."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"status": "ok", "service": "escuta", "version": "0.1.0", "docs": "/docs", "health": "/health"}
            ]
        }
    )

    status: Literal["ok"]
    service: Literal["escuta"]
    version: str
    docs: str = Field(description="The interactive API documentation.")
    health: str = Field(description="Liveness; `/health/ready` adds the database.")


class Readiness(BaseModel):
    """Ready (200), or the database answers but this build has migrations it has not applied (503)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"status": "ready", "database": "ok", "pending_migrations": []},
                {"status": "unavailable", "database": "ok", "pending_migrations": ["0031_example"]},
            ]
        }
    )

    status: Literal["ready", "unavailable"]
    database: Literal["ok"]
    pending_migrations: list[str]


class DatabaseUnreachable(BaseModel):
    """Not ready (503): the database did not answer."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"status": "unavailable", "database": "unreachable", "reason": "ConnectionRefusedError"}]
        }
    )

    status: Literal["unavailable"]
    database: Literal["unreachable"]
    reason: str = Field(description="The kind of failure (an exception name), never its message.")


class SchedulerInstance(BaseModel):
    id: str = Field(description="`hostname:pid` for the platform admin; `instance-N` for anyone else.")
    heartbeat_at: Timestamp
    alive: bool


class SchedulerStatus(BaseModel):
    alive: bool = Field(description="Some scheduler process heartbeat is younger than `dead_after_seconds`.")
    last_heartbeat_at: Timestamp | None
    heartbeat_age_seconds: float | None
    dead_after_seconds: float
    leader: str | None = Field(description="The instance holding the leader lease, if it is current.")
    term: int | None
    instances: list[SchedulerInstance] = Field(description="Instances seen in the last day, newest heartbeat first.")


class AgentWorker(BaseModel):
    id: str = Field(
        description="The worker's label (`<agent name>-<8 hex>`) for the platform admin; `worker-N` for anyone else."
    )
    livekit_worker_id: str | None = Field(description="LiveKit's id for the worker (platform admin only).")
    agent_name: str
    profiles: list[str]
    started_at: Timestamp
    last_seen: Timestamp
    load: float = Field(description="0..1, as the worker reports it to LiveKit (`ESCUTA_WORKER_LOAD_MEASURE`).")
    jobs: int = Field(description="Rooms the worker is running.")


class AgentWorkersStatus(BaseModel):
    """The `escuta worker` processes whose heartbeat (every `ESCUTA_WORKER_HEARTBEAT_SECONDS`) is recent."""

    live: int = Field(description="Workers heard from within `dead_after_seconds` (three heartbeat intervals).")
    dead_after_seconds: float
    jobs: int = Field(description="Rooms running on them, in all.")
    mean_load: float | None
    workers: list[AgentWorker] = Field(description="The live workers, longest-running first.")

    @classmethod
    def from_rows(cls, rows: list[asyncpg.Record], *, dead_after: float, detailed: bool) -> AgentWorkersStatus:
        return cls(
            live=len(rows),
            dead_after_seconds=dead_after,
            jobs=sum(r["jobs"] for r in rows),
            mean_load=round(sum(r["load"] for r in rows) / len(rows), 3) if rows else None,
            workers=[
                AgentWorker(
                    id=r["label"] if detailed else f"worker-{n}",
                    livekit_worker_id=r["livekit_worker_id"] if detailed else None,
                    agent_name=r["agent_name"],
                    profiles=list(r["profiles"]),
                    started_at=r["started_at"],
                    last_seen=r["last_seen"],
                    load=round(r["load"], 3),
                    jobs=r["jobs"],
                )
                for n, r in enumerate(rows, 1)
            ],
        )


class JobStatus(BaseModel):
    name: str
    interval_seconds: float
    next_run_at: Timestamp
    last_started_at: Timestamp | None
    last_finished_at: Timestamp | None
    last_status: Literal["running", "ok", "error", "skipped"] | None
    last_error: str | None = Field(
        description="The failure's kind (`RuntimeError`); with its message for the platform admin only."
    )
    last_result: Any = Field(
        description="What the job's last run returned (JSON), for the platform admin only (null for others)."
    )
    runs: int
    failures: int

    @classmethod
    def from_row(cls, row: asyncpg.Record, *, detailed: bool) -> JobStatus:
        error: str | None = row["last_error"]
        if error is not None and not detailed:
            # Stored as "ExceptionType: message"; the message may carry internals meant for operators only.
            error = error.split(":", 1)[0]
        return cls(
            name=row["name"],
            interval_seconds=row["interval_seconds"],
            next_run_at=row["next_run_at"],
            last_started_at=row["last_started_at"],
            last_finished_at=row["last_finished_at"],
            last_status=row["last_status"],
            last_error=error,
            last_result=row["last_result"] if detailed else None,
            runs=row["runs"],
            failures=row["failures"],
        )


class WorkerHealth(BaseModel):
    """`ok` (200) while a scheduler heartbeats, `unhealthy` (503) otherwise, whatever the jobs' results."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "ok",
                    "scheduler": {
                        "alive": True,
                        "last_heartbeat_at": _AT,
                        "heartbeat_age_seconds": 1.204,
                        "dead_after_seconds": 30.0,
                        "leader": "host-1:4242",
                        "term": 3,
                        "instances": [{"id": "host-1:4242", "heartbeat_at": _AT, "alive": True}],
                    },
                    "jobs": [
                        {
                            "name": "clips.ingest",
                            "interval_seconds": 60.0,
                            "next_run_at": _AT,
                            "last_started_at": _AT,
                            "last_finished_at": _AT,
                            "last_status": "ok",
                            "last_error": None,
                            "last_result": {"clips_new": 3},
                            "runs": 120,
                            "failures": 0,
                        }
                    ],
                    "agent_workers": {
                        "live": 1,
                        "dead_after_seconds": 30.0,
                        "jobs": 2,
                        "mean_load": 0.25,
                        "workers": [
                            {
                                "id": "escuta-3f9c1a2b",
                                "livekit_worker_id": "AW_k3Xb9",
                                "agent_name": "escuta",
                                "profiles": ["balcao", "meeting_coach", "transcription"],
                                "started_at": _AT,
                                "last_seen": _AT,
                                "load": 0.25,
                                "jobs": 2,
                            }
                        ],
                    },
                }
            ]
        }
    )

    status: Literal["ok", "unhealthy"]
    scheduler: SchedulerStatus
    jobs: list[JobStatus]
    agent_workers: AgentWorkersStatus | None = Field(
        None,
        description="The agent workers' heartbeats (informational: the status is the scheduler's, since agent "
        "workers may run anywhere).",
    )

    @classmethod
    def from_status(
        cls,
        now: datetime,
        instances: list[asyncpg.Record],
        lease: asyncpg.Record | None,
        jobs: list[asyncpg.Record],
        *,
        dead_after: float,
        detailed: bool,
        agents: AgentWorkersStatus | None = None,
    ) -> WorkerHealth:
        live = [
            i for i in instances if i["stopped_at"] is None and (now - i["heartbeat_at"]).total_seconds() <= dead_after
        ]
        last_beat = instances[0]["heartbeat_at"] if instances else None
        # Instance ids are "hostname:pid" and job results count every tenant's data (clips found, credits
        # spent): for the platform admin only. Others see the instances numbered, newest heartbeat first.
        names = {i["id"]: (i["id"] if detailed else f"instance-{n}") for n, i in enumerate(instances, 1)}
        holder = lease["holder"] if lease and lease["expires_at"] > now else None
        return cls(
            status="ok" if live else "unhealthy",
            scheduler=SchedulerStatus(
                alive=bool(live),
                last_heartbeat_at=last_beat,
                heartbeat_age_seconds=round((now - last_beat).total_seconds(), 3) if last_beat else None,
                dead_after_seconds=dead_after,
                leader=None if holder is None else names.get(holder, holder if detailed else "instance-?"),
                term=lease["term"] if lease else None,
                instances=[
                    SchedulerInstance(id=names[i["id"]], heartbeat_at=i["heartbeat_at"], alive=i in live)
                    for i in instances
                ],
            ),
            jobs=[JobStatus.from_row(j, detailed=detailed) for j in jobs],
            agent_workers=agents,
        )
