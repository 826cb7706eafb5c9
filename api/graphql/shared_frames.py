"""Serialise a subscription event once for every socket that receives it.

`SharedEventExecutionContext` already executes an event once per distinct operation, so every subscriber of the
same operation gets the very same ``data`` object; what each socket still paid for was encoding that object to
JSON (~10-20 µs for a chat message, times 1,000 subscribers per event). Here the ``data`` part of a
graphql-transport-ws ``next`` message is encoded once and spliced into each subscriber's frame, which differs
only in the operation id. Authorisation is untouched: which subscribers receive an event is decided before
(`api/events/stream.py`), this only changes how the bytes are made.
"""

from __future__ import annotations

import json
from collections import OrderedDict

_MAX_ENTRIES = 256
_encoded: OrderedDict[int, tuple[object, str]] = OrderedDict()
"""id(data) -> (data, its JSON). Holding ``data`` keeps its id from being reused while the entry lives."""


def encode(obj: object) -> str:
    """What Strawberry's ``encode_json`` returns (compact JSON), with ``next`` messages' data encoded once."""
    frame = _next_frame(obj)
    return frame if frame is not None else json.dumps(obj, separators=(",", ":"))


def _next_frame(obj: object) -> str | None:
    if type(obj) is not dict or obj.get("type") != "next" or len(obj) != 3:
        return None
    payload, op_id = obj.get("payload"), obj.get("id")
    if type(payload) is not dict or len(payload) != 1 or type(op_id) is not str:
        return None  # errors or extensions beside the data: per subscriber, encoded whole
    data = payload.get("data")
    if data is None:
        return None
    key = id(data)
    hit = _encoded.get(key)
    if hit is None or hit[0] is not data:
        hit = (data, json.dumps(data, separators=(",", ":")))
        _encoded[key] = hit
        if len(_encoded) > _MAX_ENTRIES:
            _encoded.popitem(last=False)
    else:
        _encoded.move_to_end(key)
    return f'{{"id":{json.dumps(op_id)},"type":"next","payload":{{"data":{hit[1]}}}}}'
