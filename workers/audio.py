"""Decoding a track's audio onto a timeline."""

from __future__ import annotations

import av
import numpy as np

from capture.tracks import Track


def decode_audio(
    track: Track, t0: float, total_samples: int, rate: int, out: np.ndarray | None = None, channels: int = 1
) -> np.ndarray:
    """A float32 signal at `rate` of `total_samples` with the track's samples at their place on the timeline
    (`t0`: the wall-clock time of sample 0): shape (total_samples,) mono, or (total_samples, 2) stereo."""
    if out is None:
        out = np.zeros((total_samples, 2) if channels == 2 else total_samples, np.float32)
    base = round((track.start - t0) * rate)
    first_time: float | None = None
    resampler = av.AudioResampler(format="flt", layout="stereo" if channels == 2 else "mono", rate=rate)
    with av.open(str(track.path)) as c:
        try:
            for packet in c.demux(c.streams.audio[0]):
                for frame in packet.decode():
                    ft = float(frame.time or 0.0)
                    if first_time is None:
                        first_time = ft
                    # Place each decoded frame by its own pts: gaps (mutes, loss) stay silent.
                    pos = base + round((ft - first_time) * rate)
                    for rf in resampler.resample(frame):
                        samples = rf.to_ndarray().reshape(-1, 2) if channels == 2 else rf.to_ndarray().reshape(-1)
                        end = min(total_samples, pos + len(samples))
                        if end > pos >= 0:
                            out[pos:end] += samples[: end - pos]
                        pos += len(samples)
        except av.FFmpegError:
            pass  # truncated tail of a partial file
    for m in track.meta.mutes:
        a = max(0, round((m.start - t0) * rate))
        b = total_samples if m.end is None else min(total_samples, round((m.end - t0) * rate))
        out[a:b] = 0.0
    return out
