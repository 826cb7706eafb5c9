"""The y-protocols wire format (github.com/yjs/y-protocols: sync.js, awareness.js, auth.js), pure functions.

Every WebSocket message is ``varUint(messageType)`` then its body; lengths are lib0 var-uints. Sync (type 0):
``varUint(step)`` then ``varUint8Array(payload)`` with step 0 = state vector (sync step 1), 1 = the update the
other side misses (sync step 2), 2 = an update. Awareness (type 1): ``varUint8Array(update)``. Auth (type 2):
``varUint(0)`` permission denied then ``varString(reason)``. Query-awareness (type 3): no body.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from pycrdt import Decoder, write_var_uint


class WireError(ValueError):
    """A message that does not follow y-protocols."""


class Kind(IntEnum):
    SYNC = 0
    AWARENESS = 1
    AUTH = 2
    QUERY_AWARENESS = 3


class Step(IntEnum):
    STEP1 = 0
    STEP2 = 1
    UPDATE = 2


EMPTY_UPDATE = b"\x00\x00"
"""An update with no structs and an empty delete set: what a client sends as sync step 2 when it has nothing."""


@dataclass(frozen=True, slots=True)
class Message:
    kind: Kind
    step: Step | None = None
    payload: bytes = b""


def _var_uint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data) or shift > 49:  # 7 bytes cover any length we accept
            raise WireError("truncated or oversized var-uint")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, pos


def _bytes(data: bytes, pos: int) -> bytes:
    length, pos = _var_uint(data, pos)
    if pos + length != len(data):
        raise WireError(f"payload length {length} does not match the message ({len(data) - pos} bytes left)")
    return data[pos:]


def decode(data: bytes) -> Message:
    kind_n, pos = _var_uint(data, 0)
    if kind_n == Kind.SYNC:
        step_n, pos = _var_uint(data, pos)
        if step_n not in (0, 1, 2):
            raise WireError(f"unknown sync step {step_n}")
        return Message(Kind.SYNC, Step(step_n), _bytes(data, pos))
    if kind_n == Kind.AWARENESS:
        return Message(Kind.AWARENESS, None, _bytes(data, pos))
    if kind_n == Kind.QUERY_AWARENESS:
        return Message(Kind.QUERY_AWARENESS)
    raise WireError(f"unknown message type {kind_n}")


def sync(step: Step, payload: bytes) -> bytes:
    return bytes((Kind.SYNC, step)) + write_var_uint(len(payload)) + payload


def awareness(update: bytes) -> bytes:
    return bytes((Kind.AWARENESS,)) + write_var_uint(len(update)) + update


def permission_denied(reason: str) -> bytes:
    """y-protocols auth.js ``writePermissionDenied``: the client's ``permissionDeniedHandler`` gets ``reason``."""
    text = reason.encode()
    return bytes((Kind.AUTH, 0)) + write_var_uint(len(text)) + text


def decode_reason(message: bytes) -> str:
    """The reason of a ``permission_denied`` message."""
    if message[:2] != bytes((Kind.AUTH, 0)):
        raise WireError("not a permission-denied message")
    return _bytes(message, 2).decode()


@dataclass(frozen=True, slots=True)
class AwarenessEntry:
    client_id: int
    clock: int
    state: str
    """The state as JSON text; ``null`` removes the client."""


def decode_awareness(update: bytes) -> list[AwarenessEntry]:
    """awareness.js ``encodeAwarenessUpdate``: count, then per client ``clientID, clock, JSON state``."""
    try:
        dec = Decoder(update)
        count = dec.read_var_uint()
        if count > 10_000:
            raise WireError(f"an awareness update lists {count} clients")
        out = []
        for _ in range(count):
            client_id = dec.read_var_uint()
            clock = dec.read_var_uint()
            out.append(AwarenessEntry(client_id, clock, dec.read_var_string()))
    except (IndexError, RuntimeError, UnicodeDecodeError) as exc:
        raise WireError(f"malformed awareness update: {exc}") from None
    if dec.length != 0:
        raise WireError("trailing bytes after the awareness update")
    return out


def encode_awareness(entries: list[AwarenessEntry]) -> bytes:
    parts = [write_var_uint(len(entries))]
    for e in entries:
        text = e.state.encode()
        parts += [write_var_uint(e.client_id), write_var_uint(e.clock), write_var_uint(len(text)), text]
    return b"".join(parts)
