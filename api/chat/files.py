"""Attachment files: where they live, how their type is found, and the signed URLs that let members fetch them.

Bytes go to ``data_dir/files/<id>`` (the id is ours, 128 random bits; the client's filename is kept only as a
display name). The content type is sniffed from the first bytes; whatever the client declares is ignored.
Downloads need no bearer token, so a browser can follow a plain link: the URL itself is the permission, an
HMAC over the file id and an expiry, handed out only through GraphQL fields that members alone can read.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import secrets
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

import anyio
import filetype

from api.errors import BadInputError, PayloadTooLargeError

URL_TTL_S = 3600
"""How long a download URL stays valid. Long enough that a link in a chat still works after a while; a client
whose link has expired fetches the message again (`chatMessage`) for a fresh one."""
MAX_EXPIRY = 2**63 - 1
"""Largest ``exp`` a download URL may carry (seconds since the epoch); anything else never verifies."""
_URL_BUCKET_S = 60
"""Expiry times are rounded up to the minute, so the URLs handed out within a minute are identical (cacheable)."""
KEY_PURPOSE = b"meetmesh/chat-file-url/v1"
SNIFF_BYTES = 8192
"""filetype looks at most at this many leading bytes."""


def _mac(key: bytes, file_id: str, exp: int) -> str:
    digest = hmac.new(key, f"{file_id}\n{exp}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def url_expiry(now: float) -> int:
    return int(math.ceil((now + URL_TTL_S) / _URL_BUCKET_S) * _URL_BUCKET_S)


def signed_path(key: bytes, file_id: str, exp: int) -> str:
    return f"/files/{file_id}?exp={exp}&sig={_mac(key, file_id, exp)}"


def verify(key: bytes, file_id: str, exp: int | None, sig: str | None, now: float) -> bool:
    if exp is None or sig is None or exp < now:
        return False
    # Bytes: compare_digest raises TypeError on non-ASCII str, and sig is whatever the URL said.
    return hmac.compare_digest(_mac(key, file_id, exp).encode(), sig.encode())


def display_filename(raw: str | None) -> str:
    """A safe display name: the last path component, no control characters, at most 255 characters."""
    if not raw:
        return "file"
    name = PureWindowsPath(PurePosixPath(raw).name).name  # strip both kinds of directory part
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip().lstrip(".")
    if len(name) > 255:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 254 - len(ext)] + dot + ext) if dot and len(ext) <= 16 else name[:255]
    return name or "file"


def sniff(head: bytes) -> str:
    """The MIME type the bytes say they are. Unknown binary is application/octet-stream; text that decodes as
    UTF-8 is text/plain (never text/html or anything a browser would run)."""
    kind = filetype.guess(head)
    if kind is not None:
        return str(kind.mime)
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the end of the sniffed window is still text.
        if exc.start < len(head) - 3 or exc.reason != "unexpected end of data":
            return "application/octet-stream"
    if any(b < 0x09 or 0x0D < b < 0x20 for b in head):
        return "application/octet-stream"
    return "text/plain"


@dataclass(frozen=True, slots=True)
class Received:
    id: str
    path: Path
    size: int
    content_type: str


def files_dir(data_dir: Path) -> Path:
    return data_dir / "files"


async def receive(chunks: AsyncIterator[bytes], data_dir: Path, max_bytes: int, file_id: str) -> Received:
    """Stream an upload to disk, sniffing its head on the way. Over ``max_bytes``: PAYLOAD_TOO_LARGE and
    nothing is kept. Written to a temporary name and renamed, so a file under its id is always complete."""
    folder = files_dir(data_dir)
    await anyio.Path(folder).mkdir(parents=True, exist_ok=True)
    final = folder / file_id
    partial = folder / f".{file_id}.{secrets.token_hex(4)}.part"
    size = 0
    head = bytearray()
    done = False
    try:
        async with await anyio.open_file(partial, "wb") as out:
            async for chunk in chunks:
                if not chunk:
                    continue
                size += len(chunk)
                if size > max_bytes:
                    raise PayloadTooLargeError(f"files may be at most {max_bytes} bytes")
                if len(head) < SNIFF_BYTES:
                    head += chunk[: SNIFF_BYTES - len(head)]
                await out.write(chunk)
        if size == 0:
            raise BadInputError("body", "the upload is empty")
        await anyio.Path(partial).rename(final)
        done = True
    finally:
        if not done:
            await anyio.Path(partial).unlink(missing_ok=True)
    return Received(file_id, final, size, sniff(bytes(head)))


async def remove(data_dir: Path, file_id: str) -> None:
    await anyio.Path(files_dir(data_dir) / file_id).unlink(missing_ok=True)
