from __future__ import annotations

import pytest

from api.client_address import (
    MAX_HOPS,
    TrustedProxiesError,
    client_address,
    forwarded_for,
    parse_trusted,
    x_forwarded_for,
)
from api.settings import Settings

PROXIES = ("10.0.0.0/8", "127.0.0.1", "2001:db8:ffff::/48")


def xff(peer: str, *values: str, trusted: tuple[str, ...] = PROXIES) -> str:
    return client_address(peer, list(values), [], trusted)


def fwd(peer: str, *values: str, trusted: tuple[str, ...] = PROXIES) -> str:
    return client_address(peer, [], list(values), trusted)


def test_without_trusted_proxies_the_peer_is_the_client_whatever_the_headers() -> None:
    for peer in ("127.0.0.1", "10.1.1.1", "::1", "203.0.113.5", "::ffff:127.0.0.1"):
        assert client_address(peer, ["198.51.100.1"], ["for=198.51.100.2"], ()) == peer


def test_an_untrusted_peer_is_the_client_even_with_proxies_configured() -> None:
    assert xff("203.0.113.5", "198.51.100.1") == "203.0.113.5"
    assert fwd("192.0.2.1", "for=198.51.100.1") == "192.0.2.1"


def test_right_most_untrusted_address_of_the_chain() -> None:
    assert xff("127.0.0.1", "198.51.100.1") == "198.51.100.1"
    assert xff("127.0.0.1", "192.0.2.66, 198.51.100.1, 10.0.0.2") == "198.51.100.1"  # forged left part ignored
    assert xff("127.0.0.1", "192.0.2.66", "198.51.100.1,10.0.0.2") == "198.51.100.1"  # several header lines
    assert xff("10.0.0.9", " 198.51.100.1 ,  10.3.3.3 ") == "198.51.100.1"


def test_ipv6_and_mapped_addresses() -> None:
    assert xff("::ffff:127.0.0.1", "2001:db8::5") == "2001:db8::5"
    assert xff("127.0.0.1", "2001:db8:ffff::1, ::ffff:198.51.100.7") == "198.51.100.7"
    assert xff("2001:db8:ffff::9", "2001:DB8::0:5") == "2001:db8::5"  # normalised: one bucket per address
    assert xff("127.0.0.1", "[2001:db8::5]:443") == "2001:db8::5"
    assert xff("127.0.0.1", "198.51.100.1:5555") == "198.51.100.1"


def test_rfc_7239_forwarded() -> None:
    assert fwd("127.0.0.1", 'for="[2001:db8:cafe::17]:4711";proto=https') == "2001:db8:cafe::17"
    assert fwd("127.0.0.1", "for=192.0.2.60;proto=http;by=203.0.113.43, for=10.0.0.1") == "192.0.2.60"
    assert fwd("127.0.0.1", "For=192.0.2.60", "for=10.2.2.2") == "192.0.2.60"  # names are case-insensitive
    assert fwd("127.0.0.1", 'for=192.0.2.9, for="_hidden"') == "127.0.0.1"  # obfuscated: stop at our proxy
    assert fwd("127.0.0.1", 'for="198.51.100.1, 10.0.0.1";by=x') == "127.0.0.1"  # a comma inside quotes


def test_x_forwarded_for_wins_over_forwarded_when_both_are_sent() -> None:
    assert client_address("127.0.0.1", ["198.51.100.1"], ["for=192.0.2.1"], PROXIES) == "198.51.100.1"


def test_all_hops_trusted_gives_the_farthest_one() -> None:
    assert xff("127.0.0.1", "10.0.0.3, 10.0.0.2") == "10.0.0.3"
    assert xff("127.0.0.1") == "127.0.0.1"  # a trusted peer that forwarded nothing


@pytest.mark.parametrize(
    "garbage",
    [
        "unknown",
        "",
        "not an ip",
        "999.1.1.1",
        "1.2.3",
        "٣.٣.٣.٣",
        "１.１.１.１",
        "fe80::1%eth0",
        "[2001:db8::1",
        "[2001:db8::1]x",
        "1.1.1.1\x00",
        "1" * 5000,
        "0x7f.0.0.1",
    ],
)
def test_garbage_entries_stop_the_walk_at_the_nearest_real_hop(garbage: str) -> None:
    assert xff("127.0.0.1", garbage) == "127.0.0.1"
    assert xff("127.0.0.1", f"198.51.100.1, {garbage}, 10.0.0.7") == "10.0.0.7"
    assert xff("127.0.0.1", f"{garbage}, 198.51.100.1") == "198.51.100.1"  # left of the client: never read
    assert fwd("127.0.0.1", f"for={garbage}") == "127.0.0.1"


def test_long_chains_and_headers_are_bounded() -> None:
    chain = ", ".join(["10.0.0.1"] * 10_000)
    assert xff("127.0.0.1", "198.51.100.1, " + chain) == "10.0.0.1"  # more hops than MAX_HOPS: not walked to
    assert len(x_forwarded_for(["1.1.1.1," * 100_000])) < 2000
    assert len(forwarded_for(["for=1.1.1.1," * 100_000])) < 2000
    assert xff("127.0.0.1", ", ".join(["198.51.100.1"] + ["10.0.0.1"] * (MAX_HOPS - 1))) == "198.51.100.1"


def test_peer_that_is_not_an_address() -> None:
    assert client_address(None, ["198.51.100.1"], [], PROXIES) == "unknown"
    assert client_address("testclient", ["198.51.100.1"], [], PROXIES) == "testclient"


@pytest.mark.parametrize("entry", ["10.0.0.0/33", "localhost", "10.0.0.0/8/8", "٣.٣.٣.٣", "*"])
def test_bad_trusted_entries_stop_the_start(entry: str) -> None:
    with pytest.raises(TrustedProxiesError):
        parse_trusted([entry])
    with pytest.raises(TrustedProxiesError):
        Settings.from_env({"API_TRUSTED_PROXIES": f"127.0.0.1,{entry}"})


def test_settings_read_the_list() -> None:
    assert Settings.from_env({}).trusted_proxies == ()
    s = Settings.from_env({"API_TRUSTED_PROXIES": " 127.0.0.1 , 10.0.0.0/8,,::1 "})
    assert s.trusted_proxies == ("127.0.0.1", "10.0.0.0/8", "::1")
    assert len(parse_trusted(s.trusted_proxies)) == 3
