"""The export archive: ``data.json`` plus the files, written to disk by plain blocking code (run it in a thread).

Media is stored, not deflated (MP4 and M4A are compressed already; deflating them costs CPU for nothing).
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.errors import PayloadTooLargeError


@dataclass(frozen=True, slots=True)
class Member:
    arcname: str
    path: Path
    size: int


def plan_size(data: dict[str, Any], members: list[Member]) -> tuple[bytes, int]:
    """The JSON bytes and the archive's uncompressed size (an upper bound on its size, plus small headers)."""
    body = json.dumps(data, indent=1, ensure_ascii=False, default=str).encode()
    return body, len(body) + sum(m.size for m in members)


def check_size(total: int, limit: int) -> None:
    if total > limit:
        raise PayloadTooLargeError(
            f"this export would be {total} bytes, over the server's limit of {limit} bytes "
            "(API_EXPORT_MAX_BYTES); delete or download recordings first"
        )


def write(target: Path, body: bytes, members: list[Member], limit: int) -> int:
    """Write the archive to ``target``; returns its size. Files that vanished meanwhile (deleted by their
    owner, pruned) are skipped; files that grew past the plan stop the export rather than exceed ``limit``."""
    written = len(body)
    with zipfile.ZipFile(target, "w") as z:
        z.writestr(zipfile.ZipInfo("data.json"), body, compress_type=zipfile.ZIP_DEFLATED)
        for m in members:
            try:
                size = m.path.stat().st_size
            except OSError:
                continue
            written += size
            check_size(written, limit)
            z.write(m.path, m.arcname, compress_type=zipfile.ZIP_STORED)
    return target.stat().st_size
