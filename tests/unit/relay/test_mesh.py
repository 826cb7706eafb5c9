"""The mesh's routing: bounded trees, one copy per stream per link, and demand that propagates only when it
changes. Routers of several edges exchange their actions in memory, as their links would carry them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pytest

from relay.mesh import (
    Action,
    AnnounceTo,
    Router,
    SubscribeAt,
    TrackInfo,
    UnsubscribeAt,
    WithdrawFrom,
    tree_children,
    tree_parent,
)


@pytest.mark.parametrize("n, fanout", [(1, 3), (2, 1), (5, 8), (7, 2), (20, 3), (50, 4)])
def test_every_tree_reaches_every_edge_and_no_node_fans_out_beyond_the_bound(n: int, fanout: int) -> None:
    edges = [f"e{i}" for i in range(n)]
    for origin in (edges[0], edges[-1], edges[n // 2]):
        for e in edges:
            children = tree_children(edges, origin, e, fanout)
            assert len(children) <= fanout
            assert all(tree_parent(edges, origin, c, fanout) == e for c in children)
            # Walking up from any edge reaches the origin without a cycle.
            seen, node = set(), e
            while node != origin:
                assert node not in seen
                seen.add(node)
                parent = tree_parent(edges, origin, node, fanout)
                assert parent is not None
                node = parent
        assert tree_parent(edges, origin, origin, fanout) is None


def test_a_fanout_as_large_as_the_meeting_is_a_star() -> None:
    edges = ["a", "b", "c", "d"]
    assert tree_children(edges, "c", "c", 8) == ["d", "a", "b"]
    assert {tree_parent(edges, "c", e, 8) for e in "abd"} == {"c"}


@dataclass
class Network:
    """Routers of every edge; ``deliver`` plays each action at its peer and counts what crossed each link."""

    routers: dict[str, Router]
    subscribes: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(from, to) -> subscribe messages sent."""

    def run(self, sender: str, actions: list[Action]) -> None:
        queue = [(sender, a) for a in actions]
        while queue:
            src, a = queue.pop(0)
            dst = self.routers[a.peer]
            if isinstance(a, AnnounceTo):
                out = dst.on_announce(src, a.track)
            elif isinstance(a, WithdrawFrom):
                out = dst.on_withdraw(src, a.track_id)
            elif isinstance(a, SubscribeAt):
                self.subscribes[(src, a.peer)] += 1
                out = dst.on_subscribe(src, a.track_id, a.layers)
            else:
                assert isinstance(a, UnsubscribeAt)
                out = dst.on_subscribe(src, a.track_id, frozenset())
            queue += [(a.peer, b) for b in out]

    def copies_per_link(self, track_id: str, layer: int) -> Counter[tuple[str, str]]:
        """How many times a packet of ``layer`` crosses each link when the origin forwards it once."""
        crossed: Counter[tuple[str, str]] = Counter()
        frontier = [r.me for r in self.routers.values() if track_id in r.tracks and r.tracks[track_id].origin == r.me]
        while frontier:
            node = frontier.pop()
            for peer in self.routers[node].forward_to(track_id, layer):
                crossed[(node, peer)] += 1
                frontier.append(peer)
        return crossed

    def receivers(self, track_id: str, layer: int) -> set[str]:
        return {dst for (_, dst) in self.copies_per_link(track_id, layer)}


def _net(n: int, fanout: int, meeting: str = "m") -> Network:
    edges = [f"e{i}" for i in range(n)]
    net = Network({e: Router(e, fanout) for e in edges})
    for e in edges:
        net.run(e, net.routers[e].set_meeting_edges(meeting, edges))
    return net


def _cam(origin: str, layers: int = 3) -> TrackInfo:
    return TrackInfo(f"{origin}/ada/cam", "m", origin, "ada", "video", "camera", layers)


@pytest.mark.parametrize("n, fanout", [(3, 8), (7, 2), (13, 3)])
def test_each_edge_that_wants_a_track_gets_exactly_one_copy_over_one_link(n: int, fanout: int) -> None:
    net = _net(n, fanout)
    cam = _cam("e0")
    net.run("e0", net.routers["e0"].publish(cam))
    for e in list(net.routers)[1:]:
        # Several local subscribers behind each edge: the router hears only their union.
        net.run(e, net.routers[e].want(cam.track_id, frozenset({0})))
    copies = net.copies_per_link(cam.track_id, 0)
    assert set(copies.values()) == {1}
    assert net.receivers(cam.track_id, 0) == set(net.routers) - {"e0"}
    # No edge sends the stream to more than `fanout` peers.
    senders = Counter(src for (src, _) in copies)
    assert max(senders.values()) <= fanout
    # Each edge asked its parent once.
    assert all(v == 1 for v in net.subscribes.values())


