"""``python -m loadtests.smoke [--scenario join|chat] --users N --seconds S``: a bounded, headless Locust run
against a throwaway API.

Starts ``python -m api`` (own temporary data dir, free loopback port), runs the scenario's locustfile headless for
S seconds as a subprocess, reads its final stats, prints a summary and exits non-zero when any request failed,
the scenario raised, or nothing was sent. Scenarios: ``join`` (``locustfile.py``: hosts sign up, create, join
and leave) and ``chat`` (``chat_locustfile.py``: guests chatting in one meeting, each timing the delivery of its
own messages on its event subscription; the run also fails when no delivery was measured).
``--summary-json PATH`` also writes the summary for tests to read.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from testkit.server import REPO_ROOT, ApiStartError, running_api

LOCUSTFILES = {
    "join": Path(__file__).with_name("locustfile.py"),
    "chat": Path(__file__).with_name("chat_locustfile.py"),
}
DELIVERY = ("WS", "chat delivery")
"""The chat scenario's (request type, name) for own messages seen on the sender's subscription."""
CHAT_MAX_USERS = 999  # its meeting's maxParticipants is 1000 (the API's maximum), the host included
STOP_TIMEOUT_S = 3  # lets a user finish its in-flight request when the run time is up
# Beyond the run itself: Locust's start-up (gevent imports) plus the stop timeout, with room for a busy machine.
LOCUST_OVERHEAD_S = 45
LOG_TAIL_CHARS = 3000


@dataclass(slots=True)
class NameStats:
    method: str  # Locust's request type: POST, or WS for what the chat scenario measures on its sockets
    requests: int
    failures: int
    median_ms: float
    p95_ms: float
    p99_ms: float


@dataclass(slots=True)
class Summary:
    users: int
    seconds: int
    locust_exit_code: int
    scenario: str = "join"
    requests: int = 0
    failures: int = 0
    exceptions: int = 0
    rps: float = 0.0
    by_name: dict[str, NameStats] = field(default_factory=dict)
    failure_messages: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _locust_env() -> dict[str, str]:
    # LOCUST_* variables would silently change the run's options; proxies would take loopback traffic elsewhere.
    drop = {"http_proxy", "https_proxy", "all_proxy"}
    return {k: v for k, v in os.environ.items() if not k.startswith("LOCUST_") and k.lower() not in drop}


def run_locust(
    url: str, users: int, seconds: int, prefix: Path, scenario: str = "join"
) -> subprocess.CompletedProcess[str]:
    cmd = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILES[scenario]),
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        str(users),
        "--run-time",
        f"{seconds}s",
        "--stop-timeout",
        str(STOP_TIMEOUT_S),
        "--host",
        url,
        "--only-summary",
        "--json-file",
        str(prefix),
        "--csv",
        str(prefix),
        "--loglevel",
        "WARNING",
    ]
    timeout = seconds + STOP_TIMEOUT_S + LOCUST_OVERHEAD_S
    return subprocess.run(cmd, cwd=REPO_ROOT, env=_locust_env(), capture_output=True, text=True, timeout=timeout)


def _rows(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def _percentile_ms(histogram: dict[str, int], pct: float) -> float:
    """Nearest-rank percentile from Locust's histogram (rounded response time in ms → count)."""
    total = sum(histogram.values())
    if total == 0:
        return 0.0
    rank = max(1, math.ceil(pct / 100 * total))
    seen = 0
    for ms, count in sorted((float(k), v) for k, v in histogram.items()):
        seen += count
        if seen >= rank:
            return ms
    return 0.0  # unreachable: the loop reaches ``total``


def read_stats(summary: Summary, prefix: Path) -> None:
    """Fill ``summary`` from Locust's output files.

    Counts and latencies come from ``<prefix>.json``, written once after the runner stopped. The CSVs are only
    snapshots taken every second while running, so their last second can be missing; they are read for the
    failure and exception messages, which the JSON does not carry.
    """
    json_path = Path(f"{prefix}.json")
    entries = json.loads(json_path.read_text()) if json_path.exists() else []
    for e in entries:
        summary.by_name[e["name"]] = NameStats(
            method=e["method"],
            requests=e["num_requests"],
            failures=e["num_failures"],
            median_ms=_percentile_ms(e["response_times"], 50),
            p95_ms=_percentile_ms(e["response_times"], 95),
            p99_ms=_percentile_ms(e["response_times"], 99),
        )
    summary.requests = sum(s.requests for s in summary.by_name.values())
    summary.failures = sum(s.failures for s in summary.by_name.values())
    summary.rps = round(summary.requests / summary.seconds, 1)
    for row in _rows(Path(f"{prefix}_failures.csv")):
        summary.failure_messages.append(f"{row['Occurrences']}x {row['Name']}: {row['Error']}")
    for row in _rows(Path(f"{prefix}_exceptions.csv")):
        summary.exceptions += int(row["Count"])
        summary.failure_messages.append(f"{row['Count']}x exception: {row['Message']}")


