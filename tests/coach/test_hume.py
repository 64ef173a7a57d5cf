"""The Hume v1 realtime adapter against the local stub: round trip, rate limiting, oversize frames, drops."""

from __future__ import annotations

from collections.abc import AsyncIterator

import numpy as np
import pytest

from agents.coach.prosody.base import ProsodyResult, Utterance
from agents.coach.prosody.hume import HumeProsody, HumeStream
from tests.coach.hume_stub import API_KEY, HumeStub
from tests.coach.speech import espeak, read

PRE_ROLL = 0.3


@pytest.fixture
async def stub() -> AsyncIterator[HumeStub]:
    s = HumeStub()
    await s.start()
    yield s
    await s.stop()


def utterances() -> list[Utterance]:
    """Two real utterances placed on the session clock at 10 s and 30 s (with the chain's pre-roll)."""
    out = []
    for start, text in ((10.0, "Bom dia a todos."), (30.0, "Vamos começar agora.")):
        speech = read(espeak(text))
        audio = np.concatenate([np.zeros(int(PRE_ROLL * 16000), dtype=np.int16), speech])
        out.append(Utterance("bruno", start, start + len(speech) / 16000, audio, start - PRE_ROLL))
    return out


async def run(stub: HumeStub, utts: list[Utterance], **kw: float) -> tuple[HumeStream, list[ProsodyResult]]:
    provider = HumeProsody(api_key=API_KEY, url=stub.url, backoff=0.01, **kw)  # type: ignore[arg-type]
    results: list[ProsodyResult] = []
    stream = provider.stream("bruno", results.append)
    for u in utts:
        stream.push(u)
    await stream.aclose()
    await provider.aclose()
    return stream, results


def check_results(results: list[ProsodyResult], utts: list[Utterance]) -> None:
    by_utt = {u.start: [r for r in results if r.utterance_start == u.start] for u in utts}
    for u in utts:
        rs = by_utt[u.start]
        assert rs, f"no measurement for the utterance at {u.start}"
        for r in rs:
            assert r.provider == "hume" and r.participant_id == "bruno"
            # Hume's clock mapped back onto the session clock, inside the audio that was sent.
            assert u.audio_start - 0.01 <= r.window_start < r.window_end <= u.end + 0.35
            assert r.features["expressions"][0]["name"] == "interest"
    windows = [(r.utterance_start, round(r.window_start, 1), round(r.window_end, 1)) for r in results]
    assert len(windows) == len(set(windows)), "a measurement was delivered twice"


def sent_ms(utts: list[Utterance]) -> float:
    return sum(len(u.audio) / 16.0 + 300.0 for u in utts)  # audio plus the 0.3 s silent tail


async def test_round_trip(stub: HumeStub) -> None:
    utts = utterances()
    stream, results = await run(stub, utts)
    check_results(results, utts)
    assert stream.stats.sessions == 1 and stream.stats.reconnects == 0
    (sess,) = stub.sessions
    assert sess.closed_reason == "client_request"
    assert sess.audio_ms == pytest.approx(sent_ms(utts), abs=1)
    kinds = [m["type"] for m in sess.messages]
    assert kinds[:2] == ["session.created", "session.updated"] and kinds[-1] == "session.closed"
    assert kinds.count("utterance.start") == 2 and kinds.count("utterance.end") == 2


async def test_rate_limited_frames_are_resent(stub: HumeStub) -> None:
    stub.rate_limit_frames = {3, 9}
    utts = utterances()[:1]
    stream, results = await run(stub, utts)
    assert stream.stats.rate_limited == 2
    errors = [m for m in stub.sessions[0].messages if m["type"] == "error"]
    assert [e["code"] for e in errors] == ["rate_limited", "rate_limited"]
    # Every frame was measured in the end: nothing lost, nothing counted twice.
    assert stub.sessions[0].audio_ms == pytest.approx(sent_ms(utts), abs=1)
    check_results(results, utts)


async def test_message_too_large_shrinks_frames(stub: HumeStub) -> None:
    stub.max_message_bytes = 2000  # the adapter starts with 3,200-byte (100 ms) frames
    utts = utterances()[:1]
    stream, results = await run(stub, utts)
    assert stream.stats.too_large == 1
    assert stub.sessions[0].closed_reason == "message_too_large"
    assert stream.frame_bytes == 1600 and len(stub.sessions) == 2
    assert stub.sessions[1].audio_ms == pytest.approx(sent_ms(utts), abs=1)
    check_results(results, utts)


async def test_dropped_connection_resumes_in_place(stub: HumeStub) -> None:
    stub.drop_after_frames = 8  # inside the first utterance
    utts = utterances()
    stream, results = await run(stub, utts)
    assert stub.sessions[0].closed_reason == "dropped"
    assert stream.stats.reconnects == 1 and len(stub.sessions) == 2
    # The second session got the interrupted utterance again from its start, then the next one.
    assert stub.sessions[1].audio_ms == pytest.approx(sent_ms(utts), abs=1)
    check_results(results, utts)
    assert sorted({r.utterance_start for r in results}) == [10.0, 30.0]


async def test_rejected_key_stops_the_stream_at_once(stub: HumeStub) -> None:
    provider = HumeProsody(api_key="wrong", url=stub.url, backoff=0.001, max_backoff=0.01)
    results: list[ProsodyResult] = []
    stream = provider.stream("bruno", results.append)
    for u in utterances():
        stream.push(u)
    await stream.aclose()
    await provider.aclose()
    # One refused handshake, no retries (a wrong key stays wrong), every utterance accounted as dropped.
    assert results == [] and stream.disabled and stream.stats.dropped_utterances == 2
    assert stream.stats.reconnects == 0 and stub.sessions == []