def test_only_the_union_of_the_layers_wanted_travels_and_changes_propagate_only_when_it_changes() -> None:
    net = _net(4, fanout=1)  # a chain e0 <- e1 <- e2 <- e3
    cam = _cam("e0")
    net.run("e0", net.routers["e0"].publish(cam))
    net.run("e3", net.routers["e3"].want(cam.track_id, frozenset({0})))
    assert net.receivers(cam.track_id, 0) == {"e1", "e2", "e3"} and not net.receivers(cam.track_id, 2)
    net.run("e1", net.routers["e1"].want(cam.track_id, frozenset({2})))
    assert net.receivers(cam.track_id, 2) == {"e1"}  # e2 and e3 do not need layer 2: it stops at e1
    assert net.routers["e0"].forward_to(cam.track_id, 2) == ["e1"]
    before = sum(net.subscribes.values())
    net.run("e2", net.routers["e2"].want(cam.track_id, frozenset({0})))  # already flowing through e2: no message
    assert sum(net.subscribes.values()) == before
    net.run("e3", net.routers["e3"].want(cam.track_id, frozenset()))
    assert net.receivers(cam.track_id, 0) == {"e1", "e2"}
    net.run("e2", net.routers["e2"].want(cam.track_id, frozenset()))
    net.run("e1", net.routers["e1"].want(cam.track_id, frozenset()))
    assert not net.copies_per_link(cam.track_id, 0) and not net.copies_per_link(cam.track_id, 2)
    assert all(not r.pulling for r in net.routers.values())


def test_an_ended_track_is_withdrawn_down_the_whole_tree() -> None:
    net = _net(9, fanout=2)
    cam = _cam("e4")
    net.run("e4", net.routers["e4"].publish(cam))
    for e in net.routers:
        if e != "e4":
            net.run(e, net.routers[e].want(cam.track_id, frozenset({0, 1})))
    assert len(net.receivers(cam.track_id, 1)) == 8
    net.run("e4", net.routers["e4"].unpublish(cam.track_id))
    assert all(cam.track_id not in r.tracks and not r.pulling and not r.peer_demand for r in net.routers.values())


def test_when_an_edge_leaves_the_meeting_its_children_re_attach_and_still_get_one_copy() -> None:
    net = _net(7, fanout=2)
    cam = _cam("e0")
    net.run("e0", net.routers["e0"].publish(cam))
    for e in list(net.routers)[1:]:
        net.run(e, net.routers[e].want(cam.track_id, frozenset({0})))
    # e1 (an inner node: parent of e3 and e4) goes; every remaining edge learns the new list.
    gone = "e1"
    remaining = [e for e in net.routers if e != gone]
    for e in remaining:
        net.run(e, net.routers[e].link_lost(gone))
        net.run(e, net.routers[e].set_meeting_edges("m", remaining))
    net.routers.pop(gone)
    copies = net.copies_per_link(cam.track_id, 0)
    assert net.receivers(cam.track_id, 0) == set(remaining) - {"e0"}
    assert set(copies.values()) == {1} and all(gone not in link for link in copies)


def test_announces_from_a_peer_that_is_not_the_parent_are_ignored() -> None:
    r = Router("e2", fanout=1)
    r.set_meeting_edges("m", ["e0", "e1", "e2"])
    cam = _cam("e0")
    assert r.on_announce("e0", cam) == []  # e2's parent for e0's tracks is e1 in a chain
    assert cam.track_id not in r.tracks
    assert r.on_announce("e1", cam) == []  # accepted; nothing wanted yet, nobody below
    assert r.want(cam.track_id, frozenset({0})) == [SubscribeAt("e1", cam.track_id, frozenset({0}))]
    with pytest.raises(ValueError):
        r.publish(cam)  # not this edge's track
    with pytest.raises(ValueError):
        r.set_meeting_edges("m", ["e0", "e0"])
