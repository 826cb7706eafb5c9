"""The ``tracks`` map beside an offer's SDP: what each mid carries (source; publisher on edge offers)."""

from __future__ import annotations

import json

import pytest

from protocol.signalling import (
    Offer,
    SignallingMessageError,
    TrackInfo,
    encode,
    parse_client_message,
    parse_edge_message,
)


def test_client_and_edge_track_maps_round_trip() -> None:
    client = Offer(sdp="v=0\r\n", tracks={"0": TrackInfo("microphone"), "2": TrackInfo("screen")})
    assert json.loads(encode(client))["tracks"] == {"0": {"source": "microphone"}, "2": {"source": "screen"}}
    assert parse_client_message(encode(client)) == client
    edge = Offer(sdp="v=0\r\n", tracks={"4": TrackInfo("camera", participant_id="p1")})
    assert json.loads(encode(edge))["tracks"] == {"4": {"source": "camera", "participantId": "p1"}}
    assert parse_edge_message(encode(edge)) == edge


def test_an_offer_without_tracks_stays_as_it_was_on_the_wire() -> None:
    assert json.loads(encode(Offer(sdp="v=0\r\n"))) == {"type": "offer", "sdp": "v=0\r\n"}
    assert parse_client_message('{"type":"offer","sdp":"v=0"}') == Offer(sdp="v=0")


@pytest.mark.parametrize(
    ("tracks", "error"),
    [
        ([], "object keyed by mid"),
        ({"0": "screen"}, r"tracks\['0'\] must be an object"),
        ({"0": {"source": "webcam"}}, "source must be one of"),
        ({"0": {"source": "camera", "participantId": 7}}, "participantId must be a string"),
    ],
)
def test_malformed_track_maps_are_refused_with_the_reason(tracks: object, error: str) -> None:
    with pytest.raises(SignallingMessageError, match=error):
        parse_client_message(json.dumps({"type": "offer", "sdp": "v=0", "tracks": tracks}))
