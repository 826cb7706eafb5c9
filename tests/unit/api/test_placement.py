"""Placement: nearest edge by the client's measurements, weighed against load; pure."""

from __future__ import annotations

from api.media.placement import FULL, Weights, choose
from api.media.registry import EdgeInfo


def edge(edge_id: str, region: str, *, cpu: float = 0.1, sessions: int = 0, capacity: int = 100) -> EdgeInfo:
    return EdgeInfo(edge_id, region, f"ws://{edge_id}/edge/signal", "", "", sessions, 0.0, cpu, capacity, 0.0)


EU, US, AP = edge("eu-1", "eu"), edge("us-1", "us"), edge("ap-1", "ap")


def test_no_edges_no_choice() -> None:
    assert choose([], {}) is None


def test_the_nearest_edge_wins_when_loads_are_alike() -> None:
    assert choose([EU, US, AP], {"eu-1": 150, "us-1": 20, "ap-1": 280}) == US
    assert choose([EU, US, AP], {"eu-1": 12, "us-1": 90, "ap-1": 250}) == EU


def test_a_busy_near_edge_loses_to_an_idle_one_a_little_further() -> None:
    busy_eu = edge("eu-1", "eu", cpu=0.9)
    # 0.4 * 10/300 + 0.6 * 0.9 = 0.553 vs 0.4 * 80/300 + 0.6 * 0.1 = 0.167
    assert choose([busy_eu, US], {"eu-1": 10, "us-1": 80}) == US
    # Weights are settings: a deployment that cares only about latency keeps the near one.
    assert choose([busy_eu, US], {"eu-1": 10, "us-1": 80}, weights=Weights(latency=1.0, capacity=0.0)) == busy_eu


def test_a_full_edge_is_skipped_while_another_has_room_even_if_it_is_much_nearer() -> None:
    full = edge("eu-1", "eu", sessions=100)
    assert full.load >= FULL
    assert choose([full, AP], {"eu-1": 1, "ap-1": 299}, weights=Weights(latency=1.0, capacity=0.0)) == AP
    assert choose([full], {"eu-1": 1}) == full  # all full: still somewhere to go


def test_without_measurements_the_region_hint_then_the_least_loaded() -> None:
    assert choose([EU, US, AP], {}, region="ap") == AP
    idle_us = edge("us-1", "us", cpu=0.0)
    assert choose([EU, idle_us, AP], {}) == idle_us


def test_ties_go_to_an_edge_already_serving_the_meeting_then_to_the_lowest_id() -> None:
    a, b = edge("a", "eu"), edge("b", "eu")
    assert choose([a, b], {"a": 30, "b": 30}) == a
    assert choose([a, b], {"a": 30, "b": 30}, meeting_edges=["b"]) == b


def test_nonsense_measurements_do_not_break_the_choice() -> None:
    # Negative or huge times (a client's clock jumped) clamp; an unknown edge id is ignored.
    assert choose([EU, US], {"eu-1": -5, "us-1": 1e9, "nope": 1}) == EU


def test_without_spreading_a_meeting_stays_on_the_edge_serving_it_while_it_has_room() -> None:
    near = {"eu-1": 10, "us-1": 200}
    assert choose([EU, US], near, meeting_edges=["us-1"], spread=False) == US
    assert choose([EU, US], near, meeting_edges=["us-1"], spread=True) == EU
    full_us = edge("us-1", "us", sessions=100)
    assert choose([EU, full_us], near, meeting_edges=["us-1"], spread=False) == EU  # no room: elsewhere
    assert choose([EU, US], near, spread=False) == EU  # a meeting nobody serves yet: the nearest
