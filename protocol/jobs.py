"""Background job names, queue constants and the on-disk recording format shared by the edge and the workers.

Recording directory layout (written by the edge's recording taps, read by `workers`):

    <recording_dir>/
        <track_id>.mkv    one Matroska file per published track: the *encoded* packets as received (VP8 video,
                          Opus audio), remuxed without decoding. Packet pts are in the track's own clock
                          (`clock_rate` below: 90000 for VP8, 48000 for Opus, as in RTP), so gaps (mutes, packet
                          loss) are visible as pts jumps. Clusters are closed every second and the file is
                          flushed after every packet, so a crashed edge leaves a file that still demuxes up to
                          the last closed cluster (at most ~1 s lost).
        <track_id>.json   the sidecar, a `TrackMeta` as JSON. Written (atomically) when the track opens and
                          rewritten on mute changes and on close; `closed` tells a complete track from a partial
                          one.

Time alignment: packet `pts` at time `start_time + (pts - first_pts) / clock_rate` (unix seconds), where
`start_time` is the wall-clock time of the first packet. The recording's time zero is the earliest `start_time`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

# Job names (`verb_noun`), as registered with arq and the in-process runner.
COMPOSE_RECORDING = "compose_recording"
TRANSCRIBE_RECORDING = "transcribe_recording"
DELIVER_WEBHOOK = "deliver_webhook"
"""One signed webhook POST (``protocol.webhooks.SendRequest`` in, ``SendResult`` out); the API keeps the outbox."""
SYNC_CALENDAR = "sync_calendar"
"""One CalDAV request (``protocol.calendars.CalendarRequest`` in, ``CalendarResult`` out); the API keeps the outbox."""

DEFAULT_QUEUE = "meetmesh:jobs"
PROGRESS_KEY_PREFIX = "meetmesh:job-progress:"
"""Redis key `<prefix><job id>` holding the job's last reported progress, a percentage as text."""

TRACK_FORMAT_VERSION = 1

TrackKind = Literal["audio", "video"]
TrackSource = Literal["camera", "mic", "screen", "screen_audio"]
Layout = Literal["gallery", "speaker", "screen"]
LAYOUTS: tuple[Layout, ...] = ("gallery", "speaker", "screen")


@dataclass
class MuteInterval:
    """A span (unix seconds) during which the publisher was muted; `end` is None while still muted."""

    start: float
    end: float | None = None


@dataclass
class TrackMeta:
    """The sidecar of one per-track recording file."""

    track_id: str
    participant_id: str
    display_name: str
    kind: TrackKind
    source: TrackSource
    codec: str
    """"vp8" or "opus": the encoded payload in the Matroska file."""
    clock_rate: int
    """Units per second of the packet pts (RTP clock: 90000 video, 48000 Opus)."""
    start_time: float | None = None
    """Unix seconds of the first packet (filled by the writer when the first packet arrives)."""
    first_pts: int | None = None
    width: int | None = None
    """Video: size of the first frame (later frames may differ; VP8 keyframes carry their own size)."""
    height: int | None = None
    mutes: list[MuteInterval] = field(default_factory=list)
    closed: bool = False
    version: int = TRACK_FORMAT_VERSION

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, indent=1)

    @classmethod
    def from_json(cls, text: str) -> TrackMeta:
        data: dict[str, Any] = json.loads(text)
        mutes = [MuteInterval(**m) for m in data.pop("mutes", [])]
        return cls(**data, mutes=mutes)


@dataclass
class ComposeRequest:
    """Arguments of `compose_recording`."""

    recording_dir: str
    out_dir: str
    layout: Layout = "gallery"


@dataclass
class TranscribeRequest:
    """Arguments of `transcribe_recording`."""

    recording_dir: str
    out_dir: str
