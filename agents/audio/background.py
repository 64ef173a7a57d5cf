"""Background speech: hear the person at the microphone, not the TV, the radio or the next desk (issue 19).

A voice detector answers "is someone speaking?", and a TV across the room is someone speaking: with TV speech
10-20 dB below the participant, Silero calls the whole file speech and the first utterance closes only at the
maximum length. This stage tells the two apart with what a single microphone offers, at the cost of a few
multiply-adds per detector window:

* **Level against a tracked background-speech level.** The participant is close to the microphone; the TV is
  across the room. Speech that keeps coming at least `evidence_below_db` under the participant's usual level,
  at least `evidence_isolation_s` away from any window at the participant's level, is background speech: its
  level (`background_dbfs`) is learned from those windows only.
* **Continuity.** A background source is heard in the participant's pauses, before they start and after they
  stop; a quiet syllable inside their own words is not. Background speech is therefore established only after
  `evidence_windows` such windows in runs of `evidence_run_s` within the last `horizon_s`, and kept for
  `keep_s` after the last one; until then the stage does nothing but the tail rule below. The evidence is
  re-read against the current participant level, so the TV heard before anyone spoke becomes evidence as soon
  as the participant has been heard.
* **Once background speech is established**, a window is the participant's when its short level (3 windows)
  crosses a threshold between the two levels with hysteresis and its 256 ms level confirms it (a single loud
  TV syllable does not); otherwise its speech probability is pushed under the segmenter's deactivation
  threshold, so the segmenter's closing pause runs while the TV talks. An onset accepted late by the
  confirmation is dated back to where the level rose (`lead`).
* **Tail rule, always on.** Inside an utterance, a 256 ms level more than `tail_db` under the utterance's own
  loudest 256 ms cannot continue it: whatever a detector hears that far under the speaker is not the speaker,
  unless it is at the participant's usual level (then the loud thing was a door, not them).
* **The utterance already open** when background speech is first established (the TV was talking when the
  stream started and the participant then spoke over it) is cut where the participant's level began; its head
  is emitted with the verdict `background`.
* **Direct sound** (second round). A voice at the microphone ends its words with a direct fall: `dry_fall_db`
  within one 8 ms step, where a voice across the room is followed by the room's reverberation, which decays over
  tens of ms (a TV's loudspeaker and reverberant room: at most ~10 dB per 8 ms, mostly 3-7). Two uses: speech
  running into such a fall, and the windows around it, are the near voice's own (its soft sentence endings are
  no background evidence); and (opt-in, see below) before any background is established, 6 s holding 3 s of
  speech, with room to fall (25 dB over its quietest window) and not one direct fall, is background speech: the
  TV heard before the customer arrives (`far`). Its level is then the background's and the participant is
  presumed 14 dB above it until 0.5 s of speech has risen over it; a direct fall at the far source's level
  retracts it at once.

* **Third round**, the same two signals where the second round still lost. (a) A loud TV syllable in an
  utterance's closing pause (at least `late_pause_s` into it), accepted for no more than the two confirming
  windows, then rejected here while the detector still hears speech, with no direct fall, is taken back
  (`retract`, `Segmenter.retract`): the pause runs on from before it instead of restarting. Only while the
  background is `burst_margin_db` under the participant: a keyboard at 0 dB taken for background speech made it
  take back the participant's own short words. (b) Before background speech is established, once `fall_heard_s`
  of speech set the participant's usual level (a loud beep before their first words is not it): after their word
  ended in a direct fall, speech `fall_tail_db` under that level is not theirs until it comes back (a song's
  vocals starting as the participant stops, too loud for the tail rule at 10 dB under); and `late_pause_s` into
  a closing pause in which the detector keeps hearing speech that is rejected, speech `resume_below_db` under it
  does not resume the utterance (a song Silero half hears, resetting the pause between two sentences). (c) A
  direct fall far under an utterance's loudest (`tail_dry_reset`) is a near word's end: the loud thing before was
  not the participant (a door before their level was known), and the tail rule measures from that word on.

* **Fourth round: the fade guard.** A participant whose last word trails off (no direct fall: the word fades
  over 0.5 s into the room's noise) leaves windows 8-30 dB under their level, 0.19 s past their loud syllables,
  with no pause between: two or three such endings were evidence enough to establish "background speech" in a
  room with nothing but a door or a keyboard (the `tune2` corpus part), and their soft onsets were then delayed.
  Evidence within `fade_s` of their level, with no pause between, in a run whose level falls `fade_slope_db_s`
  or faster (a least-squares fit over the run: syllables bump, the fade falls), is theirs: background speech is
  established only once `standalone_windows` of the evidence lie outside such runs. A TV or a radio is heard at
  its own level, not falling, and also in the participant's pauses, so it is established as before.

The cue is one of physics (direct-to-reverberant ratio), but it is blind where a fall has no room (a voice over
a music bed or steady noise 10-20 dB under it has no 12 dB falls either: hence the far start's 25 dB of room,
and nothing for a radio, whose bed fills the gaps) and, worse, a near voice in a live room has none either: the
participant at 1 m from a counter device, simulated with sox reverberation at -3/-6 dB wet, has no 12 dB fall
and the far start takes them for the TV (frame F1 0.000 and 0.549 instead of 0.977 and 0.960). **The far start
is therefore off by default** (`far_span_s=0`; `far_span_s=6` is what `bench/audio_core.py` reports as
`far start`): with no level reference, one microphone cannot tell a lone voice in a live room from a TV. The
evidence use only removes evidence, so it is harmless where the cue is blind. Spectral tilt and voice prints
are not used: the corpus' loudspeaker band is a sox filter, so a tilt cue would measure sox. Limits: a second
person near the microphone who is `evidence_below_db` quieter than the first looks like background (a counter
device hearing a clerk at 0.5 m and a customer at 2 m); music without vocals is left to the detector.

Each utterance gets a `BackgroundVerdict`: the decision (`near` / `background`), a confidence that it is the
near speaker's, its speech level above the background speech and the background speech level.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import numpy.typing as npt
from scipy.ndimage import maximum_filter1d

from .events import BackgroundVerdict, Decision
from .frames import SAMPLE_RATE, Int16Array

_FULL_SCALE_SQ = 32768.0 * 32768.0
_T = TypeVar("_T", bound=np.generic)
_SILENCE_DB = -120.0


NO_BACKGROUND = BackgroundVerdict("near", 1.0)


@dataclass(frozen=True, slots=True)
class BackgroundTuning:
    """The stage's constants, chosen on the tune part of the corpus (`bench/audio_core.py --sweep`)."""

    short_s: float = 0.096  # level used to accept a window (3 Silero windows)
    long_s: float = 0.256  # level used to confirm an onset and for the tail rule (8 Silero windows)
    horizon_s: float = 20.0  # background-speech evidence is counted over this past
    near_history_s: float = 10.0  # the participant's level: speech windows of this past
    near_quantile: float = 75.0  # ... this percentile of them
    loud_quantile: float = 90.0  # ... and their loud level
    evidence_below_db: float = 8.0  # evidence: speech at least this far under the participant's level
    evidence_gap_db: float = 4.0  # ... with no window within this of the participant's level
    evidence_isolation_s: float = 0.19  # ... in this many seconds either side
    evidence_run_s: float = 0.096  # ... in runs at least this long
    evidence_windows: int = 8  # this many evidence windows establish background speech
    keep_s: float = 60.0  # background speech stays established this long after the last evidence
    background_quantile: float = 75.0  # background speech level: this percentile of the evidence
    over_background_db: float = 7.0  # accept threshold: background level + this, at most
    under_near_db: float = 6.0  # ... and the participant's loud level - this, at most
    hysteresis_db: float = 1.5  # +- around the threshold: to enter / to stay
    confirm_fraction: float = 0.5  # onset: long level past this fraction of the way to the participant's
    pause_confirm_windows: int = 2  # ... for this many windows in a row inside an utterance's closing pause
    # A loud TV syllable in an utterance's closing pause: speech accepted after `late_pause_s` of pause that
    # lasts at most `burst_windows` and does not end in a direct fall is taken back (`retract`).
    late_pause_s: float = 0.2
    burst_windows: int = 2
    burst_margin_db: float = 10.0  # ... while the participant's usual level is this far over the background's
    # Before background speech is established: after a direct fall (the participant's word ended), speech this
    # far under their usual level is not theirs until their level (within 3 dB) is heard again (99: off); ...
    fall_tail_db: float = 4.0
    resume_below_db: float = 4.0  # ... nor, `late_pause_s` into a closing pause, speech this far under it; ...
    fall_heard_s: float = 2.0  # ... once this much speech was heard in `near_history_s` (their level is known)
    max_lead_s: float = 0.19  # an onset is dated back at most this far
    tail_db: float = 11.0  # tail rule: this far under the utterance's loudest long level ends it, ...
    tail_near_db: float = 6.0  # ... if also this far under the participant's usual level (-99: whatever it is)
    tail_dry_reset: bool = True  # ... and a direct fall under the tail measures it from that word's level
    cut_below_near_db: float = 3.0  # open utterance: the participant began where 256 ms reached this level
    cut_min_head_s: float = 0.32  # ... if that is at least this far into the utterance
    cut_head_below_db: float = 6.0  # ... and the head before it is at least this far under the participant
    reject_factor: float = 0.1  # background windows' probability is multiplied by this (< deactivation)
    verdict_midpoint_db: float = 5.0  # verdict confidence 0.5 at this margin over the background
    verdict_slope_db: float = 1.5  # ... logistic slope
    # Direct sound (second round): a word's end heard directly falls this far within one 8 ms step; heard
    # through a room's reverberation it decays over tens of ms. 0 turns both uses off.
    dry_fall_db: float = 12.0
    dry_evidence: bool = True  # evidence of background speech: no direct fall in the window before, nor ...
    dry_ring_s: float = 0.032  # ... this long after one (a chime rings on, but longer costs TV evidence after words)
    dry_lead_s: float = 0.64  # ... nor this long before one in the same run of speech (a near voice's soft ending)
    # Fade guard (fourth round): speech running on, with no pause, for up to `fade_s` after the participant's
    # level, in evidence runs whose level falls `fade_slope_db_s` or faster (least-squares fit), is their own last
    # word trailing off; background speech is established only once `standalone_windows` of the evidence lie
    # outside such runs. The evidence's level still comes from all of it. `fade_s=0` turns it off.
    fade_s: float = 1.0
    standalone_windows: int = 4
    fade_slope_db_s: float = 30.0
    far_span_s: float = 0.0  # far start (off: see the module doc; 6.0 as measured): speech in this past, ...
    far_min_speech_s: float = 3.0  # ... at least this much of it, ...
    far_room_db: float = 25.0  # ... with this much room under it to fall (its level over the quietest window), ...
    # ... that never once fell as direct sound does, is background speech (the TV before the customer came);
    # until someone is heard over it, the participant is presumed this far above it.
    far_presumed_near_db: float = 14.0
    far_heard_s: float = 0.5  # ... until this much speech rose `over_background_db` over it in `near_history_s`


