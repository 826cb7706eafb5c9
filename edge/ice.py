"""Which local addresses ICE offers as host candidates.

aioice offers every interface address except loopback. An edge binds media to the addresses its operator
chooses (``EDGE_ICE_ADDRESSES``); tests and single-machine setups use 127.0.0.1 so media never leaves
loopback. aioice has no option for this, so the module-level lookup it calls is replaced, once, for the
process (aioice 0.10).
"""

from __future__ import annotations

from collections.abc import Sequence

import aioice.ice

_original = aioice.ice.get_host_addresses


def use_host_addresses(addresses: Sequence[str] | None) -> None:
    """Offer exactly ``addresses`` as host candidates (None or empty: aioice's default, every interface)."""
    if not addresses:
        aioice.ice.get_host_addresses = _original
        return
    chosen = list(addresses)

    def host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return [a for a in chosen if (":" in a and use_ipv6) or (":" not in a and use_ipv4)]

    aioice.ice.get_host_addresses = host_addresses
