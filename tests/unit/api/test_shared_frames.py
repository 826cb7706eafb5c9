"""`api.graphql.shared_frames`: a subscription event's data is encoded once and spliced into each subscriber's
frame; the frames are exactly what encoding each message whole would give."""

from __future__ import annotations

import json
from typing import Any

import pytest

from api.graphql import shared_frames


def _whole(message: Any) -> str:
    return json.dumps(message, separators=(",", ":"))


DATA = {"meetingEvents": {"seq": 7, "type": "CHAT_MESSAGE_SENT", "message": {"text": 'quote " and \\ and ünï ✓'}}}


@pytest.mark.parametrize(
    "message",
    [
        {"id": "1", "type": "next", "payload": {"data": DATA}},
        {"id": 'odd "id" \\ ✓', "type": "next", "payload": {"data": DATA}},
        {"id": "2", "type": "next", "payload": {"data": DATA, "errors": [{"message": "x"}]}},  # encoded whole
        {"id": "3", "type": "next", "payload": {"data": None}},
        {"id": "4", "type": "complete"},
        {"type": "connection_ack"},
        {"data": {"meeting": {"id": "m1"}}},  # an HTTP answer goes through the same encoder
        [1, 2, 3],
    ],
)
def test_frames_equal_whole_encoding(message: Any) -> None:
    assert shared_frames.encode(message) == _whole(message)


def test_the_same_data_is_encoded_once_for_every_subscriber(monkeypatch: pytest.MonkeyPatch) -> None:
    data = {"meetingEvents": {"seq": 8, "type": "PARTICIPANT_UPDATED"}}
    calls: list[object] = []
    real = json.dumps

    def counting(obj: object, **kw: Any) -> str:
        calls.append(obj)
        return real(obj, **kw)

    monkeypatch.setattr(shared_frames.json, "dumps", counting)
    frames = [shared_frames.encode({"id": str(i), "type": "next", "payload": {"data": data}}) for i in range(100)]
    assert sum(1 for c in calls if c is data) == 1
    assert [json.loads(f)["id"] for f in frames] == [str(i) for i in range(100)]
    assert all(json.loads(f)["payload"]["data"] == data for f in frames)


def test_an_equal_but_different_object_is_encoded_afresh() -> None:
    # Entries are keyed by identity and hold their object, so a new object never gets an old one's bytes.
    first = {"meetingEvents": {"seq": 9}}
    assert '"seq":9' in shared_frames.encode({"id": "a", "type": "next", "payload": {"data": first}})
    second = {"meetingEvents": {"seq": 10}}
    assert '"seq":10' in shared_frames.encode({"id": "a", "type": "next", "payload": {"data": second}})
