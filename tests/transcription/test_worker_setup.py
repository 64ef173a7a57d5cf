"""How `escuta worker` is set up: load reporting from settings, and the models its setup hook loads once
per job process and every job then uses."""

from __future__ import annotations

import asyncio
import gc
import json
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest
from livekit import rtc
from livekit.agents import AgentServer, JobExecutorType, JobProcess

import agents.audio.chain
import agents.room
from agents import worker
from agents.audio import SileroModel, load_silero
from agents.audio.frames import SAMPLE_RATE, frames_from_array
from agents.audio.vad.silero import SileroVAD
from agents.room import RoomListener
from agents.transcription.profile import TranscriptionProfile
from core.settings import Settings
from stt.local_whisper import WhisperSTT, load_whisper
from tests.conftest import make_settings
from tests.transcription.speech import SCRIPT_B, recording
from tests.transcription.test_worker_dispatch import StandInJobContext


class BusyServer(AgentServer):
    """An `AgentServer` whose running jobs the test decides (livekit fills them from its process pool)."""

    running: ClassVar[list[Any]] = []

    @property
    def active_jobs(self) -> list[Any]:
        return self.running


def build(monkeypatch: pytest.MonkeyPatch, **overrides: Any) -> BusyServer:
    monkeypatch.setattr(worker, "AgentServer", BusyServer)
    server = worker.build_server(make_settings(**overrides))
    assert isinstance(server, BusyServer)
    return server


def test_cpu_load_is_livekit_agents_default_and_the_threshold_comes_from_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = build(monkeypatch, worker_load_threshold=0.6)
    assert make_settings().worker.load_measure == "cpu"  # the default
    # No load function: livekit-agents substitutes its own (the host's CPU, averaged) when the server starts.
    assert server.load_fnc is None
    assert server._load_threshold == 0.6


async def test_jobs_load_is_running_jobs_over_the_configured_capacity(monkeypatch: pytest.MonkeyPatch) -> None:
    server = build(monkeypatch, worker_load_measure="jobs", worker_max_jobs=4, worker_load_threshold=1.0)
    assert server._load_threshold == 1.0 and server.load_fnc is not None
    seen = []
    for running in (0, 1, 3, 4, 9):
        BusyServer.running = [object()] * running
        # Through livekit-agents' own call (signature check, executor thread), as its load loop does.
        seen.append(await server._invoke_load_fnc())
    BusyServer.running = []
    assert seen == [0.0, 0.25, 0.75, 1.0, 1.0]  # clamped to [0, 1]


def test_jobs_load_function_alone() -> None:
    load = worker.jobs_load(8)
    assert [load(SimpleNamespace(active_jobs=[None] * n)) for n in (0, 2, 8, 20)] == [0.0, 0.25, 1.0, 1.0]  # type: ignore[arg-type]
    assert worker.load_function(make_settings(worker_load_measure="cpu")) is None


def test_max_jobs_must_be_positive() -> None:
    with pytest.raises(ValueError):
        make_settings(worker_max_jobs=0)


async def run_transcription_job(
    monkeypatch: pytest.MonkeyPatch, proc: JobProcess, settings: Settings
) -> tuple[StandInJobContext, RoomListener]:
    """The worker's entrypoint on a transcription dispatch in `proc`; returns the job and its room listener."""
    listeners: list[RoomListener] = []

    class Recorded(RoomListener):
        def attach(self) -> None:
            listeners.append(self)
            super().attach()

    monkeypatch.setattr(agents.room, "RoomListener", Recorded)
    ctx = StandInJobContext(json.dumps({"profile": "transcription"}), settings)
    ctx.proc = proc
    await worker.entrypoint(ctx)  # type: ignore[arg-type]
    [listener] = listeners
    return ctx, listener


