"""Noise reduction stage: noisereduce's stationary spectral gate, run in blocks over a stream (seed 001).

noisereduce works on whole clips; here its `SpectralGateStationary` is built once per noise profile and
applied block by block with context on both sides, so block edges do not click. Latency is bounded:
an input sample leaves at most `block + lookahead` samples later (default 128 + 32 ms = 160 ms).

The noise profile is learned from audio the VAD called non-speech (`learn_noise`), refreshed every
`update_s` seconds from the last `profile_s` seconds of such audio. Until the first profile exists, audio
passes through unchanged.
"""

from __future__ import annotations

import warnings

import numpy as np
from noisereduce.spectralgate.stationary import SpectralGateStationary

from .frames import SAMPLE_RATE, Int16Array

_N_FFT = 512  # 32 ms at 16 kHz, the same resolution noisereduce defaults to at this rate


class StreamingDenoiser:
    def __init__(
        self,
        *,
        block_ms: int = 128,
        lookahead_ms: int = 32,
        context_ms: int = 32,
        n_std_thresh: float = 1.5,
        prop_decrease: float = 1.0,
        profile_s: float = 3.0,
        min_profile_s: float = 0.5,
        update_s: float = 1.0,
    ) -> None:
        self.block = block_ms * SAMPLE_RATE // 1000
        self.lookahead = lookahead_ms * SAMPLE_RATE // 1000
        self.context = context_ms * SAMPLE_RATE // 1000
        self._n_std, self._prop = n_std_thresh, prop_decrease
        self._profile_max = int(profile_s * SAMPLE_RATE)
        self._profile_min = int(min_profile_s * SAMPLE_RATE)
        self._update = int(update_s * SAMPLE_RATE)
        self._gate: SpectralGateStationary | None = None
        self._noise: list[Int16Array] = []
        self._noise_len = 0
        self._noise_new = 0
        self.profile_updates = 0
        # Input buffer: raw samples from absolute index `_buf_base`; output emitted up to `_out`.
        self._buf = np.zeros(0, dtype=np.float32)
        self._buf_base = 0
        self._out = 0
        # Raw ring of the last 2 s so the chain can point at non-speech by sample range, after the VAD.
        self._ring = np.zeros(2 * SAMPLE_RATE, dtype=np.int16)
        self._in = 0

    @property
    def latency_samples(self) -> int:
        return self.block + self.lookahead

    def process(self, x: Int16Array) -> Int16Array:
        """Take raw samples; return the denoised samples that are ready (in order, possibly none)."""
        self._buf = np.concatenate((self._buf, x.astype(np.float32)))
        idx = (self._in + np.arange(len(x))) % len(self._ring)
        self._ring[idx] = x
        self._in += len(x)
        outs: list[Int16Array] = []
        while self._buf_base + len(self._buf) >= self._out + self.block + self.lookahead:
            outs.append(self._run(self.block))
        return np.concatenate(outs) if outs else np.zeros(0, dtype=np.int16)

    def flush(self) -> Int16Array:
        """End of stream: denoise and return whatever is still buffered."""
        remaining = self._buf_base + len(self._buf) - self._out
        return self._run(remaining) if remaining > 0 else np.zeros(0, dtype=np.int16)

    def _run(self, n: int) -> Int16Array:
        lo = max(self._buf_base, self._out - self.context)
        seg = self._buf[lo - self._buf_base : self._out + n + self.lookahead - self._buf_base]
        head = self._out - lo
        if self._gate is None:
            y = seg[head : head + n]
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # scipy warns about short segments at stream end
                y = self._gate.spectral_gating_stationary(seg[None, :])[0, head : head + n]
        self._out += n
        keep = self._out - self.context - self._buf_base
        if keep > 0:
            self._buf, self._buf_base = self._buf[keep:], self._buf_base + keep
        return np.clip(np.rint(y), -32768, 32767).astype(np.int16)

    def learn_noise_range(self, start: int, end: int) -> None:
        """Samples [start, end) of the input (stream clock) were non-speech; learn from them if still held."""
        start = max(start, self._in - len(self._ring))
        if end > start:
            self.learn_noise(self._ring[np.arange(start, end) % len(self._ring)])

    def learn_noise(self, x: Int16Array) -> None:
        """Raw audio the VAD judged non-speech; refits the profile every `update_s` seconds of it."""
        if len(x) == 0:
            return
        self._noise.append(x)
        self._noise_len += len(x)
        self._noise_new += len(x)
        while self._noise_len - len(self._noise[0]) >= self._profile_max:
            self._noise_len -= len(self._noise.pop(0))
        first = self._gate is None and self._noise_len >= self._profile_min
        if first or (self._gate is not None and self._noise_new >= self._update):
            self._fit(np.concatenate(self._noise).astype(np.float32))

    def _fit(self, noise: np.ndarray) -> None:
        self._noise_new = 0
        self.profile_updates += 1
        self._gate = SpectralGateStationary(
            y=noise[:_N_FFT],
            sr=SAMPLE_RATE,
            y_noise=noise,
            n_std_thresh_stationary=self._n_std,
            chunk_size=len(noise),
            clip_noise_stationary=False,
            padding=0,
            n_fft=_N_FFT,
            win_length=None,
            hop_length=None,
            time_constant_s=2.0,
            freq_mask_smooth_hz=500,
            time_mask_smooth_ms=50,
            tmp_folder=None,
            prop_decrease=self._prop,
            use_tqdm=False,
            n_jobs=1,
        )
