"""Segmentation: turn per-window speech probabilities into utterances (seed 001: "cut at the pauses").

The rules follow livekit-plugins-silero's stream (activation/deactivation hysteresis, minimum speech and
silence) so thresholds keep their meaning, plus what the plugin lacks: a maximum length that splits at the
quietest window, `close()` that emits the utterance still open when the stream ends, and two hooks for the
background-speech stage (`background.py`): an onset dated back (`lead`), the open utterance's head cut off
(`cut_head`) and a short burst in its closing pause taken back (`retract`).

All positions are sample indices at 16 kHz on the stream's clock. The raw audio is kept here (only the
pre-roll while idle) so an utterance's audio can be cut without the detector's or denoiser's delay mattering.
"""

from __future__ import annotations

import numpy as np

from .events import AudioEvent, EndReason, SpeechEnded, SpeechStarted
from .frames import SAMPLE_RATE, Int16Array


class Segmenter:
    def __init__(
        self,
        *,
        activation: float = 0.5,
        deactivation: float = 0.35,
        min_speech_s: float = 0.05,
        min_silence_s: float = 0.55,
        pre_roll_s: float = 0.3,
        post_roll_s: float = 0.1,
        max_utterance_s: float = 30.0,
        trim_tail: bool = False,
        clock_offset: float = 0.0,
    ) -> None:
        if not 0.0 < deactivation <= activation:
            raise ValueError("need 0 < deactivation <= activation")
        if max_utterance_s <= 2 * min_silence_s:
            raise ValueError("max_utterance_s must be well above min_silence_s")
        self.activation, self.deactivation = activation, deactivation
        self._min_speech = round(min_speech_s * SAMPLE_RATE)
        self._min_silence = round(min_silence_s * SAMPLE_RATE)
        self._pre_roll = round(pre_roll_s * SAMPLE_RATE)
        self._post_roll = round(post_roll_s * SAMPLE_RATE)
        self._max_len = round(max_utterance_s * SAMPLE_RATE)
        self._trim_tail = trim_tail
        self._offset = clock_offset
        self.pos = 0  # samples judged by the detector so far
        self.speaking = False
        self.last_window_speech = False
        self._run = 0  # speech samples accumulated before START
        self._run_start = 0
        self._silence = 0
        self._utt_start = 0
        self._prev_end = 0  # end of the last emitted utterance: an onset is never dated back before it
        self._last_speech_end = 0
        self._audio_start = 0  # where the open utterance's audio begins (start - pre-roll, or a split point)
        self._resumed: tuple[int, int, int] | None = None  # speech after a pause: (at, end before, pause before)
        # raw audio history: chunks starting at sample index `_hist_base`
        self._hist: list[Int16Array] = []
        self._hist_base = 0
        self._hist_len = 0

    # --- audio history --------------------------------------------------------------------------

    def add_audio(self, x: Int16Array) -> None:
        if len(x):
            self._hist.append(x)
            self._hist_len += len(x)
        # Trim lazily (every ~2 s of excess) so the per-frame cost stays a list append.
        keep_from = (self._utt_start if self.speaking else self.pos - self._run) - self._pre_roll
        excess = keep_from - self._hist_base
        if excess > 2 * SAMPLE_RATE:
            buf = np.concatenate(self._hist)
            self._hist = [buf[excess:]]
            self._hist_base += excess
            self._hist_len -= excess

    def _audio(self, start: int, end: int) -> Int16Array:
        buf = np.concatenate(self._hist) if len(self._hist) != 1 else self._hist[0]
        self._hist = [buf]
        lo = max(0, start - self._hist_base)
        return buf[lo : max(lo, end - self._hist_base)].copy()

    # --- decisions ------------------------------------------------------------------------------

    def _t(self, sample: int) -> float:
        return self._offset + sample / SAMPLE_RATE

    @property
    def utterance_start(self) -> int:
        """Sample where the open utterance starts (meaningful while `speaking`)."""
        return self._utt_start

    def add_window(self, n: int, prob: float, lead: int = 0) -> list[AudioEvent]:
        """One detector window of `n` samples with speech probability `prob`. `lead`: if this window starts a
        run of speech, the run began this many samples earlier (a detector that confirms onsets late)."""
        events: list[AudioEvent] = []
        start, self.pos = self.pos, self.pos + n
        is_speech = prob >= self.activation or (self.speaking and prob > self.deactivation)
        self.last_window_speech = is_speech
        if self.speaking:
            if is_speech:
                if self._silence:
                    self._resumed = (start, self._last_speech_end, self._silence)
                self._silence = 0
                # With `trim_tail` the end is the last *confident* window: between the two thresholds
                # the detector is only holding on (Silero lags the voice by ~100 ms), not hearing speech.
                if prob >= self.activation or not self._trim_tail:
                    self._last_speech_end = self.pos
            else:
                self._silence += n
                if self._silence >= self._min_silence:
                    events.append(self._end(self._last_speech_end, "pause"))
                    return events
            if self.pos - self._utt_start >= self._max_len:
                events.extend(self._split(n))
        elif is_speech:
            if self._run == 0:
                self._run_start = max(start - lead, self._prev_end, self._hist_base)
                self._run += start - self._run_start
            self._run += n
            if self._run >= self._min_speech:
                self.speaking = True
                self._utt_start, self._last_speech_end, self._silence = self._run_start, self.pos, 0
                self._audio_start = max(0, self._utt_start - self._pre_roll)
                self._run = 0
                events.append(SpeechStarted(start=self._t(self._utt_start), detected_at=self._t(self.pos)))
        else:
            self._run = 0
        return events

    def _end(self, end: int, reason: EndReason) -> SpeechEnded:
        audio_start = self._audio_start
        # A split or a cut-off head ends exactly where the next utterance's audio begins: no post-roll.
        audio_end = min(self.pos, end + self._post_roll) if reason in ("pause", "end_of_stream") else end
        ev = SpeechEnded(
            start=self._t(self._utt_start),
            end=self._t(end),
            detected_at=self._t(self.pos),
            reason=reason,
            audio=self._audio(audio_start, audio_end),
            audio_start=self._t(audio_start),
        )
        self.speaking = False
        self._silence = 0
        self._prev_end = end
        self._resumed = None
        return ev

    def cut_head(self, at: int) -> list[AudioEvent]:
        """End the open utterance at sample `at` (reason `background`: its head was someone else) and go on
        with an utterance starting there. Nothing happens unless `at` is strictly inside the open utterance."""
        if not self.speaking or not self._utt_start < at < self.pos:
            return []
        self._last_speech_end = max(self._last_speech_end, at)
        head = self._end(at, "background")
        self.speaking = True
        self._utt_start = at
        self._audio_start = max(self._prev_end, at - self._pre_roll)
        return [head, SpeechStarted(start=self._t(at), detected_at=self._t(self.pos))]

    def retract(self) -> list[AudioEvent]:
        """The speech since the open utterance last resumed after a pause was someone else's (the background
        stage says so once it has ended): the pause runs on from before it, and ends the utterance if long enough."""
        if not self.speaking or self._resumed is None:
            return []
        at, self._last_speech_end, before = self._resumed
        self._resumed = None
        self._silence = before + self.pos - at
        return [self._end(self._last_speech_end, "pause")] if self._silence >= self._min_silence else []

    def _split(self, n: int) -> list[AudioEvent]:
        # Cut in the middle of the quietest window of the second half (measured on the raw audio kept
        # here), so the split lands in a breath rather than in a word. Only runs once per max length.
        if self._silence:
            # Already in the closing pause: end here rather than open a continuation with no speech.
            return [self._end(self._last_speech_end, "max_length")]
        half = self._utt_start + self._max_len // 2
        tail = self._audio(half, self.pos).astype(np.float32)
        k = len(tail) // n
        windows = tail[: k * n].reshape(k, n)
        energy = (windows * windows).sum(axis=1) if k else np.zeros(1)
        cut = half + int(np.argmin(energy)) * n + n // 2
        ended = self._end(cut, "max_length")
        self.speaking = True
        self._utt_start = self._audio_start = cut  # the continuation's audio starts at the cut: no overlap
        self._last_speech_end = max(self._last_speech_end, cut)
        return [ended, SpeechStarted(start=self._t(cut), detected_at=self._t(self.pos), continuation=True)]

    def close(self) -> list[AudioEvent]:
        """End of stream: an open utterance is closed at its last speech window and emitted."""
        if not self.speaking:
            self._run = 0
            return []
        return [self._end(self._last_speech_end, "end_of_stream")]
