"""Settings, read once from the environment. No other module reads ``os.environ``."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from api.client_address import parse_trusted
from api.sso.providers import OidcProvider, parse_providers
from protocol.webhooks import DEFAULT_RETRY_SCHEDULE_S, parse_networks


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


_DAYS = re.compile(r"[0-9]{1,6}")


def _days(name: str, value: str, *, optional: bool = False) -> int | None:
    """A retention in whole days, at least 1 (0 or a negative number would delete everything at once)."""
    value = value.strip()
    if optional and not value:
        return None
    if not _DAYS.fullmatch(value) or int(value) < 1:
        empty = " or empty" if optional else ""
        raise ValueError(f"{name} must be a whole number of days, 1 or more{empty} (got {value!r})")
    return int(value)


def _trusted_proxies(value: str) -> tuple[str, ...]:
    entries = tuple(p.strip() for p in value.split(",") if p.strip())
    parse_trusted(entries)  # a typo must stop the start, not silently trust nobody (or everybody)
    return entries


def _networks(value: str) -> tuple[str, ...]:
    entries = tuple(p.strip() for p in value.split(",") if p.strip())
    parse_networks(entries)  # a typo must stop the start
    return entries


def _schedule(value: str, name: str = "API_WEBHOOK_RETRY_SCHEDULE") -> tuple[float, ...]:
    """A retry schedule (``API_WEBHOOK_RETRY_SCHEDULE``, ``API_CALENDAR_RETRY_SCHEDULE``): comma-separated
    seconds, each 0.01..86400."""
    out = []
    for part in (p.strip() for p in value.split(",") if p.strip()):
        try:
            wait = float(part)
        except ValueError:
            raise ValueError(f"{name} entries must be seconds (got {part!r})") from None
        if not 0.01 <= wait <= 86400:
            raise ValueError(f"{name} entries must be 0.01..86400 s (got {part!r})")
        out.append(wait)
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path = Path("var")
    """Where the SQLite file, generated keys and (later) recordings live."""
    database_url: str = ""
    """Empty: SQLite at ``data_dir/meetmesh.db``. Otherwise an SQLAlchemy async URL (``postgresql+asyncpg://…``)."""
    redis_url: str = ""
    """Empty: events stay in this process (in-process bus). Set to share them between API processes."""
    redis_prefix: str = "meetmesh"
    """Key and channel prefix in Redis, so several deployments (or test runs) can share one server."""
    event_retention_s: int = 24 * 3600
    """How long the per-meeting event log keeps events for resuming subscribers; older resumes get
    RESYNC_REQUIRED."""
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    """API processes serving ``port`` (uvicorn's supervisor: one listening socket shared by N processes, the kernel
    spreads connections). More than 1 needs ``DATABASE_URL`` (PostgreSQL) and ``REDIS_URL``: SQLite and the
    in-process bus are for one process (docs/scaling.md)."""
    public_url: str = ""
    """Base URL browsers use to reach the API; derived from host/port when empty."""
    edge_url: str = ""
    """Signalling URL of the media edge handed out with join tokens; derived when empty."""
    recording_processor: str = "stack.jobs:EmbeddedProcessor"
    """What processes stopped recordings (``module:Class``): by default the worker job functions run in this
    process; empty: recordings stay STOPPED (a deployment processing them elsewhere)."""
    placement_latency_weight: float = 0.4
    placement_capacity_weight: float = 0.6
    """How joins are placed when several edges are registered (``api/media/placement.py``): round-trip time the
    client measured vs the edge's load, each scaled to 0..1."""
    placement_spread: bool = True
    """Let one meeting's participants be placed on different edges (each on its nearest): the edges relay the
    meeting's media to each other, breakout rooms included (``edge.mesh``, docs/relay.md). Off: once an edge
    serves a meeting, its later participants join that edge while it has room — for a deployment whose edges
    cannot reach each other's relay ports."""
    relay_token_ttl_s: int = 10 * 60
    """Lifetime of the relay tokens edges show each other (renewed over the control feed at half-life)."""
    edge_secret: str = ""
    """Shared secret media edges present on the control feed (``/internal/edge/feed``) to learn host mutes,
    removals and meeting ends. Empty: the feed refuses every edge, and media does not enforce host controls."""
    secret_key: str = ""
    """HMAC key for access/guest tokens; generated into ``data_dir/secret.key`` when empty."""
    access_token_ttl_s: int = 15 * 60
    refresh_token_ttl_s: int = 30 * 24 * 3600
    guest_token_ttl_s: int = 12 * 3600
    join_token_ttl_s: int = 5 * 60
    passcode_attempts: int = 5
    """Wrong passcodes allowed per client and meeting within ``passcode_window_s`` before RATE_LIMITED."""
    passcode_window_s: int = 300
    rate_limits: str = ""
    """Overrides of the named abuse limits in ``api/limits.py``: ``name=limit/window_s[/backoff_s],...``."""
    password_min_length: int = 8
    argon2_time_cost: int = 2
    argon2_memory_kib: int = 19 * 1024
    """OWASP's minimum argon2id profile (m=19 MiB, t=2, p=1): ~20 ms a hash on these machines."""
    allowed_origins: tuple[str, ...] = field(default_factory=tuple)
    """Extra origins allowed to open GraphQL WebSockets (embedding pages); the API's own origin is always allowed."""
    max_upload_bytes: int = 25 * 1024 * 1024
    """Largest chat attachment accepted."""
    trusted_proxies: tuple[str, ...] = field(default_factory=tuple)
    """IP addresses and CIDR networks of the reverse proxies in front of the API. Only a request whose TCP peer
    is one of them has its ``X-Forwarded-For`` (or ``Forwarded``) read for the client address that per-client
    limits key on; empty (the default): the peer address always, whatever the headers say."""
    graphql_max_body_bytes: int = 1024 * 1024
    """Largest POST /graphql body; larger ones get 413 PAYLOAD_TOO_LARGE before being read (docs/api-limits.md)."""
    graphql_max_document_bytes: int = 8 * 1024
    """Largest GraphQL document (the ``query`` text), refused before parsing."""
    graphql_max_tokens: int = 1000
    graphql_max_depth: int = 12
    graphql_max_aliases: int = 30
    graphql_max_cost: int = 20_000
    """Largest operation cost: each field 1, a list's fields times its ``first`` (docs/api-limits.md)."""
    graphql_default_list_size: int = 20
    graphql_ws_max_operations: int = 20
    """Active operations (subscriptions, in-flight queries) per WebSocket; one more gets RATE_LIMITED."""
    graphql_ws_messages_per_s: float = 20.0
    """Sustained messages per second per WebSocket; beyond the burst the server closes it with 4429."""
    graphql_ws_message_burst: int = 60
    graphiql: bool = False
    """Serve GraphiQL at GET /graphql (its page loads its JavaScript from a CDN: it needs internet access)."""
    log_level: str = "info"
    ws_ping_interval_s: float = 20.0
    """WebSocket keepalive (RFC 6455 section 5.5.2): a ping this often on every WebSocket, and a connection whose
    pong does not come within ``ws_ping_timeout_s`` is closed (1011). Dead peers behind NAT or a proxy are found
    this way; 0 turns pings off."""
    ws_ping_timeout_s: float = 20.0
    audit_retention_days: int = 365
    """Audit log rows (host actions, recording access, sign-ins) older than this are pruned."""
    recording_retention_days: int | None = None
    """Server default for how long recordings are kept (days after they started) when the meeting's owner set no
    ``recordingRetentionDays`` of their own; None (empty): forever."""
    export_max_bytes: int = 2 * 1024**3
    """Largest personal-data export archive; a bigger one is refused (PAYLOAD_TOO_LARGE) before it is built."""
    collab_flush_ms: int = 200
    """Shared documents (api/collab): how often edits are written, all documents' pending edits in one statement;
    a graceful stop writes what is pending."""
    collab_compact_after: int = 200
    """Stored update batches of one document before they are folded into its snapshot."""
    collab_max_message_bytes: int = 2 * 1024**2
    """Largest collaboration WebSocket message (a pasted image on a board is the big case); more closes 1009."""
    collab_messages_per_s: float = 200.0
    """Sustained messages per second on one collaboration connection (strokes, cursors); more closes 4429."""
    collab_message_burst: int = 600
    collab_access_recheck_s: float = 10.0
    """How old a collaboration writer's permission may be before it is decided again (3x for watchers): how long
    someone removed from the meeting, or moved to another room, keeps access to a document."""

    webhook_sender: str = "stack.webhooks:EmbeddedSender"
    """Who makes webhook HTTP requests (``module:Class``): by default the worker's send function in this process;
    ``stack.webhooks:ArqSender`` puts each attempt on the arq queue ``python -m workers`` serves (REDIS_URL)."""
    webhook_allowed_networks: tuple[str, ...] = field(default_factory=tuple)
    """Addresses or CIDR networks webhook endpoints may resolve to although they are loopback, private or
    link-local (refused by default: docs/webhooks.md)."""
    webhook_retry_schedule_s: tuple[float, ...] = field(default_factory=lambda: DEFAULT_RETRY_SCHEDULE_S)
    """Waits before each retry of a failed delivery; when all have failed the delivery is given up and its
    endpoint disabled (the default spans ~27.6 hours)."""
    webhook_connect_timeout_s: float = 5.0
    webhook_read_timeout_s: float = 10.0
    webhook_max_response_bytes: int = 4096
    webhook_poll_s: float = 1.0
    """How often a dispatcher looks for due deliveries when nothing woke it (another process's commits, retries)."""
    webhook_concurrency: int = 16
    """Deliveries in flight at once per API process."""

    calendar_provider: str = "stack.calendars:EmbeddedCalDAV"
    """Who talks to connected calendars (``module:Class``): the CalDAV job function in this process by default;
    ``stack.calendars:ArqCalDAV`` runs each request as an arq job (docs/calendars.md)."""
    calendar_retry_schedule_s: tuple[float, ...] = (30.0, 120.0, 600.0, 3600.0, 3 * 3600.0, 12 * 3600.0)
    """Waits before each retry of a failed calendar write; after the last the entry is left failed (shown to the
    user) until the meeting changes again or the calendar is connected again."""
    calendar_timeout_s: float = 10.0
    """Per CalDAV request (connect, and each read)."""
    calendar_poll_s: float = 2.0
    """How often the sync loop looks for due writes when no commit woke it (retries, other processes)."""
    webhook_max_endpoints: int = 20
    """Endpoints one account may register."""
    webhook_retention_days: int = 30
    """Delivered and failed deliveries (the delivery log, what replay can resend) are kept this long."""
    smtp_host: str = ""
    """Where owner notices are e-mailed (plain SMTP); empty: not e-mailed (the event is still sent)."""
    smtp_port: int = 25
    mail_from: str = "meetmesh@localhost"
    smtp_tls: str = "none"
    """none | starttls (RFC 3207, usually port 587) | implicit (RFC 8314 section 3.3, usually port 465)."""
    smtp_username: str = ""
    """With a password: SMTP AUTH when set (sent in the clear unless ``smtp_tls`` is on)."""
    smtp_password: str = ""
    oidc_providers: tuple[OidcProvider, ...] = field(default_factory=tuple)
    """``API_OIDC_PROVIDERS``: the OpenID providers people sign in with, each for its e-mail domains (docs/sso.md);
    empty: single sign-on is off."""

    def several_processes_problem(self) -> str | None:
        """Why ``workers`` processes cannot run with this configuration, or None."""
        if self.workers < 1:
            return f"API_WORKERS must be 1 or more (got {self.workers})"
        if self.workers > 1 and not (self.database_url and self.redis_url):
            return (
                f"API_WORKERS={self.workers} needs DATABASE_URL (PostgreSQL) and REDIS_URL: with the embedded SQLite "
                "file and the in-process event bus, each process would see only its own events"
            )
        if self.workers > 1 and self.database_url.startswith("sqlite"):
            return f"API_WORKERS={self.workers} needs PostgreSQL in DATABASE_URL, not SQLite"
        return None

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            url = self.database_url
            # Accept the conventional libpq-style URL and pick the async driver for it.
            for prefix in ("postgres://", "postgresql://"):
                if url.startswith(prefix):
                    return "postgresql+asyncpg://" + url[len(prefix) :]
            return url
        return f"sqlite+aiosqlite:///{self.data_dir / 'meetmesh.db'}"

    @property
    def base_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"

    @property
    def signalling_url(self) -> str:
        if self.edge_url:
            return self.edge_url
        return self.base_url.replace("http", "ws", 1) + "/edge/signal"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        e = dict(os.environ if env is None else env)
        d = cls()
        return cls(
            data_dir=Path(e.get("API_DATA_DIR", str(d.data_dir))),
            database_url=e.get("DATABASE_URL", d.database_url),
            redis_url=e.get("REDIS_URL", d.redis_url),
            redis_prefix=e.get("API_REDIS_PREFIX", d.redis_prefix),
            event_retention_s=int(e.get("API_EVENT_RETENTION", d.event_retention_s)),
            host=e.get("API_HOST", d.host),
            port=int(e.get("API_PORT", d.port)),
            workers=int(e.get("API_WORKERS", d.workers)),
            public_url=e.get("API_PUBLIC_URL", d.public_url).rstrip("/"),
            edge_url=e.get("API_EDGE_URL", d.edge_url),
            edge_secret=e.get("API_EDGE_SECRET", d.edge_secret),
            placement_latency_weight=float(e.get("API_PLACEMENT_LATENCY_WEIGHT", d.placement_latency_weight)),
            placement_capacity_weight=float(e.get("API_PLACEMENT_CAPACITY_WEIGHT", d.placement_capacity_weight)),
            relay_token_ttl_s=int(e.get("API_RELAY_TOKEN_TTL", d.relay_token_ttl_s)),
            placement_spread=_bool(e.get("API_PLACEMENT_SPREAD", str(d.placement_spread))),
            recording_processor=e.get("API_RECORDING_PROCESSOR", d.recording_processor),
            secret_key=e.get("API_SECRET_KEY", d.secret_key),
            access_token_ttl_s=int(e.get("API_ACCESS_TOKEN_TTL", d.access_token_ttl_s)),
            refresh_token_ttl_s=int(e.get("API_REFRESH_TOKEN_TTL", d.refresh_token_ttl_s)),
            guest_token_ttl_s=int(e.get("API_GUEST_TOKEN_TTL", d.guest_token_ttl_s)),
            join_token_ttl_s=int(e.get("API_JOIN_TOKEN_TTL", d.join_token_ttl_s)),
            passcode_attempts=int(e.get("API_PASSCODE_ATTEMPTS", d.passcode_attempts)),
            passcode_window_s=int(e.get("API_PASSCODE_WINDOW", d.passcode_window_s)),
            rate_limits=e.get("API_RATE_LIMITS", d.rate_limits),
            argon2_time_cost=int(e.get("API_ARGON2_TIME_COST", d.argon2_time_cost)),
            argon2_memory_kib=int(e.get("API_ARGON2_MEMORY_KIB", d.argon2_memory_kib)),
            allowed_origins=tuple(o for o in e.get("API_ALLOWED_ORIGINS", "").split(",") if o),
            max_upload_bytes=int(e.get("API_MAX_UPLOAD_BYTES", d.max_upload_bytes)),
            trusted_proxies=_trusted_proxies(e.get("API_TRUSTED_PROXIES", "")),
            collab_flush_ms=int(e.get("API_COLLAB_FLUSH_MS", d.collab_flush_ms)),
            collab_compact_after=int(e.get("API_COLLAB_COMPACT_AFTER", d.collab_compact_after)),
            collab_max_message_bytes=int(e.get("API_COLLAB_MAX_MESSAGE_BYTES", d.collab_max_message_bytes)),
            collab_messages_per_s=float(e.get("API_COLLAB_MESSAGES_PER_S", d.collab_messages_per_s)),
            collab_message_burst=int(e.get("API_COLLAB_MESSAGE_BURST", d.collab_message_burst)),
            collab_access_recheck_s=float(e.get("API_COLLAB_ACCESS_RECHECK_S", d.collab_access_recheck_s)),
            graphql_max_body_bytes=int(e.get("API_GRAPHQL_MAX_BODY_BYTES", d.graphql_max_body_bytes)),
            graphql_max_document_bytes=int(e.get("API_GRAPHQL_MAX_DOCUMENT_BYTES", d.graphql_max_document_bytes)),
            graphql_max_tokens=int(e.get("API_GRAPHQL_MAX_TOKENS", d.graphql_max_tokens)),
            graphql_max_depth=int(e.get("API_GRAPHQL_MAX_DEPTH", d.graphql_max_depth)),
            graphql_max_aliases=int(e.get("API_GRAPHQL_MAX_ALIASES", d.graphql_max_aliases)),
            graphql_max_cost=int(e.get("API_GRAPHQL_MAX_COST", d.graphql_max_cost)),
            graphql_default_list_size=int(e.get("API_GRAPHQL_DEFAULT_LIST_SIZE", d.graphql_default_list_size)),
            graphql_ws_max_operations=int(e.get("API_GRAPHQL_WS_MAX_OPERATIONS", d.graphql_ws_max_operations)),
            graphql_ws_messages_per_s=float(e.get("API_GRAPHQL_WS_MESSAGES_PER_S", d.graphql_ws_messages_per_s)),
            graphql_ws_message_burst=int(e.get("API_GRAPHQL_WS_MESSAGE_BURST", d.graphql_ws_message_burst)),
            graphiql=_bool(e.get("API_GRAPHIQL", str(d.graphiql))),
            log_level=e.get("API_LOG_LEVEL", d.log_level),
            ws_ping_interval_s=float(e.get("API_WS_PING_INTERVAL_S", d.ws_ping_interval_s)),
            ws_ping_timeout_s=float(e.get("API_WS_PING_TIMEOUT_S", d.ws_ping_timeout_s)),
            audit_retention_days=_days("API_AUDIT_RETENTION_DAYS", e.get("API_AUDIT_RETENTION_DAYS", "365")) or 365,
            recording_retention_days=_days(
                "API_RECORDING_RETENTION_DAYS", e.get("API_RECORDING_RETENTION_DAYS", ""), optional=True
            ),
            export_max_bytes=int(e.get("API_EXPORT_MAX_BYTES", d.export_max_bytes)),
            webhook_sender=e.get("API_WEBHOOK_SENDER", d.webhook_sender),
            webhook_allowed_networks=_networks(e.get("API_WEBHOOK_ALLOWED_NETWORKS", "")),
            webhook_retry_schedule_s=_schedule(e.get("API_WEBHOOK_RETRY_SCHEDULE", "")) or d.webhook_retry_schedule_s,
            webhook_connect_timeout_s=float(e.get("API_WEBHOOK_CONNECT_TIMEOUT", d.webhook_connect_timeout_s)),
            webhook_read_timeout_s=float(e.get("API_WEBHOOK_READ_TIMEOUT", d.webhook_read_timeout_s)),
            webhook_max_response_bytes=int(e.get("API_WEBHOOK_MAX_RESPONSE_BYTES", d.webhook_max_response_bytes)),
            webhook_poll_s=float(e.get("API_WEBHOOK_POLL", d.webhook_poll_s)),
            calendar_provider=e.get("API_CALENDAR_PROVIDER", d.calendar_provider),
            calendar_retry_schedule_s=_schedule(e.get("API_CALENDAR_RETRY_SCHEDULE", ""), "API_CALENDAR_RETRY_SCHEDULE")
            or d.calendar_retry_schedule_s,
            calendar_timeout_s=float(e.get("API_CALENDAR_TIMEOUT", d.calendar_timeout_s)),
            calendar_poll_s=float(e.get("API_CALENDAR_POLL", d.calendar_poll_s)),
            webhook_concurrency=int(e.get("API_WEBHOOK_CONCURRENCY", d.webhook_concurrency)),
            webhook_max_endpoints=int(e.get("API_WEBHOOK_MAX_ENDPOINTS", d.webhook_max_endpoints)),
            webhook_retention_days=_days("API_WEBHOOK_RETENTION_DAYS", e.get("API_WEBHOOK_RETENTION_DAYS", "30")) or 30,
            smtp_host=e.get("API_SMTP_HOST", d.smtp_host),
            smtp_port=int(e.get("API_SMTP_PORT", d.smtp_port)),
            mail_from=e.get("API_MAIL_FROM", d.mail_from),
            smtp_tls=e.get("API_SMTP_TLS", d.smtp_tls),
            smtp_username=e.get("API_SMTP_USERNAME", d.smtp_username),
            smtp_password=e.get("API_SMTP_PASSWORD", d.smtp_password),
            oidc_providers=parse_providers(e.get("API_OIDC_PROVIDERS", "")),
        )
