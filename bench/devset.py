"""Development set for transcription choices: what decoding, denoising and scoring choices are tuned on.

The held-out set (`bench/heldout.py`) must stay unseen by every tuning decision, so choices (beam width, noise
suppression, VAD padding, thresholds, the WER normaliser) are compared here first and measured on the held-out
set once. Same shape as the held-out set (two-person conversations, the other side's echo at -30 dB in each mic,
noise none / 20 / 10 dB SNR, Opus through the capture writer, `workers.transcribe.transcribe`), but other
sentences and other voices: espeak-ng accents the held-out set does not use (en-gb-x-rp, en-us, en-gb-x-gbclan)
and pitch/voice variants (`+f2`, `+m3`, `+klatt`...) of the ones it does.

`python -m bench.devset [--grid] [--beam N] [--denoise [--either] | --no-denoise] [--heldout]` prints the WER per noise
level and the RTF; nothing is written to bench/results.json (`--heldout` runs the same report on the held-out
set, for the one final measurement). `--grid` runs every development conversation at every noise level (12
recordings, ~650 words): one conversation per level confounds the noise with the voices, and a single noise seed
moves the 10 dB WER by ±0.03, so choices are compared on the grid.
"""

from __future__ import annotations

import argparse
import dataclasses

import numpy as np

from bench.heldout import CONVERSATIONS, Conversation, evaluate
from workers.transcribe import DecodeOptions

DEV_CONVERSATIONS = [
    Conversation(
        (("en-gb-x-rp", 170), ("en-us+m3", 195)),
        None,
        (
            "Did the delivery of the new office chairs arrive this morning?",
            "Only half of them, the rest are stuck at the warehouse.",
            "That's annoying, we promised the design team their desks by Monday.",
            "I'll phone the courier and ask for a firm date.",
            "Please also check whether the invoice lists twelve chairs or twenty.",
            "It says twenty, so we should only pay for what came.",
        ),
    ),
    Conversation(
        (("en-gb-x-gbclan", 185), ("en-us-nyc+f2", 160)),
        20.0,
        (
            "Our website was slow for about an hour yesterday evening.",
            "The database ran out of disk space during the nightly backup.",
            "Can we move the backups to a separate volume?",
            "Yes, and we could keep only the last seven copies.",
            "Write that down in the incident report before lunch.",
        ),
    ),
    Conversation(
        (("en-gb-scotland+m3", 200), ("en-029+f3", 150)),
        10.0,
        (
            "Who is bringing the projector to the workshop on Thursday?",
            "Martin said he would, but he is travelling back from Leeds.",
            "Then I will borrow the one from the library just in case.",
            "Remember to reserve a room with enough power sockets.",
            "The large seminar room has plenty, and it seats sixty people.",
        ),
    ),
    Conversation(
        (("en-us+klatt", 190), ("en-gb-x-gbcwmd+f4", 170)),
        20.0,
        (
            "The garden behind the school needs a new fence before spring.",
            "I asked three builders for a quote last week.",
            "Which one was the cheapest and how soon can they start?",
            "The second one, and they can begin in early March.",
            "Let's accept their offer and tell the parents at the next meeting.",
        ),
    ),
]


def grid() -> list[Conversation]:
    """Every development conversation clean, at 20 dB and at 10 dB SNR (noise seeded by position)."""
    return [dataclasses.replace(c, snr_db=snr) for c in DEV_CONVERSATIONS for snr in (None, 20.0, 10.0)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.devset", description=__doc__)
    parser.add_argument("--beam", type=int, default=DecodeOptions().beam_size)
    parser.add_argument("--denoise", action="store_true", help="suppress noise first (workers.denoise)")
    parser.add_argument("--no-denoise", action="store_true", help="decode as captured (the default)")
    parser.add_argument("--either", action="store_true", help="with --denoise: keep the surer of both decodes")
    parser.add_argument("--grid", action="store_true", help="every conversation at every noise level")
    parser.add_argument("--heldout", action="store_true", help="the held-out set instead (measure once)")
    args = parser.parse_args(argv)
    options = DecodeOptions(beam_size=args.beam)
    on = args.denoise and not args.no_denoise
    options = dataclasses.replace(options, denoise=on, either=on and args.either)
    conversations = CONVERSATIONS if args.heldout else grid() if args.grid else DEV_CONVERSATIONS
    scores = evaluate(conversations, options=options)
    per = ", ".join(f"{k} {scores.wer(k):.3f}" for k in ("clean", "snr20", "snr10") if k in scores.errors)
    print(f"{options}: WER {scores.wer():.3f} ({per}; raw {scores.wer('raw:all'):.3f}), RTF {scores.rtf:.3f}")
    print(f"  lost {scores.lost}, turn start p95 {float(np.percentile(scores.starts, 95)):.3f} s")
    for segments in [] if args.heldout else scores.hypotheses:  # held-out text is not for reading
        for s in segments:
            print(f"    {s.speaker_id} {s.start:6.2f} {s.text}")


if __name__ == "__main__":
    main()
