"""Loudness of one utterance as a listener hears it: the active speech level, not the plain mean.

The plain RMS of an utterance drops with every pause between words, so a slow speaker would read as
quiet. The active level averages only the 20 ms frames within `ACTIVE_RANGE_DB` of the utterance's
loudest frame (a simplified ITU-T P.56), which tracks the voice itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from agents.audio.levels import FLOOR_DBFS, dbfs

FRAME = 320  # 20 ms at 16 kHz
ACTIVE_RANGE_DB = 20.0
_CLIP = 32767


@dataclass(frozen=True, slots=True)
class UtteranceLevel:
    active_dbfs: float
    peak_dbfs: float
    clipping_ratio: float


def utterance_level(x: npt.NDArray[np.int16]) -> UtteranceLevel:
    n = len(x) // FRAME
    if n == 0:
        return UtteranceLevel(FLOOR_DBFS, FLOOR_DBFS, 0.0)
    fr = x[: n * FRAME].astype(np.float64).reshape(n, FRAME)
    ms = np.einsum("ij,ij->i", fr, fr) / FRAME
    db = np.array([dbfs(float(v)) for v in ms])
    active = db > max(db.max() - ACTIVE_RANGE_DB, FLOOR_DBFS + 30.0)
    level = dbfs(float(ms[active].mean())) if active.any() else FLOOR_DBFS
    peak = int(np.abs(x.astype(np.int32)).max())
    clipped = int(np.count_nonzero((x >= _CLIP) | (x <= -_CLIP)))
    return UtteranceLevel(
        active_dbfs=level,
        peak_dbfs=20.0 * float(np.log10(peak / 32768.0)) if peak else FLOOR_DBFS,
        clipping_ratio=clipped / len(x),
    )