class BackgroundSpeechGate:
    """One per stream, between the voice detector and the segmenter. Call order per window:
    `push(audio)` (before the detector sees it), then for each detector probability `gate(p, speaking)`;
    after it, `lead` (windows an accepted onset began earlier) and `established` (background speech was
    established by this window: see `cut_point`) are valid."""

    def __init__(self, window_samples: int, tuning: BackgroundTuning | None = None, *, activation: float = 0.5):
        self.t = t = tuning or BackgroundTuning()
        self.w = window_samples
        dt = window_samples / SAMPLE_RATE

        def n(seconds: float) -> int:
            return max(1, round(seconds / dt))

        self._k_short, self._k_long = n(t.short_s), n(t.long_s)
        self._horizon, self._history = n(t.horizon_s), n(t.near_history_s)
        self._isolation, self._run = n(t.evidence_isolation_s), n(t.evidence_run_s)
        self._keep, self._max_lead = n(t.keep_s), n(t.max_lead_s)
        self._min_head = n(t.cut_min_head_s)
        self._every = max(1, self._k_long)  # statistics refresh (a few dozen µs) every 256 ms
        self._far_span, self._far_min = n(t.far_span_s), n(t.far_min_speech_s)
        self._ring, self._far_heard = n(t.dry_ring_s), n(t.far_heard_s)
        self._lead_dry = round(t.dry_lead_s / dt)
        self._fade = round(t.fade_s / dt)
        self._late_pause = n(t.late_pause_s)
        self._fall_heard = round(t.fall_heard_s / dt)
        self._burst, self._burst_pause = 0, 0  # windows accepted since a late pause, and that pause
        self._sub = max(1, window_samples // 4)  # 8 ms sub-blocks: the direct-fall cue's resolution
        self.activation = activation
        # Mean squares of the windows the detector is about to judge, summed as audio arrives (no copies), and
        # each window's steepest 8 ms fall (dB, <= 0).
        self._window_powers: deque[tuple[float, float]] = deque()
        self._acc, self._filled = 0.0, 0
        self._sub_acc, self._sub_filled, self._sub_db, self._fall = 0.0, 0, _SILENCE_DB, 0.0
        self._power: deque[float] = deque([0.0] * self._k_long, maxlen=self._k_long)
        # Ring of the last `horizon` windows: short level and detector probability.
        self._levels = np.full(self._horizon, _SILENCE_DB)
        self._probs = np.zeros(self._horizon)
        self._dry = np.zeros(self._horizon, dtype=bool)  # a direct fall (`dry_fall_db` in 8 ms) in this window
        self.far = False  # background established from the far-start rule ...
        self._presumed = False  # ... and the participant's level still presumed, not heard
        self.windows = 0  # windows judged so far; window i covers samples [i*w, (i+1)*w) of the stream
        self.present = False
        self.background_dbfs: float | None = None
        self.near_dbfs: float | None = None  # the participant's usual level (near_quantile)
        self.loud_dbfs: float | None = None
        self.evidence = 0
        self._last_evidence = -(10**9)
        self._near = True
        self._rising = 0
        self._pause = 0  # windows rejected or under the detector's activation since the utterance last spoke
        self._pause_heard = 0  # ... of which the detector called speech (rejected here)
        self._fallen = False  # a direct fall ended the participant's word and nothing at their level came since
        self._heard = 0  # speech windows in the participant's level history (`near_history_s`)
        self._utt_max: float | None = None
        self.lead = 0
        self.established = False
        self.retract = False

    # --- input ------------------------------------------------------------------------------------

    def push(self, x: Int16Array) -> None:
        """The audio the detector is about to judge (same chunks, same order)."""
        pos, xf = 0, x.astype(np.float32)
        while pos < len(x):
            take = min(self._sub - self._sub_filled, len(x) - pos)
            part = xf[pos : pos + take]
            self._sub_acc += float(np.dot(part, part))
            self._sub_filled += take
            pos += take
            if self._sub_filled < self._sub:
                break
            level = _db(self._sub_acc / (self._sub * _FULL_SCALE_SQ))
            self._fall = min(self._fall, level - self._sub_db)
            self._sub_db = level
            self._acc += self._sub_acc
            self._filled += self._sub
            self._sub_acc, self._sub_filled = 0.0, 0
            if self._filled >= self.w:
                self._window_powers.append((self._acc / (self._filled * _FULL_SCALE_SQ), self._fall))
                self._acc, self._filled, self._fall = 0.0, 0, 0.0

    # --- per window ---------------------------------------------------------------------------------

    def gate(self, p: float, speaking: bool) -> float:
        """Judge the next window (detector probability `p`; `speaking`: the segmenter is in an utterance).
        Returns `p`, or `p * reject_factor` for a window judged background."""
        t = self.t
        self.lead, self.established, self.retract = 0, False, False
        # Fed like the detector, a window's audio has always arrived; stay defined if not.
        power, fall = self._window_powers.popleft() if self._window_powers else (0.0, 0.0)
        self._power.append(power)
        powers = list(self._power)
        short = _db(sum(powers[-self._k_short :]) / self._k_short)
        long = _db(sum(powers) / self._k_long)
        i = self.windows % self._horizon
        self._levels[i], self._probs[i] = short, p
        self._dry[i] = t.dry_fall_db > 0 and fall <= -t.dry_fall_db
        self.windows += 1
        if self.windows % self._every == 0:
            self._refresh()

        if not speaking:
            self._utt_max = None
        if not self.present or self.background_dbfs is None:
            self._near = True
            if p >= self.activation:
                self._utt_max = long if self._utt_max is None else max(self._utt_max, long)
            # ... unless it is at the participant's usual level: the loud thing was not them (a door).
            usual = self.near_dbfs is not None and long >= self.near_dbfs - t.tail_near_db
            if t.tail_dry_reset and self._dry[i] and self._utt_max is not None and long < self._utt_max - t.tail_db:
                # A word ended as only a near voice's does, far under the loudest: the loud thing was not them (a
                # door before their level was known); the tail is measured from here.
                self._utt_max = long
            if speaking and self._utt_max is not None and long < self._utt_max - t.tail_db and not usual:
                return self._judged(p, p * t.reject_factor, speaking)
            # Once the participant's usual level is known (not from a beep before their first words): late in a
            # closing pause, or after their word ended in a direct fall, speech well under it is not theirs.
            near = self.near_dbfs if self._heard >= self._fall_heard else None
            self._fallen = self._fallen and speaking and near is not None
            if speaking and near is not None:
                # Not in a silent pause, nor in the participant's own soft ending (the fall tail's business).
                filled = self._pause_heard >= 2 and not self._fallen
                if self._pause >= self._late_pause and filled and short < near - t.resume_below_db:
                    return self._judged(p, p * t.reject_factor, speaking)
                self._fallen = self._dry[i] or (self._fallen and short < near - 3.0)
                if self._fallen and not self._dry[i] and short < near - t.fall_tail_db:
                    return self._judged(p, p * t.reject_factor, speaking)
            return self._judged(p, p, speaking)

        assert self.near_dbfs is not None and self.loud_dbfs is not None
        bg = self.background_dbfs
        threshold = min(bg + t.over_background_db, self.loud_dbfs - t.under_near_db)
        if self._near:
            self._near = short >= threshold - t.hysteresis_db
        else:
            confirm = bg + t.confirm_fraction * (self.near_dbfs - bg)
            rising = short >= threshold + t.hysteresis_db and long >= confirm
            self._rising = self._rising + 1 if rising else 0
            self._near = self._rising >= (t.pause_confirm_windows if speaking or self._presumed else 1)
            if self._near:
                self.lead = self._rise(threshold - t.hysteresis_db)
        return self._judged(p, p if self._near else p * t.reject_factor, speaking)

    def _judged(self, p: float, q: float, speaking: bool) -> float:
        """Follow the open utterance's closing pause as the segmenter will see it (what this stage returns), and
        take back a short burst in it that did not end as a near voice does."""
        if not speaking:
            self._pause = self._burst = self._pause_heard = 0
        elif q >= self.activation:
            if self._pause >= self._late_pause:
                self._burst, self._burst_pause = 0, self._pause
            self._burst += 1 if self._burst_pause else 0
            self._pause = self._pause_heard = 0
        else:
            self._pause_heard += p >= self.activation
            # Taken back only if the detector still hears speech (the gate ended the burst: the TV talks on), and
            # only against background speech established well under the participant: with a keyboard or a door at
            # 0 dB taken for background, two windows after a pause are the participant's own short word.
            near, bg = self.near_dbfs, self.background_dbfs
            clear = near is not None and bg is not None and near - bg >= self.t.burst_margin_db
            short = self.present and clear and 0 < self._burst <= self.t.burst_windows and p >= self.activation
            ended = short and not self._recent(self._dry, self._burst + 2).any()
            self.retract = ended
            self._pause = self._burst_pause + self._burst + 1 if ended else self._pause + 1
            self._burst = self._burst_pause = 0
        return q

    def _rise(self, floor: float) -> int:
        """How many windows before this one the level was already above `floor` (the onset's start)."""
        n = 0
        for back in range(1, min(self._max_lead, self.windows - 1) + 1):
            if self._levels[(self.windows - 1 - back) % self._horizon] < floor:
                break
            n += 1
        return n

    def _chronological(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        if self.windows < self._horizon:
            return self._levels[: self.windows], self._probs[: self.windows]
        k = self.windows % self._horizon
        return np.roll(self._levels, -k), np.roll(self._probs, -k)

    def _recent(self, ring: npt.NDArray[_T], n: int) -> npt.NDArray[_T]:
        """The last `n` windows of one of the rings, oldest first."""
        n = min(n, self.windows, self._horizon)
        i = self.windows % self._horizon
        return ring[i - n : i] if n <= i else np.concatenate((ring[i - n :], ring[:i]))

    def _far_start(self, levels: npt.NDArray[np.float64], speech: npt.NDArray[np.bool_]) -> bool:
        """Nobody near has been heard and the speech of the last `far_span_s` never once fell as direct sound
        does, though it had room to: a TV or a radio across the room, before the participant. Its level
        becomes the background speech level."""
        t = self.t
        if t.dry_fall_db <= 0 or t.far_span_s <= 0 or len(levels) < self._far_span:
            return False
        span, heard = levels[-self._far_span :], speech[-self._far_span :]
        if int(heard.sum()) < self._far_min:
            return False
        spoken = np.sort(span[heard])
        background = _pick(spoken, t.background_quantile)
        if background - float(span.min()) < t.far_room_db:
            return False  # no room to fall: a voice over steady noise, whose falls the noise fills
        if self._recent(self._dry, self._far_span).any():
            return False  # somebody's word ended as a near voice's does
        self.far = self._presumed = True
        self.background_dbfs = background
        self.near_dbfs = self.loud_dbfs = background + t.far_presumed_near_db
        self.evidence, self._last_evidence = int(heard.sum()), self.windows
        return True

    def _forget(self) -> None:
        self.far = self.present = self._presumed = False
        self.background_dbfs = self.near_dbfs = self.loud_dbfs = None
        self.evidence, self._last_evidence, self._near = 0, -(10**9), True

    def _refresh(self) -> None:
        t = self.t
        levels, probs = self._chronological()
        speech = probs >= self.activation
        self._heard = int(speech[-self._history :].sum())
        if not self.present and self._far_start(levels, speech):
            self.present = self.established = True
            self._near = False
            return
        if self.far and self.background_dbfs is not None:
            heard = self._recent(self._dry, self._far_span) & speech[-self._far_span :]
            if (heard & (levels[-self._far_span :] < self.background_dbfs + t.over_background_db)).any():
                # The "far" source has just ended a word as only a near voice does: it was the participant.
                self._forget()
                return
            # The participant is not the far source: their level is what rises clearly over it.
            speech = speech & (levels >= self.background_dbfs + t.over_background_db)
            if self.present and self.windows - self._last_evidence > self._keep:
                self.far = False
        recent = levels[-self._history :][speech[-self._history :]]
        if self.far and len(recent) < self._far_heard and self.background_dbfs is not None:
            # A loud syllable or two of the far source is no participant yet: keep the presumed level.
            self._last_evidence = self.windows
            recent = np.full(1, self.background_dbfs + t.far_presumed_near_db)
        if not len(recent):
            return
        recent.sort()
        self._presumed = False
        self.loud_dbfs, self.near_dbfs = _pick(recent, t.loud_quantile), _pick(recent, t.near_quantile)
        speech = probs >= self.activation
        near_by = maximum_filter1d(levels, 2 * self._isolation + 1, mode="nearest")
        evidence = speech & (levels < self.near_dbfs - t.evidence_below_db)
        evidence &= near_by < self.near_dbfs - t.evidence_gap_db
        if t.dry_evidence and t.dry_fall_db > 0:
            # A door's thump, a chime's strike, a click: struck sounds fall as directly as a near voice does,
            # and a TV across the room never does. Only speech with no direct fall around it is evidence.
            dry = self._recent(self._dry, len(evidence))
            evidence &= ~_after(dry, self._ring)
            if self._lead_dry:
                evidence &= ~_ends_in(dry, speech, self._lead_dry)
        evidence[max(0, len(evidence) - self._isolation) :] = False  # their future is not known yet
        if self._run > 1:
            evidence = _runs_of_at_least(evidence, self._run)
        self.evidence = int(evidence.sum())
        if self.evidence:
            self._last_evidence = self.windows
            self.background_dbfs = _pick(np.sort(levels[evidence]), t.background_quantile)
        was = self.present
        kept = was and self.windows - self._last_evidence <= self._keep
        enough = self.evidence >= t.evidence_windows
        if enough and self._fade and not kept:
            # A participant trailing off leaves "evidence" only right after their own words, falling; a TV or a
            # radio is also heard on its own, in their pauses or well after they stopped, at its own level.
            trailing = _runs_on_from(levels >= self.near_dbfs - t.evidence_gap_db, speech, self._fade)
            if t.fade_slope_db_s > 0:
                trailing = _falling(levels, trailing & evidence, t.fade_slope_db_s * self.w / SAMPLE_RATE)
            enough = int((evidence & ~trailing).sum()) >= t.standalone_windows
        self.present = enough or kept
        if self.present and not was:
            self._near = True  # an utterance in progress is judged by `cut_point`, not cut off mid-word
            self.established = True

    # --- the open utterance when background speech is first established ---------------------------

    def cut_point(self, start_window: int) -> int | None:
        """Window at which the participant began inside the open utterance that started at `start_window`
        (when background speech was just established), or None to leave the utterance alone."""
        if self.near_dbfs is None or self.windows - start_window > self._horizon:
            return None
        levels, _ = self._chronological()
        head = levels[len(levels) - (self.windows - start_window) :]
        if len(head) < self._k_long:
            return None
        power = 10.0 ** (head / 10.0)
        ahead = np.convolve(power, np.ones(self._k_long) / self._k_long, mode="valid")
        reached = np.flatnonzero(ahead >= 10.0 ** ((self.near_dbfs - self.t.cut_below_near_db) / 10.0))
        if not len(reached) or reached[0] < self._min_head:
            return None
        # The 256 ms ahead of window j reaches the participant's level a few windows before they start:
        # the cut goes where the first of those windows is itself loud (then one window earlier).
        j = int(reached[0])
        loud = np.flatnonzero(head[j : j + self._k_long] >= self.near_dbfs - self.t.cut_head_below_db)
        cut = j + (int(loud[0]) if len(loud) else 0) - 1
        # Only a head that sounds like the background evidence: a participant who starts softly keeps it.
        if float(np.percentile(head[:cut], self.t.near_quantile)) > self.near_dbfs - self.t.cut_head_below_db:
            return None
        return start_window + cut

    # --- per utterance ------------------------------------------------------------------------------

    def verdict(self, start_sample: int, end_sample: int) -> BackgroundVerdict:
        """The decision for the utterance spanning these stream samples (those the detector judged)."""
        bg = self.background_dbfs
        if not self.present or bg is None:
            return NO_BACKGROUND
        first = max(start_sample // self.w, self.windows - self._horizon)
        last = min(-(-end_sample // self.w), self.windows)
        if last <= first:
            return BackgroundVerdict("background", 0.0, None, round(bg, 1))
        levels, probs = self._chronological()
        lo, hi = len(levels) - (self.windows - first), len(levels) - (self.windows - last)
        seg, p = levels[lo:hi], probs[lo:hi]
        spoken = seg[p >= self.activation]
        level = float(np.percentile(spoken if len(spoken) else seg, self.t.near_quantile))
        margin = level - bg
        z = (margin - self.t.verdict_midpoint_db) / self.t.verdict_slope_db
        confidence = 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))
        decision: Decision = "near" if confidence >= 0.5 else "background"
        return BackgroundVerdict(decision, round(confidence, 3), round(margin, 1), round(bg, 1))


def _pick(ordered: npt.NDArray[np.float64], percent: float) -> float:
    """The `percent` percentile of an already sorted array (nearest rank: no interpolation needed here)."""
    return float(ordered[min(len(ordered) - 1, int(len(ordered) * percent / 100.0))])


def _runs_of_at_least(mask: npt.NDArray[np.bool_], n: int) -> npt.NDArray[np.bool_]:
    """`mask` keeping only runs of at least `n` consecutive True (a morphological opening, in shifts)."""
    if len(mask) < n:
        return np.zeros_like(mask)
    starts = mask[: len(mask) - n + 1].copy()
    for k in range(1, n):
        starts &= mask[k : len(mask) - n + 1 + k]
    out = np.zeros_like(mask)
    for k in range(n):
        out[k : len(mask) - n + 1 + k] |= starts
    return out


def _after(mask: npt.NDArray[np.bool_], n: int) -> npt.NDArray[np.bool_]:
    """Windows with a True in `mask` from 1 window later back to `n` windows earlier."""
    c = np.concatenate(([0], np.cumsum(mask)))
    i = np.arange(len(mask))
    return np.asarray(c[np.minimum(i + 2, len(mask))] - c[np.maximum(i - n, 0)] > 0)


def _ends_in(dry: npt.NDArray[np.bool_], speech: npt.NDArray[np.bool_], n: int) -> npt.NDArray[np.bool_]:
    """Speech windows followed, at most `n` windows later and with no pause between, by a `dry` window."""
    big = len(dry) + n + 1
    i = np.arange(len(dry))
    next_dry = np.minimum.accumulate(np.where(dry, i, big)[::-1])[::-1]
    next_pause = np.minimum.accumulate(np.where(speech, big, i)[::-1])[::-1]
    # The fall ends the run: it may be in the first window the detector no longer calls speech.
    return np.asarray(speech & (next_dry <= next_pause) & (next_dry - i <= n))


def _runs_on_from(near: npt.NDArray[np.bool_], speech: npt.NDArray[np.bool_], n: int) -> npt.NDArray[np.bool_]:
    """Speech windows at most `n` windows after a `near` one (the participant's level), with no pause between."""
    i = np.arange(len(near))
    last_near = np.maximum.accumulate(np.where(near, i, -1))
    last_pause = np.maximum.accumulate(np.where(speech, -1, i))
    return np.asarray(speech & (last_near >= 0) & (last_near > last_pause) & (i - last_near <= n))


def _falling(levels: npt.NDArray[np.float64], mask: npt.NDArray[np.bool_], per_window: float) -> npt.NDArray[np.bool_]:
    """The runs of `mask` (3 windows or more) whose levels fall, by a least-squares fit, `per_window` dB per window."""
    out = np.zeros_like(mask)
    idx = np.flatnonzero(mask)
    for run in np.split(idx, np.flatnonzero(np.diff(idx) > 1) + 1) if len(idx) else ():
        if len(run) >= 3:
            x = run - run.mean()
            if float(np.dot(x, levels[run])) / float(np.dot(x, x)) <= -per_window:
                out[run] = True
    return out


def _db(mean_square: float) -> float:
    return 10.0 * math.log10(mean_square) if mean_square > 1e-12 else _SILENCE_DB
