"""The abuse limits of a public meeting service, by name, with their defaults; ``API_RATE_LIMITS`` overrides any
of them (``name=limit/window_s[/backoff_s]``, comma-separated), e.g. for a deployment behind one NAT address.

Keys are chosen where the limit is taken: "address" limits key on the client address (the GraphQL context's
``client_key``), "account" limits on the email.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from api.ratelimit import Limit

DEFAULTS: dict[str, Limit] = {
    lim.name: lim
    for lim in (
        # Wrong meeting passcodes per client address and meeting (API_PASSCODE_ATTEMPTS / API_PASSCODE_WINDOW).
        Limit("passcode", 5, 300),
        # Share links: per client address and link, and per link from everyone (bounds distributed guessing;
        # people with the right passcode get their attempt back, so they are not locked out by it).
        Limit("share-passcode", 5, 300),
        Limit("share-passcode-link", 50, 3600),
        # Failed log-ins: per account (the email, known or not: no account enumeration) and per address; after
        # the free attempts each one waits twice as long as the last (1 s, 2 s, 4 s, ... up to the window).
        Limit("login-account", 5, 900, backoff_s=1.0),
        Limit("login-address", 20, 900, backoff_s=1.0),
        Limit("signup-address", 10, 3600),
        # Single sign-ons started per address (each writes a row and sends the browser to the provider).
        Limit("sso-address", 60, 60),
        # Joins and meeting-number look-ups per address: generous for an office behind one NAT address, far too
        # slow to enumerate 11-digit meeting numbers.
        Limit("join-address", 120, 60),
        Limit("lobby-address", 60, 60),
        # Host actions that notify people (ask to unmute, help requests) are limited in their own domains.
    )
}

_SPEC = re.compile(r"([a-z][a-z-]{0,40})=([0-9]{1,9})/([0-9]{1,9}(?:\.[0-9]{1,6})?)(?:/([0-9]{1,6}(?:\.[0-9]{1,6})?))?")


def parse_overrides(spec: str) -> dict[str, Limit]:
    """``API_RATE_LIMITS``: ``login-address=50/900/0.5,join-address=600/60``. Unknown names and malformed items
    are refused (a typo must not silently leave a limit at its default)."""
    out: dict[str, Limit] = {}
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            continue
        m = _SPEC.fullmatch(item)
        if m is None:
            raise ValueError(f"API_RATE_LIMITS: {item!r} is not name=limit/window_s[/backoff_s]")
        name, limit, window, backoff = m.group(1), int(m.group(2)), float(m.group(3)), float(m.group(4) or 0)
        if name not in DEFAULTS:
            raise ValueError(f"API_RATE_LIMITS: no limit is named {name!r} (known: {', '.join(sorted(DEFAULTS))})")
        if limit < 1 or window <= 0:
            raise ValueError(f"API_RATE_LIMITS: {item!r} needs a limit of at least 1 and a window above 0")
        out[name] = Limit(name, limit, window, backoff)
    return out


def resolve(overrides: Mapping[str, Limit], passcode_attempts: int, passcode_window_s: float) -> dict[str, Limit]:
    """Every limit: defaults, then the passcode settings, then explicit overrides."""
    limits = dict(DEFAULTS)
    limits["passcode"] = Limit("passcode", passcode_attempts, passcode_window_s)
    limits.update(overrides)
    return limits
