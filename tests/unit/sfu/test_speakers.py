"""Speaker detection from audio levels: speaking, dominant speaker with hysteresis, recent and loudest speakers.

Audio is simulated as one packet every 20 ms per talking participant and a tick every 250 ms (a binary
fraction, so tick times are exact).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from sfu.speakers import SILENCE_DBOV, SpeakerConfig, SpeakerDetector, SpeakerUpdate, measure_level

TICK = 0.25
PACKETS_PER_TICK = 12  # ~20 ms packets
LOUD = 30  # dBov: ordinary talking
LOUDER = 5
NOISE = 70  # background noise, below speech_level

Script = Callable[[float], dict[str, int | None]]
"""time → per participant the level of its packets in the tick ending then (None or absent: no packets)."""


def run(det: SpeakerDetector, start: float, end: float, script: Script) -> list[tuple[float, SpeakerUpdate]]:
    """Feed ``script`` from ``start`` to ``end`` (both tick times), ticking every TICK."""
    out: list[tuple[float, SpeakerUpdate]] = []
    steps = round((end - start) / TICK)
    for k in range(1, steps + 1):
        t = start + k * TICK
        for pid, level in script(t).items():
            if level is None:
                continue
            for i in range(PACKETS_PER_TICK):
                det.observe(pid, level, t - TICK + (i + 1) * TICK / PACKETS_PER_TICK)
        out.append((t, det.tick(t)))
    return out


def talking(*pids: str, level: int = LOUD) -> Script:
    return lambda _t: dict.fromkeys(pids, level)


def first(updates: list[tuple[float, SpeakerUpdate]], pred: Callable[[SpeakerUpdate], bool]) -> float | None:
    return next((t for t, u in updates if pred(u)), None)


def test_silence_and_noise_are_not_speech() -> None:
    det = SpeakerDetector()
    updates = run(det, 0, 5, lambda _t: {"a": SILENCE_DBOV, "b": NOISE})
    assert all(u == SpeakerUpdate(None, (), ()) for _t, u in updates)
    assert not det.speaking("a") and not det.speaking("b")


def test_a_lone_speaker_speaks_within_half_a_second_and_dominates_a_second_later() -> None:
    det = SpeakerDetector()
    updates = run(det, 0, 3, talking("a"))
    # activity = 1 - exp(-t/0.4): 0.46 at 0.25 s, 0.71 at 0.5 s (start_activity 0.5)
    assert first(updates, lambda u: u.loudest == ("a",)) == 0.5
    assert first(updates, lambda u: u.recent == ("a",)) == 0.5
    assert first(updates, lambda u: u.dominant == "a") == 1.5
    assert det.speaking("a")


def test_a_cough_is_too_short_to_be_speech() -> None:
    det = SpeakerDetector()
    updates = run(det, 0, 3, lambda t: {"a": LOUDER if t <= TICK else None})
    assert all(u == SpeakerUpdate(None, (), ()) for _t, u in updates)


def test_short_utterances_enter_recent_but_do_not_dominate() -> None:
    det = SpeakerDetector()
    run(det, 0, 3, talking("a"))
    # b says "yes" for 0.75 s while a listens: enough to be speaking, too short to take over
    updates = run(det, 3, 6, lambda t: {"a": SILENCE_DBOV, "b": LOUD if t <= 3.75 else SILENCE_DBOV})
    assert any(u.loudest == ("b",) for _t, u in updates)
    assert all(u.dominant == "a" for _t, u in updates)
    assert updates[-1][1].recent == ("a", "b")  # the dominant speaker stays first
    assert updates[-1][1].loudest == ()


def test_pauses_between_words_do_not_stop_speech() -> None:
    det = SpeakerDetector()
    run(det, 0, 1, talking("a"))
    # words of 0.5 s with 0.25 s pauses (no packets at all, like DTX)
    updates = run(det, 1, 6, lambda t: {"a": None if round(t / TICK) % 3 == 0 else LOUD})
    assert all(u.loudest == ("a",) for _t, u in updates)


@pytest.mark.parametrize("after", [SILENCE_DBOV, NOISE, None], ids=["silence", "noise", "no-packets"])
def test_speech_stops_soon_after_the_speaker_does(after: int | None) -> None:
    det = SpeakerDetector()
    run(det, 0, 3, talking("a"))
    updates = run(det, 3, 5, lambda _t: {"a": after})
    # activity decays from ~1 to below stop_activity 0.2 within 0.4 * ln 5 = 0.64 s
    assert first(updates, lambda u: u.loudest == ()) == 3.75
    assert all(u.dominant == "a" for _t, u in updates)  # the last speaker keeps the title through silence


def test_a_new_speaker_takes_over_a_silent_dominant_speaker_after_a_second() -> None:
    det = SpeakerDetector()
    run(det, 0, 3, talking("a"))
    updates = run(det, 3, 6, lambda _t: {"a": SILENCE_DBOV, "b": LOUD})
    assert first(updates, lambda u: u.dominant == "b") == 4.5  # speaking at 3.5, one second later
    change = next(u for t, u in updates if t == 4.5)
    assert change.dominant_changed and change.recent == ("b", "a")


def test_crosstalk_at_similar_levels_never_flips_the_dominant_speaker() -> None:
    det = SpeakerDetector()
    run(det, 0, 2, talking("a"))
    updates = run(det, 2, 20, lambda _t: {"a": LOUD, "b": LOUD - 10})
    assert all(u.dominant == "a" and not u.dominant_changed for _t, u in updates)
    assert updates[-1][1].loudest == ("b", "a")


def test_a_clearly_louder_speaker_takes_over_after_a_second_of_being_louder() -> None:
    det = SpeakerDetector()
    run(det, 0, 2, talking("a"))
    # a mumbles (speech in one tick of two); b talks continuously and loudly
    updates = run(det, 2, 8, lambda t: {"a": LOUD if round(t / TICK) % 2 else NOISE, "b": LOUDER})
    t_b = first(updates, lambda u: u.dominant == "b")
    assert t_b is not None
    assert t_b - first(updates, lambda u: "b" in u.loudest) >= 1.0  # type: ignore[operator]
    assert all(u.dominant == "a" for t, u in updates if t < t_b)


@pytest.mark.parametrize(("burst", "switches"), [(3, False), (4, False), (8, True)])
def test_the_challenge_must_last_without_a_break(burst: int, switches: bool) -> None:
    det = SpeakerDetector()
    run(det, 0, 2, talking("a"))
    # a mumbles on; b is clearly louder in bursts of ``burst`` ticks with 1 s pauses
    pattern = [True] * burst + [False] * 4

    def script(t: float) -> dict[str, int | None]:
        b_on = pattern[round(t / TICK) % len(pattern)]
        return {"a": LOUD if round(t / TICK) % 2 else NOISE, "b": LOUDER if b_on else None}

    updates = run(det, 2, 14, script)
    assert any(u.dominant == "b" for _t, u in updates) is switches


def test_onsets_in_one_tick_put_the_loudest_first_and_recent_order_follows_onsets() -> None:
    det = SpeakerDetector(SpeakerConfig(switch_after_s=100))  # nobody dominates: pure onset order
    run(det, 0, 1, lambda _t: {"q": 45, "l": LOUDER})
    assert det.tick(1.0).recent == ("l", "q")
    run(det, 1, 3, lambda _t: {"q": SILENCE_DBOV, "l": SILENCE_DBOV})
    updates = run(det, 3, 4, lambda _t: {"q": LOUD})
    assert updates[-1][1].recent == ("q", "l")
    assert updates[-1][1].dominant is None


def test_ties_break_by_first_packet() -> None:
    det = SpeakerDetector(SpeakerConfig(switch_after_s=100))
    for pid in ("c", "a", "b"):
        det.observe(pid, SILENCE_DBOV, 0.0)
    updates = run(det, 0, 1, talking("b", "a", "c"))  # identical speech from all three, onsets in one tick
    assert updates[-1][1].recent == ("c", "a", "b")
    assert updates[-1][1].loudest == ("c", "a", "b")


def test_loudest_is_ordered_by_score_and_capped() -> None:
    det = SpeakerDetector(SpeakerConfig(top_k=2))
    updates = run(det, 0, 2, lambda _t: {"a": 40, "b": 10, "c": 25, "d": SILENCE_DBOV})
    assert updates[-1][1].loudest == ("b", "c")
    assert SpeakerDetector(SpeakerConfig(top_k=0)).tick(0).loudest == ()


def test_loudest_ties_keep_registration_order() -> None:
    det = SpeakerDetector(SpeakerConfig(top_k=3))
    for pid in ("c", "a", "b", "d"):
        det.observe(pid, SILENCE_DBOV, 0.0)
    updates = run(det, 0, 2, talking("a", "b", "c", "d"))
    assert updates[-1][1].loudest == ("c", "a", "b")


def test_host_mute_silences_a_participant_and_lets_another_take_over() -> None:
    det = SpeakerDetector()
    run(det, 0, 3, talking("a"))
    det.set_muted("a", True)
    updates = run(det, 3, 6, talking("a", "b"))
    assert all("a" not in u.loudest for t, u in updates if t >= 4)
    assert updates[-1][1].dominant == "b"
    det.set_muted("a", False)
    updates = run(det, 6, 8, lambda _t: {"a": LOUDER})
    assert "a" in updates[-1][1].loudest


def test_a_mute_holds_before_the_first_packet_and_across_a_reconnect() -> None:
    det = SpeakerDetector()
    det.set_muted("a", True)
    det.set_muted("z", False)  # unmuting someone never muted is a no-op
    assert det.muted == {"a"}
    updates = run(det, 0, 3, talking("a"))
    assert all(u == SpeakerUpdate(None, (), ()) for _t, u in updates)
    det.remove("a")
    updates = run(det, 3, 6, talking("a"))
    assert all(not u.loudest for _t, u in updates)
    det.set_muted("a", False)
    updates = run(det, 6, 8, talking("a"))
    assert updates[-1][1].loudest == ("a",)


def test_removing_the_dominant_speaker_hands_the_title_to_a_longtime_speaker_at_once() -> None:
    det = SpeakerDetector()
    run(det, 0, 3, talking("a", "b"))  # b talks over a at the same level: a keeps the title
    assert det.dominant == "a"
    det.remove("a")
    det.remove("never-seen")
    update = det.tick(3.0)
    assert update == SpeakerUpdate(
        "b", ("b",), ("b",), dominant_changed=True, recent_changed=True, loudest_changed=True
    )


def test_removing_the_dominant_speaker_in_silence_leaves_none_until_someone_speaks_a_second() -> None:
    det = SpeakerDetector()
    run(det, 0, 3, lambda t: {"a": LOUD, "b": NOISE})
    det.remove("a")
    update = det.tick(3.0)
    assert update.dominant is None and update.dominant_changed
    assert update.recent == () and update.recent_changed and update.loudest == () and update.loudest_changed
    updates = run(det, 3, 6, talking("b"))
    assert first(updates, lambda u: u.dominant == "b") == 4.5


def test_changed_flags_only_on_change() -> None:
    det = SpeakerDetector()
    updates = run(det, 0, 3, talking("a"))
    flags = [(t, u.dominant_changed, u.recent_changed, u.loudest_changed) for t, u in updates if u.changed]
    assert flags == [(0.5, False, True, True), (1.5, True, False, False)]


def test_the_result_does_not_depend_on_the_tick_schedule() -> None:
    # The averages are weighted by elapsed time: 2 s of speech ticked at 100 ms or once gives the same figures.
    a, b = SpeakerDetector(), SpeakerDetector()
    for k in range(1, 21):
        a.observe("p", LOUD, k * 0.1)
        a.tick(k * 0.1)
    for k in range(1, 21):
        b.observe("p", LOUD, k * 0.1)
    b.tick(2.0)
    va, vb = a._voices["p"], b._voices["p"]
    assert va.activity == pytest.approx(vb.activity) and va.loudness == pytest.approx(vb.loudness)
    assert va.activity == pytest.approx(1 - math.exp(-(2.0 - 0.1) / 0.4))


def test_deterministic() -> None:
    def once() -> list[tuple[float, SpeakerUpdate]]:
        det = SpeakerDetector()
        return run(det, 0, 10, lambda t: {"a": LOUD if t < 4 else None, "b": 20 if t > 3 else NOISE, "c": LOUD})

    assert once() == once()


def test_a_clock_going_backwards_is_ignored() -> None:
    det = SpeakerDetector()
    run(det, 0, 2, talking("a"))
    before = det._voices["a"].activity
    det.tick(1.0)
    assert det._voices["a"].activity == before


@pytest.mark.parametrize(
    ("kwargs", "why"),
    [
        ({"speech_level": 128}, "speech_level must be 0..127"),
        ({"time_constant_s": 0}, "time_constant_s must be > 0"),
        ({"start_activity": 0.2, "stop_activity": 0.2}, "stop_activity < start_activity"),
        ({"switch_after_s": -1}, "switch_after_s must be >= 0"),
        ({"switch_ratio": 0.9}, "switch_ratio must be >= 1"),
        ({"top_k": -1}, "top_k must be >= 0"),
    ],
)
def test_nonsense_config_is_refused(kwargs: dict[str, float], why: str) -> None:
    with pytest.raises(ValueError, match=why):
        SpeakerConfig(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("samples", "level"),
    [
        ([], SILENCE_DBOV),
        ([0] * 160, SILENCE_DBOV),
        ([32767, -32767] * 80, 0),  # full-scale square wave
        ([16384, -16384] * 80, 6),
        ([1, -1] * 80, 90),  # one LSB: 20 log10(32767) = 90.3
        ([round(32767 * math.sin(2 * math.pi * i / 160)) for i in range(160)], 3),  # full-scale sine
    ],
)
def test_measure_level(samples: list[int], level: int) -> None:
    assert measure_level(samples) == level


def test_measure_level_clamps_at_silence() -> None:
    assert measure_level([1] * 160, full_scale=2**40) == SILENCE_DBOV
