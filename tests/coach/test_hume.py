"""The Hume v1 realtime adapter against the local stub: round trip, rate limiting, oversize frames, drops,
a refused key and a service going down (each utterance handed back for the local measure), and the
trailing silence when Hume needs more quiet than it is sent."""

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


Failed = list[tuple[float, str, str]]  # (utterance start, reason, detail)


async def run(
    stub: HumeStub, utts: list[Utterance], failed: Failed | None = None, **kw: float
) -> tuple[HumeStream, list[ProsodyResult]]:
    provider = HumeProsody(api_key=API_KEY, url=stub.url, backoff=0.01, **kw)  # type: ignore[arg-type]
    results: list[ProsodyResult] = []
    handed_back = failed if failed is not None else []
    stream = provider.stream("bruno", results.append, lambda u, why, detail: handed_back.append((u.start, why, detail)))
    for u in utts:
        stream.push(u)
    await stream.aclose()
    await provider.aclose()
    if failed is None:
        assert handed_back == [], "an utterance was handed back"
    return stream, results


def check_results(results: list[ProsodyResult], utts: list[Utterance], tail: float = 0.3) -> None:
    by_utt = {u.start: [r for r in results if r.utterance_start == u.start] for u in utts}
    for u in utts:
        rs = by_utt[u.start]
        assert rs, f"no measurement for the utterance at {u.start}"
        for r in rs:
            assert r.provider == "hume" and r.participant_id == "bruno"
            # Hume's clock mapped back onto the session clock, inside the audio that was sent.
            assert u.audio_start - 0.01 <= r.window_start < r.window_end <= u.end + tail + 0.05
            assert r.features["expressions"][0]["name"] == "interest"
    windows = [(r.utterance_start, round(r.window_start, 1), round(r.window_end, 1)) for r in results]
    assert len(windows) == len(set(windows)), "a measurement was delivered twice"


def sent_ms(utts: list[Utterance], tail: float = 0.3) -> float:
    return sum(len(u.audio) / 16.0 + tail * 1000 for u in utts)  # audio plus the silent tail


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


@pytest.mark.parametrize("status", [401, 403])
async def test_a_refused_key_hands_every_utterance_back_at_once(stub: HumeStub, status: int) -> None:
    """A key without access to the limited-release API: 401 or 403 at the handshake."""
    stub.refuse_status = status
    failed: Failed = []
    stream, results = await run(stub, utterances(), failed, max_backoff=0.01)
    # One refused handshake, no retries (a refused key stays refused); both utterances handed back.
    assert results == [] and stream.disabled and stream.stats.reconnects == 0
    assert stub.handshakes == {status: 1} and stub.sessions == []
    assert [(start, why) for start, why, _ in failed] == [(10.0, "hume_refused"), (30.0, "hume_refused")]
    assert all(f"HTTP {status}" in detail for _, _, detail in failed)


@pytest.mark.parametrize(("status", "reason"), [(503, "hume_failed"), (401, "hume_refused")])
async def test_hume_failing_mid_stream_hands_the_rest_back(stub: HumeStub, status: int, reason: str) -> None:
    """The connection drops inside the first utterance and every reconnection is refused: the service is
    down (503: given up after `max_attempts` sessions) or the key was revoked (401: at once)."""
    stub.fail_after_frames, stub.fail_status = 8, status
    failed: Failed = []
    stream, results = await run(stub, utterances(), failed, max_attempts=3, max_backoff=0.01)
    assert stub.sessions[0].closed_reason == "dropped" and stub.handshakes[101] == 1
    assert [(start, why) for start, why, _ in failed] == [(10.0, reason), (30.0, reason)]
    if status == 503:  # each utterance tried its three sessions: the service might have come back
        assert stub.handshakes[503] == 5 and "HTTP 503" in failed[0][2]
    else:
        assert stub.handshakes[401] == 1 and stream.disabled
    assert results == []  # 0.8 s of audio: not enough for a 3 s measurement


@pytest.mark.parametrize("tail", [0.3, 1.3])
async def test_the_last_utterance_is_measured_when_hume_needs_more_silence(stub: HumeStub, tail: float) -> None:
    """Hume needs 1.2 s of quiet to end an utterance (the stub's `end_silence_ms`), more than the 0.3 s
    tail sent by default. The last utterance of a meeting still gets its measurement: with too short a
    tail it is produced by `session.close` at the end of the meeting, with a long enough one before."""
    stub.end_silence_ms = 1200.0
    utts = utterances()
    _, results = await run(stub, utts, tail_s=tail)
    check_results(results, utts, tail)
    (sess,) = stub.sessions
    assert sess.audio_ms == pytest.approx(sent_ms(utts, tail), abs=1)
    assert sess.close_received_at is not None
    after_close = [m for m in sess.messages[sess.close_received_at :] if m["type"] == "measurement.result"]
    if tail < 1.2:
        # Hume saw one utterance (0.6 s of quiet between them is not enough): closed by session.close.
        assert sum(m["type"] == "utterance.start" for m in sess.messages) == 1
        assert [m["trigger"] for m in after_close] == ["speech_ended"]
    else:
        assert sum(m["type"] == "utterance.start" for m in sess.messages) == 2 and after_close == []
    last = [r for r in results if r.utterance_start == utts[-1].start]
    assert last and last[-1].features["trigger"] == "speech_ended"
