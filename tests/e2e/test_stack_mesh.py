"""`python -m stack --edges 3` (what `just up-mesh` runs): the API and three edges labelled as regions, each
registered with the API, which places each participant on the edge nearest to them (``API_PLACEMENT_SPREAD``
is on by default, since edges relay a meeting's media to each other: docs/relay.md)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from protocol.signalling import Join, Joined, encode, parse_edge_message

ROOT = Path(__file__).resolve().parents[2]
SIGN_UP = "mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }"
CREATE = "mutation($i: CreateMeetingInput!) { createMeeting(input: $i) { number } }"
JOIN = "mutation($i: JoinMeetingInput!) { joinMeeting(input: $i) { status joinToken { token edgeUrl } } }"


def _free_ports(n: int) -> int:
    """The first of ``n`` consecutive free loopback ports (the stack gives edges EDGE_PORT, +1, +2)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            first = int(s.getsockname()[1])
        try:
            socks = []
            for port in range(first, first + n):
                sock = socket.socket()
                socks.append(sock)
                sock.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
    raise RuntimeError("no run of free ports")


def _gql(url: str, query: str, token: str | None = None, **variables: object) -> dict[str, object]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    body = httpx.post(f"{url}/graphql", json={"query": query, "variables": variables}, headers=headers).json()
    assert not body.get("errors"), body
    data: dict[str, object] = body["data"]
    return data


async def _guest_while_host_connected(url: str, edge_url: str, token: str, number: object) -> dict[str, object]:
    """The host joins the edge (which then watches the meeting: the API records the edge as serving it, before
    the edge answers `joined`); meanwhile a guest nearest to another region joins."""
    async with connect(edge_url) as ws:
        await ws.send(encode(Join(token=token)))
        assert isinstance(parse_edge_message(await asyncio.wait_for(ws.recv(), 10)), Joined)
        data = await asyncio.to_thread(_gql, url, JOIN, i={"number": number, "displayName": "G", "region": "ap-south"})
        guest: dict[str, object] = data["joinMeeting"]  # type: ignore[assignment]
        return guest


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_three_edges_register_as_regions_and_each_participant_joins_the_nearest(tmp_path: Path) -> None:
    api_port, edge_port = _free_ports(1), _free_ports(3)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("API_", "EDGE_")) and k != "DATABASE_URL"}
    env |= {"API_PORT": str(api_port), "EDGE_PORT": str(edge_port), "API_DATA_DIR": str(tmp_path / "var")}
    log_path = tmp_path / "stack.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "stack", "--edges", "3"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        url = f"http://127.0.0.1:{api_port}"
        try:
            deadline = time.monotonic() + 45
            edges: list[dict[str, str]] = []
            while len(edges) < 3:
                assert proc.poll() is None and time.monotonic() < deadline, log_path.read_text()[-3000:]
                try:
                    edges = _gql(url, "{ mediaEdges { id region probeUrl } }")["mediaEdges"]  # type: ignore[assignment]
                except (httpx.TransportError, ValueError):
                    pass
                time.sleep(0.2)
            assert {e["region"] for e in edges} == {"eu-west", "us-east", "ap-south"}
            for e in edges:
                assert httpx.get(e["probeUrl"], timeout=5).status_code == 200

            token = _gql(url, SIGN_UP, i={"email": "mesh@example.test", "password": "mesh pass 1", "displayName": "H"})
            access = token["signUp"]["accessToken"]  # type: ignore[index]
            settings = {"allowGuests": True, "joinBeforeHost": True, "guestWaitingRoom": False}
            number = _gql(url, CREATE, access, i={"title": "mesh", "passcode": "", "settings": settings})
            n = number["createMeeting"]["number"]  # type: ignore[index]
            first = _gql(url, JOIN, access, i={"number": n, "region": "us-east"})["joinMeeting"]
            us = f"ws://127.0.0.1:{edge_port + 1}/edge/signal"
            assert first["joinToken"]["edgeUrl"] == us  # type: ignore[index]
            # The host connects to that edge (it now serves the meeting); a guest nearest to another region lands
            # on that region's edge, not the host's: the edges relay the meeting between them.
            guest = asyncio.run(_guest_while_host_connected(url, us, first["joinToken"]["token"], n))  # type: ignore[index]
            assert guest["joinToken"]["edgeUrl"] == f"ws://127.0.0.1:{edge_port + 2}/edge/signal"  # type: ignore[index]
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                assert proc.wait(20) == 0, log_path.read_text()[-3000:]
            finally:
                if proc.poll() is None:
                    proc.kill()
