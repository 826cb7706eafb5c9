"""A recording's media files and the signed URLs that play them.

Files live in ``data_dir/recordings/<recording id>/`` under fixed names (what workers write). A browser's
``<video src>`` cannot send a bearer token, so, as for chat files, the URL is the permission: an HMAC over the
recording id, the file name and an expiry, handed out only through GraphQL fields that members (or holders of
a valid share link) can read.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re
from dataclasses import dataclass
from pathlib import Path

from api import integers

KEY_PURPOSE = b"meetmesh/recording-url/v1"
URL_TTL_S = 6 * 3600
"""Long enough to watch a long meeting without the player's URL expiring mid-way."""
_URL_BUCKET_S = 60
MAX_EXPIRY = 2**63 - 1
"""Largest ``exp`` a signed URL may carry (seconds since the epoch); anything else never verifies."""

MEDIA: dict[str, str] = {
    "recording.mp4": "video/mp4",
    "audio.m4a": "audio/mp4",
    "captions.vtt": "text/vtt; charset=utf-8",
    "transcript.srt": "application/x-subrip; charset=utf-8",
    "poster.jpg": "image/jpeg",
}
"""The files a recording may have, by name, with their content types. Nothing else is ever served."""
PLAYABLE = frozenset({"recording.mp4", "audio.m4a"})
"""Fetching one of these from its start counts as a view."""
DOWNLOADS = frozenset({"captions.vtt", "transcript.srt"})
"""Fetching one of these from its start is logged as a download (the poster is page furniture: not logged)."""


@dataclass(frozen=True, slots=True)
class MediaFile:
    name: str
    content_type: str
    size: int


def available(directory: Path) -> list[MediaFile]:
    out = []
    for name, content_type in MEDIA.items():
        try:
            size = (directory / name).stat().st_size
        except OSError:
            continue
        out.append(MediaFile(name, content_type, size))
    return out


def _mac(key: bytes, recording_id: str, name: str, exp: int) -> str:
    digest = hmac.new(key, f"{recording_id}\n{name}\n{exp}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def url_expiry(now: float) -> int:
    return int(math.ceil((now + URL_TTL_S) / _URL_BUCKET_S) * _URL_BUCKET_S)


def signed_path(key: bytes, recording_id: str, name: str, exp: int) -> str:
    return f"/recordings/{recording_id}/media/{name}?exp={exp}&sig={_mac(key, recording_id, name, exp)}"


def verify(key: bytes, recording_id: str, name: str, exp: int | None, sig: str | None, now: float) -> bool:
    if exp is None or sig is None or exp < now:
        return False
    # Bytes: compare_digest raises TypeError on non-ASCII str, and sig is whatever the URL said.
    return hmac.compare_digest(_mac(key, recording_id, name, exp).encode(), sig.encode())


class RangeNotSatisfiableError(ValueError):
    """The Range header asks for bytes past the end (answer 416 with ``Content-Range: bytes */size``)."""


_RANGE = re.compile(r"bytes=([0-9]*)-([0-9]*)")
"""ASCII digits only (``\\d`` would take ``٣``); matched whole, so no trailing newline slips through."""
_FAR = 2**63 - 1
"""Positions past any file: a longer (or overlong) number is read as this rather than refused."""


def _position(digits: str) -> int:
    # RFC 9110 section 14.1.1: positions are 1*DIGIT with no upper bound. The pattern admitted ASCII digits
    # only, so a number the helper refuses is one too long for any file: read it as "far past the end".
    value = integers.int_or_none(digits, lo=0, hi=_FAR)
    return _FAR if value is None else value


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive (first, last) byte a Range header asks for (RFC 9110 section 14.1.2), or None to send the
    whole file: no header, a form we do not serve (several ranges, another unit) - which RFC 9110 section 14.2
    lets a server ignore. Raises :class:`RangeNotSatisfiableError` for a range that starts past the end."""
    if not header:
        return None
    m = _RANGE.fullmatch(header.strip())
    if m is None:
        return None
    first_s, last_s = m.groups()
    if not first_s and not last_s:
        return None
    if not first_s:  # suffix: the last N bytes
        n = _position(last_s)
        if n == 0 or size == 0:
            raise RangeNotSatisfiableError(header)
        return max(0, size - n), size - 1
    first = _position(first_s)
    last = _position(last_s) if last_s else size - 1
    if last_s and last < first:
        return None  # syntactically invalid: ignore the header
    if first >= size:
        raise RangeNotSatisfiableError(header)
    return first, min(last, size - 1)
