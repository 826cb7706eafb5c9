"""Live captions: how long after someone stops speaking their line is ready, and how right it is.

The edge's captioning path as it runs in production - :class:`edge.captions.Captioner` (its own process:
Opus decode, energy segmenter, faster-whisper tiny.en int8, beam 1) fed through a :class:`CaptionTap` with
RTP packets in real time, 20 ms apart - for ``len(SENTENCES)`` espeak-ng sentences, one after another, each
followed by a second of silence.

- ``caption_latency_p50_ms`` / ``_p95_ms``: from the moment the packet carrying the end of the speech (the
  last sample above 1 % of full scale) is handed to the tap to the moment the caption line reaches the edge's
  callback. It includes the tap's 200 ms batching, the segmenter's 0.4 s end-of-speech silence and the
  transcription; it leaves out the last hop (edge → API control feed → subscribers), a few milliseconds on
  loopback.
- ``caption_wer``: word error rate of the lines against the sentences.
- ``caption_latency_p50_ms_snr20`` / ``_p95_ms_snr20`` / ``caption_wer_snr20``: the same with steady room noise
  (seeded, pink-ish) 20 dB below the speech under every packet, silence included - the case where a fixed
  energy threshold never hears the end of a sentence.
- ``caption_endpoint_ms_p50`` / ``_snr20`` (and ``_snr20_fixed_threshold``, the segmenter with its noise floor
  turned off, as it was before): how long after the speech ends the segmenter ends the utterance, in audio
  time - the part of the latency that does not depend on how busy the CPU is (the same Opus packets through
  the captioner's decoder and segmenter, no model). The latencies above add the 200 ms batching and the
  transcription, which on a shared 2-core host varies several-fold with the other load.
"""

from __future__ import annotations

import asyncio
import os
import re
import struct
import time

import numpy as np

from edge.captions import BATCH, Captioner
from edge.synthetic import encode_opus_pcm
from workers.live_captions import SegmenterConfig, _Track
from workers.synthetic import active_rms, noise, speech

SENTENCES = [
    "The quarterly numbers look better than we expected.",
    "Please send the slides to the whole team before lunch.",
    "We will ship the new release on Thursday afternoon.",
    "Can everyone hear me clearly on this call?",
    "Let us move on to the next item on the agenda.",
    "The support team reported fewer crashes this week.",
    "I will write the release notes before the end of the day.",
    "Thanks everyone, see you at the same time next week.",
]
PACKET_S = 0.02
SAMPLES = 960


def _words(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9' ]", " ", text.lower()).split()


def _wer(reference: str, hypothesis: str) -> float:
    ref, hyp = _words(reference), _words(hypothesis)
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1] / max(1, len(ref))


async def _run(snr_db: float | None = None) -> dict[str, float | str]:
    lines: asyncio.Queue[tuple[float, str]] = asyncio.Queue()

    async def on_caption(key: str, text: str, start_s: float, end_s: float, heard_at: float, language: str) -> None:
        lines.put_nowait((time.monotonic(), text))

    captioner = Captioner(on_caption)
    captioner.start()
    latencies: list[float] = []
    errors: list[float] = []
    try:
        await asyncio.wait_for(captioner.ready.wait(), 120)
        for i, sentence in enumerate(SENTENCES):
            signal, speech_end_s = _signal(i, sentence, snr_db)
            last_speech_packet = round(speech_end_s * 48_000 - 1) // SAMPLES
            clip = encode_opus_pcm(signal)
            tap = captioner.tap(f"bench/{snr_db}/{i}/0")
            t0 = time.monotonic()
            speech_end = t0
            for n, (payload, _) in enumerate(clip.frames):
                delay = t0 + n * PACKET_S - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                header = struct.pack("!BBHII", 0x80, 111, n & 0xFFFF, (n * SAMPLES) & 0xFFFFFFFF, 0x1234 + i)
                tap.on_rtp(header + payload)
                if n == last_speech_packet:
                    speech_end = time.monotonic()
            at, text = await asyncio.wait_for(lines.get(), 30)
            latencies.append((at - speech_end) * 1000)
            errors.append(_wer(sentence, text))
            print(f"  {sentence!r} -> {text!r}: {latencies[-1]:.0f} ms", flush=True)
            while not lines.empty():  # a sentence split in two lines: count the first, drop the rest
                lines.get_nowait()
    finally:
        await captioner.close()
    suffix = "" if snr_db is None else f"_snr{snr_db:g}"
    out: dict[str, float | str] = {
        # The latency is mostly transcription time, which other work on the host stretches several-fold.
        f"caption_bench_load_avg_1m{suffix}": round(os.getloadavg()[0], 2),
        f"caption_latency_p50_ms{suffix}": round(float(np.percentile(latencies, 50)), 1),
        f"caption_latency_p95_ms{suffix}": round(float(np.percentile(latencies, 95)), 1),
        f"caption_wer{suffix}": round(float(np.mean(errors)), 3),
    }
    if snr_db is None:
        out["caption_latency_source"] = (
            f"edge captioner (own process, faster-whisper tiny.en int8, beam 1), {len(SENTENCES)} espeak-ng "
            "sentences fed as RTP in real time; speech end (last packet above 1% FS handed to the tap) -> line at "
            "the edge; excludes the edge->API->subscriber hop"
        )
    return out


def _signal(i: int, sentence: str, snr_db: float | None) -> tuple[np.ndarray, float]:
    """A sentence and a second of quiet (with noise `snr_db` below the speech), and when the speech ends."""
    pcm = speech(sentence)
    loud = np.flatnonzero(np.abs(pcm) > 0.01)
    signal = np.concatenate([pcm, np.zeros(48_000, np.float32)])
    if snr_db is not None:
        signal += noise(len(signal), active_rms(pcm) * 10 ** (-snr_db / 20), seed=i)
    return signal, (int(loud[-1]) + 1) / 48_000


def endpoint_ms(snr_db: float | None, config: SegmenterConfig | None = None) -> float:
    """Median (audio) time from the end of the speech to the end of the first utterance the segmenter cut."""
    delays = []
    for i, sentence in enumerate(SENTENCES):
        signal, speech_end = _signal(i, sentence, snr_db)
        payloads = [payload for payload, _ in encode_opus_pcm(signal).frames]
        track = _Track(config or SegmenterConfig())
        ends = [u.end_s for b in range(0, len(payloads), BATCH) for u in track.feed(payloads[b : b + BATCH])]
        pending = track.segmenter.flush()
        ends += [pending.end_s] if pending is not None else []
        delays.append((ends[0] - speech_end) * 1000 if ends else float("inf"))
    return round(float(np.median(delays)), 1)


def run() -> dict[str, float | str]:
    endpoints: dict[str, float | str] = {
        "caption_endpoint_ms_p50": endpoint_ms(None),
        "caption_endpoint_ms_p50_snr20": endpoint_ms(20.0),
        "caption_endpoint_ms_p50_snr20_fixed_threshold": endpoint_ms(20.0, SegmenterConfig(floor_max_rms=0.0)),
    }
    print(f"  segmenter end of speech: {endpoints}", flush=True)
    return {**endpoints, **asyncio.run(_run()), **asyncio.run(_run(20.0))}


if __name__ == "__main__":
    print(run())
