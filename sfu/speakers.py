"""Who is speaking in a room: audio levels in, dominant speaker, recent speakers and loudest speakers out.

Sans-I/O and deterministic: :meth:`SpeakerDetector.observe` takes one audio level per RTP packet (the RFC 6464
``ssrc-audio-level`` header extension, or :func:`measure_level` over decoded samples) and only bumps three
counters, because it runs ~50 times a second per speaker. :meth:`SpeakerDetector.tick`, called every
100-300 ms, folds each participant's counters into smoothed figures and decides:

* **speaking**: the share of a participant's recent packets loud enough to be speech (``activity``, an
  exponential moving average over ticks) rises above ``start_activity``; it stops speaking when ``activity``
  falls below ``stop_activity``. The gap between the two thresholds is the hysteresis that rides over the
  pauses between words; the smoothing makes a cough or a door slam too short to count. Silence (level 127),
  a host mute and missing packets (a muted client sends none, or DTX sends one every 400 ms) all pull
  ``activity`` down, so they need no special case.
* **dominant speaker**: an energy-and-duration rule in the spirit of Volfin & Cohen's dominant speaker
  identification (what Jitsi uses), without its speech-likelihood model: a challenger replaces the dominant
  speaker only after it has, continuously for ``switch_after_s``, been speaking while the dominant speaker was
  not, or been ``switch_ratio`` times louder (``score = activity x loudness``). Two people talking over each
  other at similar levels therefore never flip the dominant speaker back and forth. The dominant speaker keeps
  the title through silence until someone else qualifies (the last person who spoke stays on the main tile).
* **recent speakers** (for last-N video): a participant moves to the front when it starts speaking; the
  dominant speaker is always first. The order changes only at speech onsets, so video slots do not churn.
* **loudest** (for top-N audio in large rooms): the speaking participants by score, loudest first, at most
  ``top_k``.

The RFC 6464 V (voice activity) bit is not used: it only means something when ``vad=on`` was negotiated
(RFC 6464 section 4), which the edge does not track; levels alone decide.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

SILENCE_DBOV = 127
"""The quietest level RFC 6464 can express (section 3: 0..127 means 0..-127 dBov); digital silence."""
_CLOCK_SLACK_S = 1e-6
"""Float clocks: 1.4 - 0.4 is 0.9999999999999999, which must still count as the full second."""


@dataclass(frozen=True, slots=True)
class SpeakerConfig:
    """Tuning of :class:`SpeakerDetector`; the defaults suit browsers' levels and a 100-300 ms tick."""

    speech_level: int = 50
    """A packet at this level or louder (a smaller dBov number) counts as speech. Browsers measure talking at
    about 20-40 dBov and a room's background after their noise suppression below 60 dBov."""
    time_constant_s: float = 0.4
    """Time constant of the moving averages: continuous speech from silence reaches ``start_activity`` after
    about 0.3 s, and a speaker who stops drops below ``stop_activity`` after about 0.4 s."""
    start_activity: float = 0.5
    """``activity`` (share of speech packets, smoothed) at which a participant starts speaking."""
    stop_activity: float = 0.2
    """``activity`` below which a speaking participant stops; below ``start_activity`` for hysteresis."""
    switch_after_s: float = 1.0
    """How long a challenger must qualify without a break before it becomes the dominant speaker."""
    switch_ratio: float = 1.5
    """How much louder (in score) a challenger must be than a dominant speaker who is still speaking."""
    top_k: int = 3
    """How many loudest speakers :attr:`SpeakerUpdate.loudest` lists."""

    def __post_init__(self) -> None:
        if not 0 <= self.speech_level <= SILENCE_DBOV:
            raise ValueError(f"speech_level must be 0..127 dBov (got {self.speech_level})")
        if self.time_constant_s <= 0:
            raise ValueError(f"time_constant_s must be > 0 (got {self.time_constant_s})")
        if not 0 < self.stop_activity < self.start_activity <= 1:
            raise ValueError(
                "need 0 < stop_activity < start_activity <= 1 "
                f"(got stop {self.stop_activity}, start {self.start_activity})"
            )
        if self.switch_after_s < 0:
            raise ValueError(f"switch_after_s must be >= 0 (got {self.switch_after_s})")
        if self.switch_ratio < 1:
            raise ValueError(f"switch_ratio must be >= 1 (got {self.switch_ratio})")
        if self.top_k < 0:
            raise ValueError(f"top_k must be >= 0 (got {self.top_k})")


