"""Moving a subscriber between the layers of a simulcast track, sans-I/O: which forwarders its down track sits
on while a switch waits for the new layer's key frame, and when to ask a layer for one.

A layer is anything with a :class:`~sfu.forwarder.Forwarder` and a way to ask its source for a key frame (the
edge's published layers today; a layer pulled over a relay link later). A down track that already shows a
picture stays on its current layer until the target's key frame arrives (:meth:`DownTrack.switch_to`: no frozen
picture, RFC 7667 section 3.7 media switching); one that shows nothing yet moves at once. Which layer to pick is
:mod:`sfu.layers`' business; the I/O (timers, sockets) is the caller's.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, TypeVar

from sfu.forwarder import DownTrack, Forwarder


class Layer(Protocol):
    """One simulcast layer as the switch sees it."""

    @property
    def forwarder(self) -> Forwarder | None:
        """The layer's forwarder (None until its first packets named its SSRC)."""

    def request_keyframe(self) -> None:
        """Ask the layer's source for a key frame (throttled by the layer itself)."""


L = TypeVar("L", bound=Layer)


def detach(down_track: DownTrack, layers: Iterable[Layer]) -> None:
    """Take ``down_track`` off every layer's forwarder."""
    for layer in layers:
        if layer.forwarder is not None and down_track in layer.forwarder.down_tracks:
            layer.forwarder.unsubscribe(down_track)


def move_to_layer(down_track: DownTrack, layers: Iterable[Layer], layer: Layer) -> None:
    """Forward ``layer`` (one of ``layers``) to ``down_track`` from its next key frame. A stream already flowing
    keeps its current layer until then (:meth:`DownTrack.switch_to`); one that is not (yet) decodable moves at
    once."""
    forwarder = layer.forwarder
    if forwarder is None:
        return
    target = forwarder.source_ssrc
    if down_track in forwarder.down_tracks and target in (down_track.source_ssrc, down_track.pending_switch):
        if down_track.waiting_for_keyframe or down_track.pending_switch == target:
            layer.request_keyframe()
        return
    if not down_track.started or down_track.waiting_for_keyframe:
        detach(down_track, layers)
        forwarder.subscribe(down_track)
    else:
        down_track.switch_to(target)
        forwarder.down_tracks.append(down_track)
    layer.request_keyframe()


def settle(down_track: DownTrack, layers: Iterable[L]) -> L | None:
    """After a layer switch may have happened: leave the layers ``down_track`` no longer takes packets from,
    keep asking for the key frame a pending switch waits for; returns the layer whose packets go out now."""
    current: L | None = None
    for layer in list(layers):
        forwarder = layer.forwarder
        if forwarder is None or down_track not in forwarder.down_tracks:
            continue
        ssrc = forwarder.source_ssrc
        if down_track.waiting_for_keyframe or ssrc == down_track.source_ssrc:
            current = layer
            if down_track.waiting_for_keyframe:
                layer.request_keyframe()
        elif ssrc == down_track.pending_switch:
            layer.request_keyframe()
        else:
            forwarder.unsubscribe(down_track)
    return current
