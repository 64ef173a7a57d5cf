"""`escuta replay FILE --profile counter`: a recorded counter dialogue, the events as the device gets them.

The recording is espeak-ng pt-br speech, customer on channel 1 and clerk (the counter device) on
channel 2; the speech-to-text stub answers with the dialogue's script (the local Whisper model is
English-only). The CLI runs as a subprocess, so this is the command an operator types.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

from agents.counter.events import EVENT_FIELDS, RECOMMENDATION_TOPIC
from agents.counter.profile import REPLAY_CLERK_IDENTITY
from tests.counter.speech import CounterRecording, ScriptedTranscripts, recorded_dialogue
from tests.stt_stubs import SttStubServer
from tests.stt_stubs.fixtures import stt_stub, stub_env  # noqa: F401  # the fixture
from tests.transcription.speech import write_wav


@pytest.fixture(scope="module")
def recording() -> CounterRecording:
    return recorded_dialogue()


async def test_replay_prints_the_recommendations_as_they_reach_the_device(
    stt_stub: SttStubServer,  # noqa: F811
    recording: CounterRecording,
    tmp_path: Path,
) -> None:
    path = write_wav(tmp_path / "balcao.wav", recording.channels)
    script = ScriptedTranscripts(recording.lines)
    stt_stub.transcript_for = script
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": os.environ.get("HOME", "/tmp"),
        **stub_env(stt_stub),
    }
    # --realtime: each channel is a participant paced like a live room, so turns reach the assistant in
    # the order they were spoken (unpaced, one channel can run seconds ahead of the other).
    argv = ["-m", "escuta.cli", "replay", str(path), "--profile", "counter", "--speakers", "2", "--realtime"]
    # A subprocess the event loop waits on, so the in-process stub keeps answering it.
    proc = await asyncio.create_subprocess_exec(
        sys.executable, *argv, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), 240)
    assert proc.returncode == 0, err.decode()[-2000:]
    lines = [json.loads(x) for x in out.decode().splitlines() if x.startswith("{")]

    summary = lines[-1]
    assert summary["event"] == "summary" and summary["profile"] == "counter"
    assert summary["transcribed"] == len(recording.lines) and summary["failed"] == 0
    assert sorted(script.used) == list(range(len(recording.lines))), "each line heard exactly once"
    sent = [x for x in lines if x["event"] == "text"]
    assert sent and all(x["topic"] == RECOMMENDATION_TOPIC and x["to"] == [REPLAY_CLERK_IDENTITY] for x in sent)
    events = [json.loads(x["text"]) for x in sent]
    assert all(tuple(e) == EVENT_FIELDS and e["comando"] == "recomendar" for e in events)
    assert [e["produto"] for e in events] == ["Paracetamol 750 mg", "Soro fisiológico nasal spray 0.9%"]
    assert {e["atendente"] for e in events} == {REPLAY_CLERK_IDENTITY}
    assert events[0]["transcricao_base"] == recording.of("cliente")[0].text
    assert summary["recommendations"] == summary["delivered"] == 2