def judge(summary: Summary) -> None:
    if summary.requests == 0:
        summary.problems.append("no requests were made")
    if summary.failures:
        summary.problems.append(f"{summary.failures} request(s) failed")
    if summary.exceptions:
        summary.problems.append(f"the scenario raised {summary.exceptions} exception(s)")
    if summary.locust_exit_code != 0:
        summary.problems.append(f"locust exited with code {summary.locust_exit_code}")
    if summary.scenario == "chat":
        method, name = DELIVERY
        delivered = summary.by_name.get(name)
        if delivered is None or delivered.method != method or delivered.requests == 0:
            summary.problems.append(f"no {method} {name} was measured")


def print_summary(summary: Summary) -> None:
    print(f"locust smoke ({summary.scenario}): {summary.users} users for {summary.seconds} s")
    print(f"  {'type':<5} {'name':<28} {'requests':>8} {'failures':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for name, s in sorted(summary.by_name.items(), key=lambda item: (item[1].method, item[0])):
        print(
            f"  {s.method:<5} {name:<28} {s.requests:>8} {s.failures:>8}"
            f" {s.median_ms:>8.0f} {s.p95_ms:>8.0f} {s.p99_ms:>8.0f}"
        )
    print(f"  total: {summary.requests} requests, {summary.failures} failures, ~{summary.rps} req/s")
    delivered = summary.by_name.get(DELIVERY[1])
    if summary.scenario == "chat" and delivered is not None:
        sent = summary.by_name.get("graphql sendChatMessage")
        print(
            f"  chat: {sent.requests if sent else 0} messages sent, {delivered.requests} deliveries timed on the"
            f" sender's own subscription (p50 {delivered.median_ms:.0f} ms, p95 {delivered.p95_ms:.0f} ms)"
        )
    for message in summary.failure_messages[:20]:
        print(f"  ! {message}")
    print("PASS" if summary.ok else "FAIL: " + "; ".join(summary.problems))


def smoke(users: int, seconds: int, scenario: str = "join") -> Summary:
    with running_api(prefix="meetmesh-loadtest-") as api, tempfile.TemporaryDirectory(prefix="meetmesh-locust-") as tmp:
        prefix = Path(tmp) / "locust"  # Locust adds .json and _stats.csv, _failures.csv ... to it
        try:
            proc = run_locust(api.url, users, seconds, prefix, scenario)
        except subprocess.TimeoutExpired:
            summary = Summary(users, seconds, locust_exit_code=-1, scenario=scenario)
            summary.problems.append("locust did not finish in time")
            return summary
        summary = Summary(users, seconds, locust_exit_code=proc.returncode, scenario=scenario)
        read_stats(summary, prefix)
        judge(summary)
        output = (proc.stdout + proc.stderr).strip()
        if not summary.ok and output:
            print(f"--- locust output (tail) ---\n{output[-LOG_TAIL_CHARS:]}", file=sys.stderr)
        return summary


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtests.smoke", description=__doc__)
    parser.add_argument(
        "--scenario", choices=sorted(LOCUSTFILES), default="join", help="which locustfile to run (default: join)"
    )
    parser.add_argument("--users", type=_positive, default=20, help="concurrent Locust users (all spawned in 1 s)")
    parser.add_argument("--seconds", type=_positive, default=15, help="run time")
    parser.add_argument("--summary-json", type=Path, help="also write the summary here as JSON")
    args = parser.parse_args(argv)
    if args.scenario == "chat" and args.users > CHAT_MAX_USERS:
        parser.error(f"the chat scenario's meeting holds the host and at most {CHAT_MAX_USERS} guests")
    try:
        summary = smoke(args.users, args.seconds, args.scenario)
    except ApiStartError as exc:
        print(f"FAIL: {exc}", file=sys.stderr)
        return 1
    print_summary(summary)
    if args.summary_json:
        args.summary_json.write_text(json.dumps({**asdict(summary), "ok": summary.ok}, indent=2) + "\n")
    return 0 if summary.ok else 1


if __name__ == "__main__":
    sys.exit(main())