async def test_prewarm_loads_the_models_once_and_the_job_uses_them(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = make_settings(stt_providers=["local"], stt_language="en")
    monkeypatch.setattr(worker, "get_settings", lambda: settings)
    proc = JobProcess(executor_type=JobExecutorType.PROCESS, user_arguments=None, http_proxy=None)

    load_whisper.cache_clear()
    gc.unfreeze()
    worker.prewarm(proc)  # what livekit-agents calls once in each new job process
    assert gc.get_freeze_count() > 0  # what it loaded is kept out of the collector's way
    gc.unfreeze()  # (this is the test process, not a job process)

    vad = proc.userdata["vad"]
    assert proc.userdata["settings"] is settings
    assert isinstance(vad, SileroModel) and vad is load_silero(TranscriptionProfile.audio.silero_backend)
    # Both local models are loaded here, before any job: English (tiny.en) and multilingual (base, for
    # Portuguese rooms), whichever language the jobs will speak.
    assert load_whisper.cache_info().misses == 2

    # From here on nothing may load a VAD: a chain built without the preloaded model would fail.
    def no_loading(*_: Any) -> SileroModel:
        raise AssertionError("the job loaded a VAD instead of using the preloaded one")

    monkeypatch.setattr(agents.audio.chain, "load_silero", no_loading)
    ctx, listener = await run_transcription_job(monkeypatch, proc, settings)
    assert ctx.shutdown_reasons == [] and len(ctx.callbacks) == 1
    assert listener.vad_model is vad
    profile = listener.profile
    assert isinstance(profile, TranscriptionProfile) and profile.stt is not None
    [local] = profile.stt.providers
    assert isinstance(local.stt, WhisperSTT)
    assert load_whisper.cache_info().misses == 2  # the job's provider got the prewarmed model

    # A participant's microphone track, as the room delivers it: its chain runs on the preloaded VAD.
    source = rtc.AudioSource(SAMPLE_RATE, 1)
    track = rtc.LocalAudioTrack.create_audio_track("mic", source)
    participant = SimpleNamespace(
        kind=rtc.ParticipantKind.PARTICIPANT_KIND_STANDARD,
        identity="ana",
        sid="PA_ana",
        name="Ana",
        metadata="",
        attributes={},
        track_publications={},
    )
    pub = SimpleNamespace(sid="TR_ana", source=rtc.TrackSource.SOURCE_MICROPHONE)
    ctx.room.emit("track_subscribed", track, pub, participant)
    rec = recording(SCRIPT_B[:1], lead=0.3, gap=0.8)
    for frame in frames_from_array(rec.audio, SAMPLE_RATE, 20):
        await source.capture_frame(frame)
    await source.wait_for_playout()
    await asyncio.sleep(0.2)
    feed = listener.tracks["TR_ana"].feed
    assert isinstance(feed.chain.detector, SileroVAD) and feed.chain.detector.model is vad
    await ctx.callbacks[0]("test over")  # closes the track, flushes, waits for the transcription
    await source.aclose()
    assert profile.stats["utterances"] == profile.stats["transcribed"] == 1


async def test_the_audio_settings_choose_the_jobs_chain(monkeypatch: pytest.MonkeyPatch) -> None:
    # ESCUTA_AUDIO_* reach the job: webrtcvad needs no preloaded model, and the profile's chain is the
    # configured one with the profile's own override (transcription computes no level snapshots).
    settings = make_settings(
        stt_providers=["local"],
        stt_language="en",
        audio_vad="webrtc",
        audio_min_silence_seconds=0.3,
        audio_max_utterance_seconds=12.0,
    )
    monkeypatch.setattr(worker, "get_settings", lambda: settings)
    proc = JobProcess(executor_type=JobExecutorType.PROCESS, user_arguments=None, http_proxy=None)
    worker.prewarm(proc)
    gc.unfreeze()  # (this is the test process, not a job process)
    assert proc.userdata["vad"] is None

    _, listener = await run_transcription_job(monkeypatch, proc, settings)
    audio = listener.profile.audio
    assert (audio.vad, audio.min_silence_s, audio.max_utterance_s, audio.levels) == ("webrtc", 0.3, 12.0, False)
    assert audio.silero_backend == settings.audio.silero_backend and audio.denoise_enabled  # auto: on for webrtc
