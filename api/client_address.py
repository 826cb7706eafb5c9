"""Who is calling: the client address that per-client limits key on, for GraphQL and plain HTTP alike.

The TCP peer is the client unless it is one of ``API_TRUSTED_PROXIES``. Only then are forwarding headers read,
right to left: each proxy appends the address it received the request from, so the right-most address that is
*not* a trusted proxy is the first one no proxy of ours vouches for - everything left of it is whatever the
client chose to send. Trusting the headers from anyone (uvicorn's ``forwarded_allow_ips`` defaults to
127.0.0.1, so any local process could) would let a client pick a fresh address per request and reset its
limits; the servers we start run uvicorn with ``proxy_headers=False`` so ``scope["client"]`` stays the peer.

Which header: ``X-Forwarded-For`` when the request has one, else ``Forwarded`` (RFC 7239). Proxies append to
the header they write and pass the other through untouched, so a proxy that writes only ``Forwarded`` must
drop an incoming ``X-Forwarded-For`` (docs/security.md).
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable, Sequence
from typing import Any

from litestar.connection import ASGIConnection

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_HOPS = 32
"""Forwarding entries read, from the right: a bound on work per request, far more than any real proxy chain."""
MAX_HEADER_CHARS = 8192
"""Longest forwarding header value read; longer ones are cut from the left (the right end is what counts)."""


class TrustedProxiesError(ValueError):
    """``API_TRUSTED_PROXIES`` has an entry that is neither an IP address nor a CIDR network."""


def parse_trusted(entries: Iterable[str]) -> tuple[Network, ...]:
    """Networks from addresses and CIDRs (``10.0.0.0/8``, ``::1``, ``192.0.2.7``); raises on anything else."""
    networks = []
    for raw in entries:
        entry = raw.strip()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError as exc:
            raise TrustedProxiesError(f"API_TRUSTED_PROXIES: {entry!r} is not an IP address or network") from exc
    return tuple(networks)


@functools.lru_cache(maxsize=8)
def _trusted(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return parse_trusted(entries)


def _address(text: str) -> Address | None:
    """An IP address from one forwarding entry: ``192.0.2.1``, ``192.0.2.1:4711``, ``[2001:db8::1]:4711``,
    ``2001:db8::1``; None for anything else (``unknown``, RFC 7239 obfuscated ``_hidden``, garbage)."""
    text = text.strip().strip('"').strip()
    if not text or len(text) > 64:
        return None
    if text.startswith("["):  # RFC 7239 section 6: IPv6 in brackets, maybe with a port
        end = text.find("]")
        if end < 0 or (end + 1 < len(text) and text[end + 1] != ":"):
            return None
        text = text[1:end]
    elif text.count(":") == 1:  # IPv4 with a port (an IPv6 address has at least two colons)
        text = text.partition(":")[0]
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    if isinstance(addr, ipaddress.IPv6Address) and addr.scope_id:
        return None  # a zone index ("fe80::1%eth0") names a link on the proxy's host, not a client
    return addr


def _split_unquoted(value: str, sep: str) -> list[str]:
    """``value`` split at ``sep`` outside double quotes (RFC 7239 values may be quoted strings)."""
    parts: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for ch in value:
        if escaped:
            escaped = False
        elif ch == "\\" and quoted:
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == sep and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    parts.append("".join(current))
    return parts


def forwarded_for(values: Sequence[str]) -> list[str]:
    """The ``for=`` of each element of ``Forwarded`` headers (RFC 7239 section 4), in order; an element
    without one counts as an unknown hop (it still stands between us and the client)."""
    out = []
    for element in _split_unquoted(",".join(values)[-MAX_HEADER_CHARS:], ","):
        found = ""
        for pair in _split_unquoted(element, ";"):
            name, sep, val = pair.partition("=")
            if sep and name.strip().lower() == "for":
                found = val.strip()
        out.append(found)
    return out


def x_forwarded_for(values: Sequence[str]) -> list[str]:
    """The entries of ``X-Forwarded-For`` headers (several headers are one comma-separated list), in order."""
    return ",".join(values)[-MAX_HEADER_CHARS:].split(",")


def _peer(host: str | None) -> Address | None:
    return _address(host) if host else None


def client_address(
    peer: str | None,
    x_forwarded: Sequence[str],
    forwarded: Sequence[str],
    trusted: Sequence[str],
) -> str:
    """The address per-client limits key on. ``peer`` is the TCP peer (``scope["client"][0]``), the header
    lists hold every value of each header (in order), ``trusted`` the configured proxies."""
    networks = _trusted(tuple(trusted))
    if not networks:
        return peer or "unknown"  # the default: no header is ever read, so nothing to parse
    peer_addr = _peer(peer)
    if peer_addr is None:
        return peer or "unknown"

    def is_trusted(addr: Address) -> bool:
        return any(addr in net for net in networks)

    if not is_trusted(peer_addr):
        return str(peer_addr)
    chain = x_forwarded_for(x_forwarded) if x_forwarded else forwarded_for(forwarded) if forwarded else []
    nearest = peer_addr  # the closest hop known to be real
    for entry in reversed(chain[-MAX_HOPS:]):
        addr = _address(entry)
        if addr is None:
            # A trusted proxy wrote something that is not an address: nothing further left can be believed.
            return str(nearest)
        if not is_trusted(addr):
            return str(addr)
        nearest = addr
    # Every hop is one of our proxies (a client inside the proxies' network): the farthest one we saw.
    return str(nearest)


def of_connection(conn: ASGIConnection[Any, Any, Any, Any], trusted: Sequence[str]) -> str:
    """:func:`client_address` of a Litestar request or WebSocket: the one place GraphQL (``Context.client_key``)
    and the plain HTTP routes get the caller's address from."""
    client = conn.client
    headers = conn.headers
    return client_address(
        client.host if client is not None else None,
        headers.getall("x-forwarded-for", []),
        headers.getall("forwarded", []),
        trusted,
    )