@dataclass(frozen=True, slots=True)
class SpeakerUpdate:
    """What :meth:`SpeakerDetector.tick` decided: the current answers, and which of them changed since the
    previous tick (the first tick reports as changed whatever differs from "nobody")."""

    dominant: str | None
    """The dominant speaker, or None before anyone qualified (or after the dominant speaker was removed)."""
    recent: tuple[str, ...]
    """Everyone who has spoken, most recent speech onset first, the dominant speaker always first."""
    loudest: tuple[str, ...]
    """Participants speaking now, loudest first, at most ``top_k``."""
    dominant_changed: bool = False
    recent_changed: bool = False
    loudest_changed: bool = False

    @property
    def changed(self) -> bool:
        return self.dominant_changed or self.recent_changed or self.loudest_changed


@dataclass(slots=True)
class _Voice:
    """One participant's audio, as the detector sees it."""

    order: int
    """Registration order: the last tie-break, so equal inputs always give the same answer."""
    since: float
    """Start of the interval the counters cover (the previous tick, or the first packet)."""
    packets: int = 0
    voiced: int = 0
    """Packets in the interval at or louder than ``speech_level``."""
    loudness_sum: int = 0
    """Sum over the voiced packets of ``127 - level`` (dB above silence)."""
    activity: float = 0.0
    """Smoothed share of speech packets, 0..1."""
    loudness: float = 0.0
    """Smoothed loudness of the speech packets, dB above silence (0..127); kept through pauses."""
    speaking: bool = False
    speaking_since: float | None = None
    """The tick at which it started speaking (None when not speaking)."""
    muted: bool = False
    """Muted by a host: its packets count as silence whatever their level."""
    qualified_since: float | None = None
    """Since when it has, without a break, qualified to take over as dominant speaker."""

    @property
    def score(self) -> float:
        return self.activity * self.loudness


