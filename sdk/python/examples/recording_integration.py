"""An integration: schedule a meeting, invite people through the platform's own calendar invitations, and
download the recording and its transcript when the webhook says they are ready.

    python sdk/python/examples/recording_integration.py --url http://127.0.0.1:8000 \\
        --email me@example.org --password ... --title "Weekly review" --starts-at 2026-12-08T10:00:00+01:00 \\
        --invite ana@example.org --invite bo@example.org \\
        --listen-port 8088 --public-url https://hooks.example.org/meetmesh --out recordings/ --once

The invitations are the server's (``AsyncClient.invite``): it mails each address an iTIP ``METHOD:REQUEST``
(iMIP, which Gmail, Outlook and Apple Mail show as an invitation) and keeps it updated when the meeting changes;
the server needs ``API_SMTP_HOST`` for that (docs/calendars.md). Only scheduled meetings have invitations, so
``--invite`` needs ``--starts-at``.

It listens for webhooks on ``--listen-host:--listen-port`` (``--public-url`` is where the API reaches that
listener), registers an endpoint for ``recording.ready`` and ``transcript.ready``, answers the endpoint challenge,
verifies every delivery's signature (``meetmesh.webhooks.verify``), and for each recording of the meeting that
becomes ready saves its media files and ``transcript.txt`` under ``--out/<recording id>/``. The endpoint is deleted
on exit (``--once``: after the first download; otherwise after ``--seconds`` or Ctrl-C)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
from pathlib import Path

from meetmesh import AsyncClient, Recording
from meetmesh.webhooks import WebhookDelivery, WebhookVerificationError, verify

MAX_BODY = 1 << 20


class Receiver:
    """A minimal HTTP/1.1 webhook listener: one request per connection, verified, put on a queue."""

    def __init__(self) -> None:
        self.secret: str | None = None
        self.secret_known = asyncio.Event()
        self.deliveries: asyncio.Queue[WebhookDelivery] = asyncio.Queue()
        self.seen: set[str] = set()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        status, answer = 400, b""
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            lines = head.decode("latin-1").split("\r\n")
            headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
            length = int({k.lower(): v for k, v in headers.items()}.get("content-length", "0"))
            if length > MAX_BODY:
                raise ValueError("body too large")
            body = await asyncio.wait_for(reader.readexactly(length), 10)
            # The challenge may arrive before createWebhookEndpoint's answer (with the secret) does.
            await asyncio.wait_for(self.secret_known.wait(), 10)
            assert self.secret is not None
            delivery = verify(self.secret, headers, body)
            status = 200
            if delivery.challenge is not None:
                answer = json.dumps({"challenge": delivery.challenge}).encode()
            elif delivery.id not in self.seen:  # retries and replays reuse the webhook-id
                self.seen.add(delivery.id)
                await self.deliveries.put(delivery)
        except WebhookVerificationError:
            status = 401
        except (ValueError, TimeoutError, asyncio.IncompleteReadError):
            status = 400
        reason = {200: "OK", 400: "Bad Request", 401: "Unauthorized"}[status]
        writer.write(
            f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {len(answer)}\r\n"
            "Connection: close\r\n\r\n".encode()
            + answer
        )
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        writer.close()


async def save(mm: AsyncClient, recording: Recording, out: Path) -> Path:
    folder = out / recording.id
    folder.mkdir(parents=True, exist_ok=True)
    for media in recording.media:
        await mm.download(media.url, str(folder / Path(media.name).name))
    lines = [f"[{t.start:7.1f}s] {t.speaker_name}: {t.text}" for t in recording.transcript]
    (folder / "transcript.txt").write_text("\n".join(lines) + "\n")
    return folder


async def run(args: argparse.Namespace) -> None:
    async with AsyncClient(args.url) as mm:
        await mm.log_in(args.email, args.password)
        meeting = await mm.create_meeting(
            args.title, starts_at=args.starts_at, duration_minutes=args.duration, timezone=args.timezone
        )
        print(f"scheduled {meeting.id} {meeting.number}", flush=True)
        if args.invite:
            # The server sends the iTIP invitations itself, after its transaction commits.
            invited = await mm.invite(meeting.id, args.invite)
            print(f"invited {' '.join(invited.emails)}", flush=True)

        receiver = Receiver()
        server = await asyncio.start_server(receiver.handle, args.listen_host, args.listen_port)
        endpoint = await mm.create_webhook_endpoint(
            args.public_url, ["recording.ready", "transcript.ready"], description=f"recordings of {meeting.title}"
        )
        receiver.secret = endpoint.secret
        receiver.secret_known.set()
        print("listening", flush=True)
        try:
            while True:
                delivery = await receiver.deliveries.get()
                if delivery.data.get("meetingId") != meeting.id or delivery.recording_id is None:
                    continue
                if delivery.type == "recording.ready":  # transcript.ready follows; the transcript is stored first
                    folder = await save(mm, await mm.recording(delivery.recording_id), Path(args.out))
                    print(f"downloaded {delivery.recording_id} to {folder}", flush=True)
                    if args.once:
                        break
        finally:
            with contextlib.suppress(Exception):
                await mm.delete_webhook_endpoint(endpoint.id)
            server.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", default="http://127.0.0.1:8000")
    ap.add_argument("--email", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--title", default="Meeting")
    ap.add_argument("--starts-at", default=None, help="ISO 8601 with offset; omit for an instant meeting")
    ap.add_argument("--duration", type=int, default=60)
    ap.add_argument("--timezone", default="UTC")
    ap.add_argument("--invite", action="append", default=[], help="an e-mail address to invite (repeat)")
    ap.add_argument("--listen-host", default="127.0.0.1")
    ap.add_argument("--listen-port", type=int, default=8088)
    ap.add_argument("--public-url", required=True, help="the URL the API posts webhooks to")
    ap.add_argument("--out", default="recordings")
    ap.add_argument("--once", action="store_true", help="exit after the first download")
    ap.add_argument("--seconds", type=float, default=24 * 3600, help="stop after this long")
    args = ap.parse_args()
    if args.invite and args.starts_at is None:
        ap.error("--invite needs --starts-at: only scheduled meetings have calendar invitations")
    try:
        asyncio.run(asyncio.wait_for(run(args), args.seconds))
    except KeyboardInterrupt:
        pass
    except TimeoutError:
        raise SystemExit(f"stopped after {args.seconds:g} s") from None


if __name__ == "__main__":
    main()
