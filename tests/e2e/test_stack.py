"""The first README command's stack: API and edge as started by `python -m stack`, wired to each other."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[str]:
    api_port, edge_port = _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("API_", "EDGE_")) and k != "DATABASE_URL"}
    env |= {"API_PORT": str(api_port), "EDGE_PORT": str(edge_port), "API_DATA_DIR": str(tmp_path / "var")}
    log = (tmp_path / "stack.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "stack"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{api_port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, (tmp_path / "stack.log").read_text()
            try:
                if (
                    httpx.get(f"{url}/healthz", timeout=1).status_code == 200
                    and httpx.get(f"http://127.0.0.1:{edge_port}/healthz", timeout=1).status_code == 200
                ):
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, (tmp_path / "stack.log").read_text()
            time.sleep(0.1)
        yield url
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            assert proc.wait(15) == 0, (tmp_path / "stack.log").read_text()
        finally:
            if proc.poll() is None:
                proc.kill()
            log.close()


@pytest.mark.slow
async def test_a_join_token_from_the_api_opens_a_session_on_the_edge(stack: str) -> None:
    async with httpx.AsyncClient(base_url=stack, timeout=10) as http:

        async def gql(query: str, token: str | None = None, **variables: object) -> dict[str, object]:
            headers = {"authorization": f"Bearer {token}"} if token else {}
            body = (await http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)).json()
            assert not body.get("errors"), body
            data: dict[str, object] = body["data"]
            return data

        signed = await gql(
            "mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }",
            i={"email": "host@example.test", "password": "correct horse", "displayName": "Host"},
        )
        token = signed["signUp"]["accessToken"]  # type: ignore[index]
        created = await gql('mutation { createMeeting(input: {title: "Stack"}) { number } }', token)
        joined = await gql(
            "mutation($i: JoinMeetingInput!) { joinMeeting(input: $i) { participant { id } "
            "joinToken { token edgeUrl } } }",
            token,
            i={"number": created["createMeeting"]["number"]},  # type: ignore[index]
        )
    join = joined["joinMeeting"]
    async with websockets.connect(join["joinToken"]["edgeUrl"]) as ws:  # type: ignore[index]
        await ws.send(json.dumps({"type": "join", "token": join["joinToken"]["token"]}))  # type: ignore[index]
        reply = json.loads(await ws.recv())
    assert reply["type"] == "joined" and reply["participantId"] == join["participant"]["id"]  # type: ignore[index]
    assert reply["role"] == "host"


@pytest.mark.slow
def test_the_edge_is_on_the_apis_control_feed(stack: str, tmp_path: Path) -> None:
    """`just up` generates one control secret for both parts, so host controls bind media out of the box."""
    log = (tmp_path / "stack.log").read_text()
    port = int(log.split("/edge/signal", 1)[0].rsplit(":", 1)[1])  # stack prints "media edge: ws://host:port/…"
    deadline = time.monotonic() + 10
    while (feed := httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).json()["controlFeed"]) != "connected":
        assert time.monotonic() < deadline, (feed, (tmp_path / "stack.log").read_text())
        time.sleep(0.1)