@dataclass(eq=False)
class SpeakerDetector:
    """Speaker detection for one room. Feed it every audio packet's level and tick it regularly."""

    config: SpeakerConfig = field(default_factory=SpeakerConfig)
    dominant: str | None = None
    muted: set[str] = field(default_factory=set)
    """Participants a host muted; kept across :meth:`remove`, so a muted participant who reconnects stays
    muted until :meth:`set_muted` says otherwise."""
    _voices: dict[str, _Voice] = field(default_factory=dict, repr=False)
    _recent: list[str] = field(default_factory=list, repr=False)
    _next_order: int = field(default=0, repr=False)
    _last: SpeakerUpdate = field(default_factory=lambda: SpeakerUpdate(None, (), ()), repr=False)

    def observe(self, participant_id: str, level_dbov: int, now: float) -> None:
        """One audio packet from ``participant_id`` at ``level_dbov`` (0 loudest .. 127 silence, the 7-bit
        RFC 6464 field). O(1): a dict lookup and counter increments; the work happens in :meth:`tick`."""
        voice = self._voices.get(participant_id)
        if voice is None:
            voice = self._new_voice(participant_id, now)
        voice.packets += 1
        if level_dbov <= self.config.speech_level and not voice.muted:
            voice.voiced += 1
            voice.loudness_sum += SILENCE_DBOV - level_dbov

    def set_muted(self, participant_id: str, muted: bool) -> None:
        """A host muted (or unmuted) ``participant_id``: whatever its client still sends counts as silence, so
        a muted participant is never announced as speaking."""
        (self.muted.add if muted else self.muted.discard)(participant_id)
        voice = self._voices.get(participant_id)
        if voice is not None:
            voice.muted = muted

    def remove(self, participant_id: str) -> None:
        """``participant_id`` left: forget it (the next :meth:`tick` reports the changes)."""
        if self._voices.pop(participant_id, None) is None:
            return
        if participant_id in self._recent:
            self._recent.remove(participant_id)
        if self.dominant == participant_id:
            self.dominant = None

    def _new_voice(self, participant_id: str, now: float) -> _Voice:
        voice = _Voice(order=self._next_order, since=now, muted=participant_id in self.muted)
        self._next_order += 1
        self._voices[participant_id] = voice
        return voice

    def speaking(self, participant_id: str) -> bool:
        voice = self._voices.get(participant_id)
        return voice is not None and voice.speaking

    def tick(self, now: float) -> SpeakerUpdate:
        """Fold the packets observed since the previous tick into the smoothed figures and decide."""
        cfg = self.config
        onsets: list[tuple[str, _Voice]] = []
        for pid, voice in self._voices.items():
            self._fold(voice, now)
            if not voice.speaking and voice.activity >= cfg.start_activity:
                voice.speaking = True
                voice.speaking_since = now
                onsets.append((pid, voice))
            elif voice.speaking and voice.activity < cfg.stop_activity:
                voice.speaking = False
                voice.speaking_since = None
        # Several onsets in one tick: the loudest ends up in front (deterministic tie-break: registration order).
        onsets.sort(key=lambda item: (item[1].score, -item[1].order))
        for pid, _voice in onsets:
            self._to_front(pid)
        self._elect(now)
        if self.dominant is not None:
            self._to_front(self.dominant)
        speaking = [(pid, v) for pid, v in self._voices.items() if v.speaking]
        speaking.sort(key=lambda item: (-item[1].score, item[1].order))
        recent = tuple(self._recent)
        loudest = tuple(pid for pid, _v in speaking[: cfg.top_k])
        last = self._last
        update = SpeakerUpdate(
            self.dominant,
            recent,
            loudest,
            dominant_changed=self.dominant != last.dominant,
            recent_changed=recent != last.recent,
            loudest_changed=loudest != last.loudest,
        )
        self._last = update
        return update

    def _fold(self, voice: _Voice, now: float) -> None:
        # Exponential moving average weighted by the time the interval covered, so an irregular tick (a busy
        # event loop) neither speeds up nor slows down detection.
        dt = now - voice.since
        if dt > 0:
            alpha = 1.0 - math.exp(-dt / self.config.time_constant_s)
            share = voice.voiced / voice.packets if voice.packets else 0.0
            voice.activity += alpha * (share - voice.activity)
            if voice.voiced:
                voice.loudness += alpha * (voice.loudness_sum / voice.voiced - voice.loudness)
        voice.since = now
        voice.packets = voice.voiced = voice.loudness_sum = 0

    def _elect(self, now: float) -> None:
        cfg = self.config
        incumbent = self._voices.get(self.dominant) if self.dominant is not None else None
        best: tuple[float, float, int, str] | None = None
        for pid, voice in self._voices.items():
            qualifies = (
                voice is not incumbent
                and voice.speaking
                and (incumbent is None or not incumbent.speaking or voice.score >= cfg.switch_ratio * incumbent.score)
            )
            if not qualifies:
                voice.qualified_since = None
                continue
            if incumbent is None:
                # Nobody holds the title (no one yet, or the dominant speaker left): whoever has been speaking
                # long enough takes it at once; the room is not left without a dominant speaker for a second.
                voice.qualified_since = voice.speaking_since
            elif voice.qualified_since is None:
                voice.qualified_since = now
            assert voice.qualified_since is not None
            if now - voice.qualified_since >= cfg.switch_after_s - _CLOCK_SLACK_S:
                # Loudest wins; then who qualified first; then registration order.
                key = (-voice.score, voice.qualified_since, voice.order, pid)
                if best is None or key < best:
                    best = key
        if best is not None:
            self.dominant = best[3]
            # The bar was measured against the old dominant speaker: everyone starts counting afresh.
            for voice in self._voices.values():
                voice.qualified_since = None

    def _to_front(self, participant_id: str) -> None:
        recent = self._recent
        if recent and recent[0] == participant_id:
            return
        if participant_id in recent:
            recent.remove(participant_id)
        recent.insert(0, participant_id)


def measure_level(samples: Sequence[int], full_scale: int = 32767) -> int:
    """The RFC 6464 level of a block of linear PCM samples (section 3: RMS relative to the overload point, in
    -dBov, 0..127), for audio that arrives without the header extension and is decoded anyway."""
    if not samples:
        return SILENCE_DBOV
    power = sum(s * s for s in samples) / len(samples)
    if power <= 0:
        return SILENCE_DBOV
    dbov = -10.0 * math.log10(power / (full_scale * full_scale))
    return min(SILENCE_DBOV, max(0, round(dbov)))
