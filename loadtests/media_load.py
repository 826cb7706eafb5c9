"""``python -m loadtests.media_load --participants N --seconds S``: N synthetic participants in one meeting through
the real API and media edge, each publishing pre-encoded VP8 (optionally Opus too) and decoding everyone else.

Starts its own throwaway stack (``python -m api`` and ``python -m edge``, free loopback ports: the same one the
benchmark uses, ``testkit.media_stack``) unless ``--api-url`` names a running one. The participants are
``testkit.media_load``'s. Prints (and with ``--json`` writes) a JSON summary: join times (GraphQL answer, edge
``joined``, first decoded remote video frame), decoded frames per remote track, RTP packets received and lost, the
edge's CPU share (when this run started the edge), and problems. Exits non-zero when a participant failed to join
or did not receive every other participant's video. Bounded: at most 16 participants for at most 120 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import asdict
from pathlib import Path

from loadtests.cli import bounded_int
from testkit.media_load import MAX_PARTICIPANTS, MAX_SECONDS, LoadReport, run_load
from testkit.media_stack import running_stack
from testkit.server import ApiStartError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtests.media_load", description=__doc__)
    parser.add_argument(
        "--participants", type=bounded_int(2, MAX_PARTICIPANTS), default=4, help="people in the meeting"
    )
    parser.add_argument("--seconds", type=bounded_int(1, MAX_SECONDS), default=10, help="steady media time")
    parser.add_argument("--audio", action="store_true", help="also publish Opus (and receive everyone's)")
    parser.add_argument("--fps", type=bounded_int(1, 60), default=15, help="video frame rate")
    parser.add_argument(
        "--gop",
        type=bounded_int(1, 300),
        default=15,
        help="frames between video key frames (a pre-encoded clip cannot answer the edge's key frame request, so"
        " first-frame times include the wait for the next one)",
    )
    parser.add_argument("--api-url", help="use this running API (and the edge it points at) instead of starting one")
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args(argv)

    async def go(api_url: str, edge_pid: int | None) -> LoadReport:
        return await run_load(
            api_url, args.participants, args.seconds, audio=args.audio, fps=args.fps, gop=args.gop, edge_pid=edge_pid
        )

    if args.api_url:
        report = asyncio.run(go(args.api_url.rstrip("/"), None))
    else:
        try:
            with running_stack(prefix="meetmesh-media-load-") as stack:
                report = asyncio.run(go(stack.api_url, stack.edge_pid))
        except ApiStartError as exc:
            print(f"FAIL: {exc}", file=sys.stderr)
            return 1
    text = json.dumps({**asdict(report), "ok": report.ok}, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    print("PASS" if report.ok else "FAIL: " + "; ".join(report.problems), file=sys.stderr)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
