"""``python -m bench``: start the API, run every benchmark against it, merge the numbers into bench/results.json.

A new benchmark is a module with a ``run(base_url) -> dict`` coroutine, added to BENCHMARKS below.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import sys
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path

from bench import chat, fanout, graphql, large_meeting, results
from bench.loadgen import BenchFailed
from testkit.server import ApiStartError, running_api

Benchmark = Callable[[str], Awaitable[Mapping[str, float]]]
BENCHMARKS: dict[str, Benchmark] = {"graphql": graphql.run, "chat": chat.run}


def _media() -> Mapping[str, results.Value]:
    # Imported on use: it loads aiortc, PyAV and the edge, which the API benchmarks do not need.
    from bench import media

    return media.run()


def _media_jobs() -> Mapping[str, results.Value]:
    # Imported on use: PyAV and faster-whisper.
    from bench import media_jobs

    return media_jobs.run()


def _graphql_validation() -> Mapping[str, results.Value]:
    # In this process, no server: parse + validation of hostile documents at the limits.
    from bench import graphql_validation

    return graphql_validation.run()


def _transcribe_heldout() -> Mapping[str, results.Value]:
    # Imported on use: PyAV and faster-whisper.
    from bench import heldout

    return heldout.run()


def _browser_join() -> Mapping[str, results.Value]:
    # Imported on use: Playwright and Debian's Chromium.
    from bench import browser_join

    return browser_join.run()


def _api_ceiling() -> Mapping[str, results.Value]:
    # Starts its own servers (the ceiling app, the API on SQLite and on PostgreSQL) and generator process.
    from bench import api_ceiling

    return api_ceiling.run()


def _rest_cpu() -> Mapping[str, results.Value]:
    # Starts its own API process: server CPU per request, GraphQL vs REST (API key, access token), interleaved.
    from bench import rest_cpu

    return rest_cpu.run()


def _idle_subscriptions() -> Mapping[str, results.Value]:
    from bench import idle_subscriptions

    return idle_subscriptions.run()


def _relay() -> Mapping[str, results.Value]:
    # Imported on use: aioquic and two processes per round.
    from bench import relay

    return relay.run()


def _relay_mesh() -> Mapping[str, results.Value]:
    # Imported on use: the API and two edge processes, aiortc participants.
    from bench import relay_mesh

    return relay_mesh.run()


def _collab() -> Mapping[str, results.Value]:
    # Imported on use: pycrdt clients against an API of its own (it measures that process's CPU).
    from bench import collab

    return collab.run()


def _notes_browser() -> Mapping[str, results.Value]:
    # Imported on use: Playwright and Debian's Chromium against an API of its own.
    from bench import notes_browser

    return notes_browser.run()


def _ui() -> Mapping[str, results.Value]:
    # Imported on use: Playwright and Debian's Chromium.
    from bench import ui

    return ui.run()


def _webhooks() -> Mapping[str, results.Value]:
    # Its own API process (webhook settings) and receiver process.
    from bench import webhooks

    return webhooks.run()


def _virtual_background() -> Mapping[str, results.Value]:
    # Imported on use: Playwright and Debian's Chromium (no API: the page's files through api.web's allowlist).
    from bench import virtual_background

    return virtual_background.run()


def _board_audience() -> Mapping[str, results.Value]:
    from bench import board_audience

    return board_audience.run()


def _captions() -> Mapping[str, results.Value]:
    # Imported on use: the edge's captioner (a process with faster-whisper).
    from bench import captions

    return captions.run()


# Benchmarks that start the processes they need themselves (e.g. one embedded API, one on Redis; the media edge).
STANDALONE: dict[str, Callable[[], Mapping[str, results.Value]]] = {
    "fanout": fanout.run,
    "api_ceiling": _api_ceiling,
    "rest_cpu": _rest_cpu,
    "idle_subscriptions": _idle_subscriptions,
    "media": _media,
    "media_jobs": _media_jobs,
    "transcribe_heldout": _transcribe_heldout,
    "captions": _captions,
    "relay": _relay,
    "relay_mesh": _relay_mesh,
    "browser_join": _browser_join,
    "ui": _ui,
    "graphql_validation": _graphql_validation,
    "large_meeting": large_meeting.run,
    "webhooks": _webhooks,
    "collab": _collab,
    "board_audience": _board_audience,
    "virtual_background": _virtual_background,
    "notes_browser": _notes_browser,
}


def _notes() -> str:
    spec = graphql.QUERY_SPEC
    return (
        f"Same machine ({os.cpu_count()} CPUs): load came from an in-process asyncio+httpx generator sharing the "
        "cores with the API (one `python -m api` uvicorn process, embedded SQLite); closed loop, concurrency "
        f"{spec.concurrency}, {spec.warmup_s:g} s warm-up then {spec.duration_s:g} s per metric."
    )


async def _run_all(base_url: str, names: list[str]) -> dict[str, float]:
    metrics: dict[str, float] = {}
    for name in names:
        print(f"bench {name}:", flush=True)
        metrics.update(await BENCHMARKS[name](base_url))
    return metrics


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--only", choices=sorted([*BENCHMARKS, *STANDALONE]), action="append", help="run only these benchmarks"
    )
    parser.add_argument("--output", type=Path, default=results.RESULTS_PATH, help="results file to merge into")
    args = parser.parse_args(argv)
    names = args.only or [*BENCHMARKS, *STANDALONE]
    try:
        metrics: dict[str, results.Value] = {}
        shared = [n for n in names if n in BENCHMARKS]
        if shared:
            with running_api() as api:
                metrics.update(asyncio.run(_run_all(api.url, shared)))
        for name in (n for n in names if n in STANDALONE):
            print(f"bench {name}:", flush=True)
            metrics.update(STANDALONE[name]())
    except (BenchFailed, ApiStartError) as exc:
        print(f"BENCH FAILED: {exc}", file=sys.stderr)
        return 1
    common: dict[str, results.Value] = {"cpu_count": os.cpu_count() or 0, "date": dt.date.today().isoformat()}
    if set(names) - {
        "media",
        "media_jobs",
        "graphql_validation",
        "transcribe_heldout",
        "captions",
        "relay",
        "relay_mesh",
        "ui",
        "api_ceiling",
        "rest_cpu",
        "idle_subscriptions",
        "large_meeting",
        "webhooks",
        "collab",
        "board_audience",
        "virtual_background",
        "notes_browser",
    }:  # the notes describe the API benchmarks; media carries its own (media_bench_params)
        common["notes"] = _notes()
    merged = results.merge({**metrics, **common}, args.output)
    print(f"wrote {args.output}:")
    for key in sorted(metrics):
        print(f"  {key} = {merged[key]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
