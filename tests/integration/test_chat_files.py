"""File sharing in chat over real HTTP: upload (sniffed type, size limit), attach, download through signed URLs."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from api.chat import files, service
from tests.conftest import RunningServer
from tests.integration.test_chat import DELETE, EVENTS, ONE, next_chat, room, say, say_error, seq
from tests.support.world import Person, World

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64


async def upload(
    http: httpx.AsyncClient, server: RunningServer, who: Person | None, m: dict[str, Any], body: Any, **params: str
) -> httpx.Response:
    headers = {"content-type": "text/html"}  # a lie the server must ignore
    if who is not None:
        headers["authorization"] = f"Bearer {who.client.token}"
    url = f"{server.url}/meetings/{m['id']}/files"
    return await http.post(url, params=params, content=body, headers=headers)


def tamper(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    q = {k: v[0] for k, v in parse_qs(parts.query).items()}
    return parts._replace(query=urlencode({**q, **changes})).geturl()


@contextmanager
def upload_limit(server: RunningServer, limit: int) -> Iterator[None]:
    # The limit is read per request from the running server's settings; shrinking it keeps the test fast.
    svc = server.app.state.services
    before = svc.settings
    svc.settings = dataclasses.replace(before, max_upload_bytes=limit)
    try:
        yield
    finally:
        svc.settings = before


def stored(server: RunningServer) -> set[str]:
    folder = files.files_dir(server.settings.data_dir)
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


async def test_upload_attach_and_download(world: World, server: RunningServer, http: httpx.AsyncClient) -> None:
    host, m, (alice, bob) = await room(world, 2)
    res = await upload(http, server, alice, m, PNG, filename="../../etc/passwd.png")
    assert res.status_code == 201, res.text
    f = res.json()
    assert f["contentType"] == "image/png" and f["size"] == len(PNG) and f["filename"] == "passwd.png"
    assert f["id"] in stored(server)
    async with bob.client.subscribe(EVENTS, m=m["id"], after=await seq(host, m)) as sub:
        msg = await say(alice, m, "", attachmentId=f["id"])
        streamed = (await next_chat(sub))["message"]
    att = msg["attachment"]
    assert {k: att[k] for k in ("id", "filename", "contentType", "size")} == f
    assert streamed["attachment"]["download"]["url"].startswith(server.url + "/files/")
    got = await http.get(streamed["attachment"]["download"]["url"])
    assert got.status_code == 200 and got.content == PNG
    assert got.headers["content-type"] == "image/png"
    assert got.headers["content-disposition"] == 'attachment; filename="passwd.png"'
    assert got.headers["x-content-type-options"] == "nosniff"
    # A file goes with one message, from its uploader, in its meeting.
    assert (await say_error(alice, m, "again", attachmentId=f["id"])).code == "CONFLICT"
    theirs = (await upload(http, server, alice, m, b"hello")).json()
    assert (await say_error(bob, m, "mine?", attachmentId=theirs["id"])).code == "NOT_FOUND"
    assert (await say_error(alice, m, "x", attachmentId="no-such-file")).code == "NOT_FOUND"


async def test_content_type_comes_from_the_bytes(world: World, server: RunningServer, http: httpx.AsyncClient) -> None:
    _host, m, (alice,) = await room(world, 1)
    cases = [
        (b"<html><script>alert(1)</script></html>", "page.html", "text/plain"),
        ("naïve café ✓\n".encode(), "notes.txt", "text/plain"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "doc.exe", "application/pdf"),
        (bytes(range(256)) * 4, "blob", "application/octet-stream"),
    ]
    for body, name, expected in cases:
        res = await upload(http, server, alice, m, body, filename=name)
        assert res.status_code == 201 and res.json()["contentType"] == expected, (name, res.text)
    msg = await say(
        alice,
        m,
        "page",
        attachmentId=(await upload(http, server, alice, m, "ü".encode(), filename="ä ö.txt")).json()["id"],
    )
    got = await http.get(msg["attachment"]["download"]["url"])
    assert got.headers["content-disposition"] == "attachment; filename*=utf-8''%C3%A4%20%C3%B6.txt"
    assert got.headers["content-type"].startswith("text/plain")


async def test_size_limit_is_payload_too_large(world: World, server: RunningServer, http: httpx.AsyncClient) -> None:
    _host, m, (alice,) = await room(world, 1)
    before = stored(server)

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the limit holds while streaming
        for _ in range(8):
            yield b"x" * 1000

    with upload_limit(server, 4096):
        assert (await upload(http, server, alice, m, b"y" * 4096)).status_code == 201
        for body in [b"y" * 4097, b"y" * 100_000, chunks()]:
            res = await upload(http, server, alice, m, body)
            assert res.status_code == 413, res.text
            assert res.json()["code"] == "PAYLOAD_TOO_LARGE"
    after = stored(server)
    assert len(after - before) == 1 and not any(n.endswith(".part") for n in after)  # nothing half-written kept
    res = await upload(http, server, alice, m, b"")
    assert res.status_code == 400 and res.json() == {
        "error": "the upload is empty",
        "code": "BAD_INPUT",
        "field": "body",
    }


async def test_only_members_can_upload_or_download(
    world: World, server: RunningServer, http: httpx.AsyncClient
) -> None:
    host, m, (alice, bob, carol) = await room(world, 3)
    outsider = await world.user("Out")
    assert (await upload(http, server, outsider, m, PNG)).status_code == 403
    res = await upload(http, server, None, m, PNG)
    assert res.status_code == 401 and res.json()["code"] == "UNAUTHENTICATED"
    assert (await upload(http, server, alice, {"id": "no-such-meeting"}, PNG)).status_code == 404
    f = (await upload(http, server, alice, m, PNG)).json()
    secret = await say(alice, m, "for bob only", attachmentId=f["id"], toParticipantId=bob.participant_id)
    url = secret["attachment"]["download"]["url"]
    # Carol and outsiders cannot get a link; guessing, tampering and expired links are refused.
    assert (await carol.client.error(ONE, id=secret["id"])).code == "NOT_FOUND"
    assert (await outsider.client.error(ONE, id=secret["id"])).code == "FORBIDDEN"
    sig = parse_qs(urlsplit(url).query)["sig"][0]
    expired, _ = service.download_link(server.app.state.services, f["id"], now=time.time() - 2 * files.URL_TTL_S)
    for bad in [
        f"{server.url}/files/{f['id']}",
        tamper(url, sig=sig[:-2] + ("AA" if not sig.endswith("AA") else "BB")),
        tamper(url, exp=str(int(parse_qs(urlsplit(url).query)["exp"][0]) + 60)),
        url.replace(f["id"], f["id"][:-1] + ("x" if not f["id"].endswith("x") else "y")),
        expired,
        tamper(url, exp="soon"),
    ]:
        res = await http.get(bad)
        assert res.status_code == 403 and res.json()["code"] == "FORBIDDEN", (bad, res.text)
    assert (await http.get(url)).status_code == 200
    assert (await bob.client(ONE, id=secret["id"]))["chatMessage"]["attachment"]["id"] == f["id"]
    # Deleting the message deletes the file: the still-valid link now finds nothing.
    await alice.client(DELETE, id=secret["id"])
    res = await http.get(url)
    assert res.status_code == 404 and res.json()["code"] == "NOT_FOUND"
    assert f["id"] not in stored(server)
    await host.client(
        "mutation($m: ID!, $p: ChatPolicy) { setChatPolicy(meetingId: $m, policy: $p) { id } }", m=m["id"], p="NO_ONE"
    )
    res = await upload(http, server, alice, m, PNG)
    assert res.status_code == 403 and res.json()["code"] == "FORBIDDEN"
