"""Agent workers: the `/agent` websocket of livekit-agents, and dispatching jobs to it.

Protocol (livekit.protocol.agent): the worker connects with a JWT carrying the `agent` video grant,
sends `WorkerMessage.register`, and must get `ServerMessage.register` first. For each job we send an
`availability` request; a worker that accepts answers with the identity it wants, and we send an
`assignment` with a room token minted for that identity. Workers report `update_worker` (status, load)
and `update_job` (job status) and ping us.

Dispatch rules, as in LiveKit: a worker registered with no agent name gets every new room
(automatic dispatch) unless the room's configuration names agents; a named agent is dispatched only
explicitly, by the creating token's `RoomConfiguration.agents`, CreateRoom's `agents`, or
`AgentDispatchService.CreateDispatch`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web
from livekit import api
from livekit.protocol import agent, agent_dispatch, models

from .context import CTX, AuthError, bearer_token, verify
from .ids import new_id
from .rooms import Room, RoomObserver, Rooms

log = logging.getLogger("livekit_sim.dispatch")

AVAILABILITY_TIMEOUT = 10.0
SERVER_VERSION = "1.9.0-livekit-sim"


@dataclass
class Worker:
    id: str
    agent_name: str
    job_type: agent.JobType
    permissions: models.ParticipantPermission
    ws: web.WebSocketResponse
    status: agent.WorkerStatus = agent.WS_AVAILABLE
    load: float = 0.0
    offered: list[str] = field(default_factory=list)  # ids of the jobs offered to it, in order
    answers: dict[str, asyncio.Future[agent.AvailabilityResponse]] = field(default_factory=dict)

    async def send(self, msg: agent.ServerMessage) -> None:
        await self.ws.send_bytes(msg.SerializeToString())


@dataclass
class Dispatch:
    agent_name: str
    room: str
    metadata: str = ""
    id: str = field(default_factory=lambda: new_id("AD"))
    created_at: int = field(default_factory=lambda: int(time.time()))
    jobs: list[agent.Job] = field(default_factory=list)

    def proto(self) -> agent_dispatch.AgentDispatch:
        return agent_dispatch.AgentDispatch(
            id=self.id,
            agent_name=self.agent_name,
            room=self.room,
            metadata=self.metadata,
            state=agent_dispatch.AgentDispatchState(jobs=self.jobs, created_at=self.created_at),
        )


class AgentDispatcher(RoomObserver):
    def __init__(self, rooms: Rooms, api_key: str, api_secret: str) -> None:
        self._rooms = rooms
        self._key = api_key
        self._secret = api_secret
        self.workers: dict[str, Worker] = {}
        self.dispatches: dict[str, list[Dispatch]] = {}  # by room name
        self._unassigned: list[Dispatch] = []
        self._tasks: set[asyncio.Task[None]] = set()

    # --- dispatches ---------------------------------------------------------------------------------

    def create_dispatch(self, room: Room, agent_name: str, metadata: str) -> Dispatch:
        d = Dispatch(agent_name=agent_name, room=room.name, metadata=metadata)
        self.dispatches.setdefault(room.name, []).append(d)
        self._spawn(self._launch(room, d))
        return d

    def list_dispatches(self, room_name: str) -> list[Dispatch]:
        return list(self.dispatches.get(room_name, []))

    def delete_dispatch(self, room_name: str, dispatch_id: str) -> Dispatch | None:
        for d in self.dispatches.get(room_name, []):
            if d.id == dispatch_id:
                self.dispatches[room_name].remove(d)
                return d
        return None

    def room_started(self, room: Room) -> None:
        if room.agents:
            for a in room.agents:
                self.create_dispatch(room, a.agent_name, a.metadata)
        elif any(w.agent_name == "" for w in self.workers.values()):
            self.create_dispatch(room, "", "")

    def room_finished(self, room: Room) -> None:
        for d in self.dispatches.pop(room.name, []):
            with contextlib.suppress(ValueError):
                self._unassigned.remove(d)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _launch(self, room: Room, d: Dispatch) -> None:
        job = agent.Job(
            id=new_id("AJ"),
            dispatch_id=d.id,
            type=agent.JT_ROOM,
            room=room.info(),
            agent_name=d.agent_name,
            metadata=d.metadata,
            state=agent.JobState(status=agent.JS_PENDING, updated_at=int(time.time())),
        )
        tried: set[str] = set()
        while not room.closed:
            worker = self._pick(d.agent_name, tried)
            if worker is None:
                # No worker (yet): a matching worker that registers later gets the job.
                if d not in self._unassigned:
                    self._unassigned.append(d)
                return
            tried.add(worker.id)
            if await self._offer(worker, room, job):
                d.jobs.append(job)
                return

    def _pick(self, agent_name: str, exclude: set[str]) -> Worker | None:
        candidates = [
            w
            for w in self.workers.values()
            if w.agent_name == agent_name
            and w.job_type == agent.JT_ROOM
            and w.status == agent.WS_AVAILABLE
            and w.id not in exclude
        ]
        return min(candidates, key=lambda w: w.load, default=None)

    async def _offer(self, worker: Worker, room: Room, job: agent.Job) -> bool:
        answer: asyncio.Future[agent.AvailabilityResponse] = asyncio.get_running_loop().create_future()
        worker.answers[job.id] = answer
        worker.offered.append(job.id)
        try:
            await worker.send(agent.ServerMessage(availability=agent.AvailabilityRequest(job=job)))
            resp = await asyncio.wait_for(answer, AVAILABILITY_TIMEOUT)
        except (TimeoutError, ConnectionError):
            return False
        finally:
            worker.answers.pop(job.id, None)
        if not resp.available:
            return False
        identity = resp.participant_identity or f"agent-{job.id}"
        job.state.participant_identity = identity
        job.state.worker_id = worker.id
        job.state.updated_at = int(time.time())
        token = self._job_token(worker, room, identity, resp)
        try:
            await worker.send(agent.ServerMessage(assignment=agent.JobAssignment(job=job, token=token)))
        except ConnectionError:
            return False
        log.info("job %s (%s) assigned to %s in %s", job.id, job.agent_name or "<auto>", worker.id, room.name)
        return True

    def _job_token(self, worker: Worker, room: Room, identity: str, resp: agent.AvailabilityResponse) -> str:
        perm = worker.permissions
        return (
            api.AccessToken(self._key, self._secret)
            .with_identity(identity)
            .with_name(resp.participant_name)
            .with_metadata(resp.participant_metadata)
            .with_attributes(dict(resp.participant_attributes))
            .with_kind("agent")
            .with_grants(
                api.VideoGrants(
                    room_join=True,
                    room=room.name,
                    can_publish=perm.can_publish,
                    can_subscribe=perm.can_subscribe,
                    can_publish_data=perm.can_publish_data,
                    can_update_own_metadata=perm.can_update_metadata,
                    hidden=perm.hidden,
                    agent=True,
                )
            )
            .to_jwt()
        )

    def _find_job(self, job_id: str) -> agent.Job | None:
        for ds in self.dispatches.values():
            for d in ds:
                for job in d.jobs:
                    if job.id == job_id:
                        return job
        return None

    # --- worker connection --------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        try:
            claims = verify(request.app[CTX], bearer_token(request))
        except AuthError as exc:
            return web.Response(status=401, text=str(exc))
        if claims.video is None or not claims.video.agent:
            return web.Response(status=401, text="permissions denied: token has no agent grant")
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        first = await ws.receive()
        msg = agent.WorkerMessage()
        if first.type != WSMsgType.BINARY:
            await ws.close()
            return ws
        msg.ParseFromString(first.data)
        if msg.WhichOneof("message") != "register":
            await ws.close(code=1002, message=b"expected register")
            return ws
        reg = msg.register
        worker = Worker(
            id=new_id("AW"),
            agent_name=reg.agent_name,
            job_type=reg.type,
            permissions=reg.allowed_permissions,
            ws=ws,
        )
        await worker.send(
            agent.ServerMessage(
                register=agent.RegisterWorkerResponse(
                    worker_id=worker.id,
                    server_info=models.ServerInfo(
                        edition=models.ServerInfo.Standard,
                        version=SERVER_VERSION,
                        protocol=16,
                        node_id="livekit-sim",
                        region="livekit-sim",
                    ),
                )
            )
        )
        self.workers[worker.id] = worker
        log.info("worker %s registered (agent_name=%r)", worker.id, worker.agent_name)
        self._retry_unassigned(worker)
        try:
            async for frame in ws:
                if frame.type == WSMsgType.BINARY:
                    m = agent.WorkerMessage()
                    m.ParseFromString(frame.data)
                    await self._on_message(worker, m)
        finally:
            del self.workers[worker.id]
            for fut in worker.answers.values():
                fut.cancel()
            log.info("worker %s gone", worker.id)
        return ws

    def _retry_unassigned(self, worker: Worker) -> None:
        for d in [d for d in self._unassigned if d.agent_name == worker.agent_name]:
            self._unassigned.remove(d)
            room = self._rooms.find_room(d.room)
            if room is not None:
                self._spawn(self._launch(room, d))

    async def _on_message(self, worker: Worker, m: agent.WorkerMessage) -> None:
        which = m.WhichOneof("message")
        if which == "availability":
            fut = worker.answers.get(m.availability.job_id)
            if fut is not None and not fut.done():
                fut.set_result(m.availability)
        elif which == "update_worker":
            was = worker.status
            worker.status = m.update_worker.status
            worker.load = m.update_worker.load
            if was != agent.WS_AVAILABLE and worker.status == agent.WS_AVAILABLE:
                # A dispatch that found every matching worker FULL waits for capacity, as LiveKit's does.
                self._retry_unassigned(worker)
        elif which == "update_job":
            job = self._find_job(m.update_job.job_id)
            if job is not None:
                job.state.status = m.update_job.status
                job.state.error = m.update_job.error
                job.state.updated_at = int(time.time())
                if m.update_job.status == agent.JS_RUNNING and not job.state.started_at:
                    job.state.started_at = int(time.time())
                elif m.update_job.status in (agent.JS_SUCCESS, agent.JS_FAILED):
                    job.state.ended_at = int(time.time())
        elif which == "ping":
            now = int(time.time() * 1000)
            await worker.send(
                agent.ServerMessage(pong=agent.WorkerPong(last_timestamp=m.ping.timestamp, timestamp=now))
            )
        else:
            log.debug("ignoring worker message %s", which)
