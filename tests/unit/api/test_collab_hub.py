"""api/collab/hub.py and wire.py without sockets: y-protocols messages in, bytes out."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pycrdt import Doc, Text, create_sync_message, create_update_message, handle_sync_message

from api.collab import names, wire
from api.collab.hub import COALESCE_PEERS, Document, Peer
from api.collab.lock import Lock
from api.collab.wire import AwarenessEntry, Kind, Step, WireError
from api.errors import BadInputError


def edit(text: str) -> bytes:
    d: Doc[Any] = Doc()
    d["notes"] = Text(text)
    return d.get_update()


def test_names() -> None:
    assert str(names.parse("notes")) == "notes"
    assert names.parse("board:main").breakout_room is None
    assert names.parse("board:r1").breakout_room == "r1"
    shared = names.parse("annotate:p_1-X")
    assert str(shared) == "annotate:p_1-X" and shared.sharer == "p_1-X" and shared.breakout_room is None
    assert names.parse("board:main").sharer is None
    for bad in ("", "board:", "board:a/b", "whiteboard", "notes:x", "board:" + "x" * 33, "annotate:", "annotate:a b"):
        with pytest.raises(BadInputError):
            names.parse(bad)


def test_a_joiner_gets_state_vector_whole_document_and_awareness() -> None:
    doc = Document(("m", "notes"))
    doc.join(Peer(1, "A", True))
    doc.receive(1, create_update_message(edit("hi")))
    out = doc.join(Peer(2, "B", True))
    assert [wire.decode(m).step for m in out] == [Step.STEP1, Step.STEP2]
    client: Doc[Any] = Doc()
    for m in out:
        handle_sync_message(m[1:], client)
    assert str(client.get("notes", type=Text)) == "hi"


def test_an_update_is_applied_framed_once_for_everyone_and_kept_for_storage() -> None:
    doc = Document(("m", "notes"))
    doc.join(Peer(1, "A", True))
    update = edit("x")
    fx = doc.receive(1, create_update_message(update))
    assert fx.broadcast == [create_update_message(update)] and fx.reply == []
    assert fx.publish_update == update
    assert doc.take_pending() == [update] and doc.take_pending() == []


def test_the_pending_edits_remember_who_sent_them() -> None:
    doc = Document(("m", "notes"))
    doc.join(Peer(1, "Ada", True, participant_id="p-ada"))
    doc.join(Peer(2, "Bob", True, participant_id="p-bob"))
    doc.join(Peer(3, "Viewer", False, participant_id="p-viewer"))
    one, two, three = edit("a"), edit("bb"), edit("ccc")
    doc.receive(1, create_update_message(one))
    doc.receive(2, create_update_message(two))
    doc.receive(1, create_update_message(three))
    doc.receive(3, create_update_message(edit("refused")))  # refused: not a change of theirs
    doc.remote_update(edit("from another process"))  # that process records its own peers' changes
    assert doc.take_pending() == [one, two, three]
    authors = doc.take_authors()
    assert {n: (a.updates, a.bytes) for n, a in authors.items()} == {
        "p-ada": (2, len(one) + len(three)),
        "p-bob": (1, len(two)),
    }
    assert doc.take_authors() == {}


def test_a_read_only_peer_is_refused_and_nothing_changes() -> None:
    doc = Document(("m", "notes"))
    doc.join(Peer(1, "Viewer", False))
    fx = doc.receive(1, create_update_message(edit("vandal")))
    assert fx.refused and fx.broadcast == [] and fx.publish_update is None
    assert wire.decode_reason(fx.reply[0]).startswith("read-only")
    assert str(doc.doc.get("notes", type=Text)) == "" and doc.pending == []
    # Asking for the state is fine; an empty sync step 2 (the usual answer to ours) is not a change.
    assert doc.receive(1, create_sync_message(Doc())).reply
    assert not doc.receive(1, wire.sync(Step.STEP2, wire.EMPTY_UPDATE)).refused


def test_awareness_is_stamped_owned_and_removed_on_leave() -> None:
    doc = Document(("m", "board:main"))
    doc.join(Peer(1, "Ada", True))
    doc.join(Peer(2, "Bob", True))
    state = json.dumps({"user": {"name": "Bob", "color": "red"}, "x": 1})
    fx = doc.receive(1, wire.awareness(wire.encode_awareness([AwarenessEntry(77, 1, state)])))
    (entry,) = wire.decode_awareness(wire.decode(fx.broadcast[0]).payload)
    assert json.loads(entry.state)["user"] == {"name": "Ada", "color": "red", "editor": True}
    # Peer 2 cannot take over client 77.
    assert doc.receive(2, wire.awareness(wire.encode_awareness([AwarenessEntry(77, 2, "null")]))).broadcast == []
    gone = doc.leave(1)
    (entry,) = wire.decode_awareness(wire.decode(gone.broadcast[0]).payload)
    assert (entry.client_id, entry.clock, entry.state) == (77, 1, "null")
    assert doc.awareness == {}


@pytest.mark.parametrize(
    "junk",
    [b"", b"\x07", b"\x00\x03\x00", b"\x00\x02\x09ab", b"\x01\x05\x01", b"\x00\x00\x80\x80\x80\x80\x80\x80\x80\x80"],
)
def test_malformed_messages_raise_wire_errors(junk: bytes) -> None:
    doc = Document(("m", "notes"))
    doc.join(Peer(1, "A", True))
    with pytest.raises(WireError):
        doc.receive(1, junk)


def test_a_malformed_update_and_awareness_state_raise_wire_errors() -> None:
    doc = Document(("m", "notes"))
    doc.join(Peer(1, "A", True))
    with pytest.raises(WireError):
        doc.receive(1, create_update_message(b"\x05\x05\x05"))
    for state in ("not json", "[1]", json.dumps({"big": "x" * 9000})):
        with pytest.raises(WireError):
            doc.receive(1, wire.awareness(wire.encode_awareness([AwarenessEntry(1, 1, state)])))


def test_permission_denied_is_y_protocols_auth() -> None:
    msg = wire.permission_denied("no")
    assert msg[0] == Kind.AUTH and msg[1] == 0 and wire.decode_reason(msg) == "no"


async def test_an_outbox_merges_queued_updates_and_keeps_other_messages_in_order() -> None:
    from api.collab.service import Outbox

    box = Outbox()
    a, b = edit("one"), edit("two")
    awareness = wire.awareness(wire.encode_awareness([AwarenessEntry(1, 1, "{}")]))
    for data in (wire.sync(Step.UPDATE, a), wire.sync(Step.UPDATE, b), awareness, wire.sync(Step.UPDATE, a)):
        box.put(data)
    batch = await box.next_batch()
    assert len(batch) == 3 and batch[1] == awareness and batch[2] == wire.sync(Step.UPDATE, a)
    merged: Doc[Any] = Doc()
    merged.apply_update(wire.decode(batch[0]).payload)
    both: Doc[Any] = Doc()
    both.apply_update(a)
    both.apply_update(b)
    # The same content (state vectors list clients in no fixed order, so compare what they hold).
    text = str(merged.get("notes", type=Text))
    assert text == str(both.get("notes", type=Text)) and sorted(text) == sorted("onetwo")
    assert box.queue.empty()


def test_a_document_locked_for_presenters_takes_their_edits_and_refuses_others() -> None:
    doc = Document(("m1", "board:main"))
    doc.lock = Lock(locked=True, presenters=True)
    doc.join(Peer(1, "Presenter", True, presenter=True))
    doc.join(Peer(2, "Watcher", True))
    src = Doc()
    src.get("t", type=Text).insert(0, "slide notes")
    update = wire.sync(Step.UPDATE, src.get_update())
    taken = doc.receive(1, update)
    assert not taken.refused and str(doc.doc.get("t", type=Text)) == "slide notes"
    refused = doc.receive(2, update)
    assert refused.refused and b"hosts and presenters" in b"".join(refused.reply)


def test_after_a_refused_edit_the_same_connection_may_not_edit_until_it_opens_again() -> None:
    doc = Document(("m1", "board:main"))
    doc.lock = Lock(locked=True)
    doc.join(Peer(1, "Guest", True))
    author = Doc()
    text = author.get("t", type=Text)
    text.insert(0, "first")
    first = wire.sync(Step.UPDATE, author.get_update())
    before = author.get_state()
    text.insert(5, " second")
    second = wire.sync(Step.UPDATE, author.get_update(before))
    assert doc.receive(1, first).refused
    doc.lock = Lock()  # unlocked: the second edit alone would be allowed now ...
    later = doc.receive(1, second)
    assert later.refused and b"earlier edit" in b"".join(later.reply)  # ... but it builds on the refused one
    assert str(doc.doc.get("t", type=Text)) == "" and doc.pending == []
    doc.join(Peer(2, "Guest again", True))  # the client started over: a new connection, a fresh document
    fresh = Doc()
    fresh.get("t", type=Text).insert(0, "fresh")
    assert not doc.receive(2, wire.sync(Step.UPDATE, fresh.get_update())).refused
    assert str(doc.doc.get("t", type=Text)) == "fresh"


def _cursor(client: int, clock: int, x: int) -> bytes:
    return wire.awareness(wire.encode_awareness([AwarenessEntry(client, clock, json.dumps({"cursor": {"x": x}}))]))


def test_a_large_audience_gets_awareness_in_ticks_with_each_clients_latest_state() -> None:
    doc = Document(("m1", "board:main"))
    for n in range(1, COALESCE_PEERS + 1):
        doc.join(Peer(n, f"P{n}", True))
    moves = [doc.receive(1, _cursor(11, k, k)) for k in range(1, 4)] + [doc.receive(2, _cursor(22, 1, 99))]
    assert all(fx.broadcast == [] and fx.awareness_due and fx.publish_awareness for fx in moves)
    tick = doc.take_awareness()
    assert tick is not None and doc.take_awareness() is None  # nothing new since
    entries = {e.client_id: json.loads(e.state) for e in wire.decode_awareness(wire.decode(tick).payload)}
    assert entries.keys() == {11, 22}
    assert entries[11]["cursor"] == {"x": 3} and entries[22]["cursor"] == {"x": 99}  # the latest only
    assert entries[11]["user"]["name"] == "P1"  # stamped as always


def test_a_small_meeting_gets_each_awareness_update_at_once() -> None:
    doc = Document(("m1", "board:main"))
    for n in range(1, COALESCE_PEERS):
        doc.join(Peer(n, f"P{n}", True))
    fx = doc.receive(1, _cursor(11, 1, 5))
    assert len(fx.broadcast) == 1 and not fx.awareness_due and doc.take_awareness() is None
