"""Files a recording's jobs would write, made in a test: a real H.264/AAC MP4 the browser can play."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def write_mp4(path: Path, seconds: int) -> None:
    """A short H.264 + AAC MP4 (what the compose job writes), each second a different colour, with a tone."""
    fps, rate = 15, 48000
    with av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"}) as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = 320, 240, "yuv420p"
        audio = out.add_stream("aac", rate=rate)
        audio.layout = "mono"
        for i in range(seconds * fps):
            img = np.zeros((240, 320, 3), np.uint8)
            img[:, :] = ((i // fps) * 40 % 256, 120, 255 - (i // fps) * 40 % 256)
            img[100:140, (i * 4) % 280 : (i * 4) % 280 + 40] = 255  # something moving
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            out.mux(video.encode(frame))
        out.mux(video.encode())
        block = 1024
        for n in range(math.ceil(seconds * rate / block)):
            t = (np.arange(block) + n * block) / rate
            samples = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32).reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
            frame.sample_rate, frame.pts, frame.time_base = rate, n * block, Fraction(1, rate)
            out.mux(audio.encode(frame))
        out.mux(audio.encode())
