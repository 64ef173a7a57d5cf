"""The meeting coach: every participant's audio-chain events on one session clock in, feedback out.

`MeetingCoach` is pure and synchronous (no I/O, no wall clock), so a room, a replay and the tests
drive it identically. Each participant's `AudioChain` must run with `clock_offset` = that track's
start on the session clock, so times from different participants compare directly (overlap, silence).

    coach = MeetingCoach("RM_123", settings.coach.thresholds_for(org_overrides))
    coach.join("ana", metadata='{"roles":["host"]}')
    for delivery in coach.on_event("bruno", event): send(delivery.feedback, to=delivery.recipients)

Rules, each with hysteresis (the condition must clear before it can fire again) and a per-participant,
per-type cooldown that only a higher severity may break:

- `volume_baixo` / `volume_alto`: active speech level per utterance (`measure.utterance_level`) below /
  above a threshold for `volume_sustain_seconds` of speech; clipping counts as too loud.
- `silencio_prolongado`: nobody speaks for `silence_seconds` (about the meeting: participantId null).
- `overlap_fala`: two participants' utterances overlap for `overlap_seconds`; about whoever started
  later (the one who talked over the other).
- `monologo_prolongado`: one turn (utterances separated by less than `turn_gap_seconds`, nobody else
  speaking a second or more in between) lasts `monologue_seconds`.
- `tom_monotono` / `fala_acelerada`: from local prosody results (`on_prosody`), narrow pitch range or
  high voiced-nucleus rate over `prosody_sustain_seconds` of voiced speech.

Nothing is ever generated about a host; deliveries go to the hosts present (none: recorded only).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agents.audio.events import AudioEvent, LevelSnapshot, SpeechEnded, SpeechStarted
from core.settings.coach import CoachThresholds

from .feedback import TIPS, Delivery, Feedback, FeedbackType, Severity, message
from .measure import utterance_level
from .participants import ParticipantInfo, ParticipantState, parse_participant
from .prosody.base import ProsodyResult, Utterance

_RANK: dict[Severity, int] = {"info": 0, "warning": 1, "critical": 2}
INTERRUPT_S = 1.0  # someone else's utterance at least this long ends a participant's turn
OVERLAP_JOIN_S = 0.5  # overlaps of one pair closer than this are one episode


class MeetingCoach:
    def __init__(self, meeting_id: str, thresholds: CoachThresholds | None = None) -> None:
        self.meeting_id = meeting_id
        self.th = thresholds or CoachThresholds()
        self.participants: dict[str, ParticipantState] = {}
        self.history: list[Feedback] = []  # everything generated, sent or not (for the report)
        self._now = 0.0
        self._last_speech: float | None = None  # latest moment anyone was heard
        self._silence_fired: Severity | None = None
        self._overlaps: dict[tuple[str, str], tuple[float, float]] = {}  # pair -> last episode

    # --- membership ----------------------------------------------------------------------------------
    def join(
        self,
        identity: str,
        *,
        metadata: str | Mapping[str, Any] | None = None,
        name: str | None = None,
        at: float = 0.0,
    ) -> ParticipantInfo:
        info = parse_participant(identity, metadata, name)
        prev = self.participants.get(identity)
        if prev is not None:
            prev.info = info  # metadata changed (roles granted or revoked mid-meeting)
        else:
            self.participants[identity] = ParticipantState(info=info, joined_at=at, last_t=at)
            if self._last_speech is None:
                self._last_speech = at  # silence counts from the first arrival
        return info

    def leave(self, identity: str) -> None:
        self.participants.pop(identity, None)

    @property
    def hosts(self) -> tuple[str, ...]:
        return tuple(sorted(p.info.identity for p in self.participants.values() if p.info.is_host))

    # --- inputs --------------------------------------------------------------------------------------
    def on_event(self, identity: str, event: AudioEvent) -> list[Delivery]:
        st = self.participants.get(identity) or self._implicit_join(identity)
        out: list[Delivery] = []
        if isinstance(event, SpeechStarted):
            self._advance(st, event.detected_at)
            st.open_start = event.start
            self._heard(event.start)
            self._start_turn(st, event.start)
        elif isinstance(event, SpeechEnded) and event.is_background:
            # The audio chain judged it a TV or another voice behind the participant (issue 19): it closes what
            # its SpeechStarted opened and is judged no further (no volume, overlap, monologue or prosody).
            self._advance(st, event.detected_at)
            st.open_start = None
        elif isinstance(event, SpeechEnded):
            self._advance(st, event.detected_at)
            st.open_start = None
            st.last_end = event.end
            st.recent.append((event.start, event.end))
            self._heard(event.end)
            self._start_turn(st, event.start)
            st.turn_last_end = event.end
            if event.duration >= INTERRUPT_S:
                self._break_other_turns(st)
            out += self._judge_volume(st, Utterance.from_event(identity, event), event.detected_at)
            out += self._check_overlap(st, (event.start, event.end), event.detected_at)
            out += self._check_monologue(st, event.end, event.detected_at)
        elif isinstance(event, LevelSnapshot):
            self._advance(st, event.t)
            st.snapshot = event
            current = st.speaking_interval()
            if current is not None:
                self._heard(event.t)
                out += self._check_overlap(st, current, event.t)
                out += self._check_monologue(st, event.t, event.t)
        out += self._check_silence()
        return out

    def on_prosody(self, result: ProsodyResult) -> list[Delivery]:
        """Local prosody features of one utterance (other providers' results are stored, not judged)."""
        st = self.participants.get(result.participant_id)
        f = result.features
        if st is None or "f0_range_semitones" not in f:
            return []
        voiced = float(f.get("voiced_s") or 0.0)
        out: list[Delivery] = []
        rng, rate = f.get("f0_range_semitones"), f.get("syllable_rate")
        now = max(self._now, result.utterance_end)
        if rng is not None:
            if rng < self.th.monotone_range_semitones:
                st.monotone.hold(result.utterance_start, voiced)
            elif rng > self.th.monotone_range_semitones + 1.0:
                st.monotone.clear()
            if st.monotone.ready(self.th.prosody_sustain_seconds):
                meta = {"f0RangeSemitones": rng, "f0StdSemitones": f.get("f0_std_semitones"), "voicedSeconds": voiced}
                out += self._fire(
                    st,
                    "tom_monotono",
                    "info",
                    st.monotone.run_start or result.utterance_start,
                    result.utterance_end,
                    now,
                    meta,
                )
                st.monotone.active = True
        if rate is not None:
            if rate > self.th.fast_syllable_rate:
                st.fast.hold(result.utterance_start, voiced)
            elif rate < self.th.fast_syllable_rate - 0.7:
                st.fast.clear()
            if st.fast.ready(self.th.prosody_sustain_seconds):
                meta = {"syllableRate": rate, "voicedSeconds": voiced}
                out += self._fire(
                    st,
                    "fala_acelerada",
                    "warning",
                    st.fast.run_start or result.utterance_start,
                    result.utterance_end,
                    now,
                    meta,
                )
                st.fast.active = True
        return out

    # --- rules ---------------------------------------------------------------------------------------
    def _judge_volume(self, st: ParticipantState, utt: Utterance, now: float) -> list[Delivery]:
        th, dur = self.th, utt.end - utt.start
        lvl = utterance_level(utt.speech())
        out: list[Delivery] = []
        meta = {
            "rmsDbfs": round(lvl.active_dbfs, 1),
            "peakDbfs": round(lvl.peak_dbfs, 1),
            "clippingRatio": round(lvl.clipping_ratio, 5),
        }
        if lvl.active_dbfs < th.volume_low_dbfs:
            st.low.hold(utt.start, dur)
        elif lvl.active_dbfs > th.volume_low_exit_dbfs:
            st.low.clear()
        if st.low.ready(th.volume_sustain_seconds):
            sev: Severity = "critical" if lvl.active_dbfs < th.volume_low_dbfs - th.critical_margin_db else "warning"
            out += self._fire(st, "volume_baixo", sev, st.low.run_start or utt.start, utt.end, now, meta)
            st.low.active = True
        loud = lvl.active_dbfs > th.volume_high_dbfs or lvl.clipping_ratio > th.clipping_ratio
        if loud:
            st.high.hold(utt.start, dur)
        elif lvl.active_dbfs < th.volume_high_exit_dbfs and lvl.clipping_ratio == 0.0:
            st.high.clear()
        if st.high.ready(th.volume_sustain_seconds):
            clipping = lvl.clipping_ratio > 5 * th.clipping_ratio
            sev = "critical" if clipping or lvl.active_dbfs > th.volume_high_dbfs + th.critical_margin_db else "warning"
            out += self._fire(st, "volume_alto", sev, st.high.run_start or utt.start, utt.end, now, meta)
            st.high.active = True
        return out

    def _check_overlap(self, st: ParticipantState, mine: tuple[float, float], now: float) -> list[Delivery]:
        out: list[Delivery] = []
        for other in self.participants.values():
            if other is st:
                continue
            candidates = list(other.recent)
            cur = other.speaking_interval()
            if cur is not None:
                candidates.append(cur)
            for theirs in candidates:
                start, end = max(mine[0], theirs[0]), min(mine[1], theirs[1])
                if end - start < self.th.overlap_seconds:
                    continue
                pair = (min(st.info.identity, other.info.identity), max(st.info.identity, other.info.identity))
                last = self._overlaps.get(pair)
                if last is not None and start <= last[1] + OVERLAP_JOIN_S:
                    self._overlaps[pair] = (last[0], max(last[1], end))  # the same episode, still going
                    continue
                self._overlaps[pair] = (start, end)
                # About whoever started later: they talked over the other. Never about a host.
                later, earlier = (st, other) if mine[0] >= theirs[0] else (other, st)
                if later.info.is_host:
                    continue
                sev: Severity = (
                    "critical" if end - start >= self.th.overlap_seconds * self.th.critical_factor else "warning"
                )
                meta = {"overlapSeconds": round(end - start, 2), "otherParticipantId": earlier.info.identity}
                out += self._fire(later, "overlap_fala", sev, start, end, now, meta, other=earlier.info.name)
        return out

    def _check_monologue(self, st: ParticipantState, t: float, now: float) -> list[Delivery]:
        if st.turn_start is None:
            return []
        length = t - st.turn_start
        th = self.th
        sev: Severity | None = None
        if length >= th.monologue_seconds * th.critical_factor:
            sev = "critical"
        elif length >= th.monologue_seconds:
            sev = "warning"
        if sev is None or (st.turn_fired is not None and _RANK[st.turn_fired] >= _RANK[sev]):
            return []
        st.turn_fired = sev
        return self._fire(
            st, "monologo_prolongado", sev, st.turn_start, t, now, {"turnSeconds": round(length, 1)}, seconds=length
        )

    def _check_silence(self) -> list[Delivery]:
        if self._last_speech is None or any(p.open_start is not None for p in self.participants.values()):
            return []
        silent = self._now - self._last_speech
        th = self.th
        sev: Severity | None = None
        if silent >= th.silence_seconds * th.critical_factor:
            sev = "critical"
        elif silent >= th.silence_seconds:
            sev = "warning"
        if sev is None or (self._silence_fired is not None and _RANK[self._silence_fired] >= _RANK[sev]):
            return []
        self._silence_fired = sev
        snaps = [p.snapshot for p in self.participants.values() if p.snapshot is not None]
        meta: dict[str, Any] = {
            "rmsDbfs": round(max((s.mean_rms_dbfs for s in snaps), default=-100.0), 1),
            "speechCoverage": round(max((s.speech_coverage for s in snaps), default=0.0), 3),
            "silenceSeconds": round(silent, 1),
        }
        fb = Feedback(
            type="silencio_prolongado",
            severity=sev,
            meeting_id=self.meeting_id,
            participant_id=None,
            window_start=self._last_speech,
            window_end=self._now,
            detected_at=self._now,
            message=message("silencio_prolongado", None, seconds=silent),
            tips=TIPS["silencio_prolongado"],
            metadata=meta,
        )
        self.history.append(fb)
        return [Delivery(fb, self.hosts)]

    # --- helpers -------------------------------------------------------------------------------------
    def _fire(
        self,
        st: ParticipantState,
        kind: FeedbackType,
        sev: Severity,
        start: float,
        end: float,
        now: float,
        extra: dict[str, Any],
        **facts: Any,
    ) -> list[Delivery]:
        if st.info.is_host:
            return []
        last = st.fired.get(kind)
        if last is not None and now - last[0] < self.th.cooldown_seconds and _RANK[sev] <= _RANK[last[1]]:
            return []
        st.fired[kind] = (now, sev)
        snap = st.snapshot
        meta: dict[str, Any] = {
            "rmsDbfs": round(snap.mean_rms_dbfs, 1) if snap else None,
            "speechCoverage": round(snap.speech_coverage, 3) if snap else None,
        }
        if snap is not None:
            meta["emaRmsDbfs"] = round(snap.ema_rms_dbfs, 1)
        meta.update(extra)
        fb = Feedback(
            type=kind,
            severity=sev,
            meeting_id=self.meeting_id,
            participant_id=st.info.identity,
            window_start=start,
            window_end=end,
            detected_at=max(now, end),
            message=message(kind, st.info.name, **facts),
            tips=TIPS[kind],
            metadata=meta,
        )
        self.history.append(fb)
        return [Delivery(fb, self.hosts)]

    def _implicit_join(self, identity: str) -> ParticipantState:
        # Events before join(): treat as a plain participant (never a host without its metadata).
        self.join(identity, at=self._now)
        return self.participants[identity]

    def _advance(self, st: ParticipantState, t: float) -> None:
        st.last_t = max(st.last_t, t)
        self._now = max(self._now, t)

    def _heard(self, t: float) -> None:
        self._last_speech = t if self._last_speech is None else max(self._last_speech, t)
        self._silence_fired = None

    def _start_turn(self, st: ParticipantState, start: float) -> None:
        gap_over = st.turn_last_end is None or start - st.turn_last_end > self.th.turn_gap_seconds
        if st.turn_start is None or gap_over:
            st.turn_start, st.turn_fired = start, None

    def _break_other_turns(self, st: ParticipantState) -> None:
        for other in self.participants.values():
            if other is not st and other.open_start is None:
                other.turn_start, other.turn_last_end = None, None
