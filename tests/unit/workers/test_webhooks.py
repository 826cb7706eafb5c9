"""Where a webhook attempt connects (workers/webhooks.py): refused addresses, and the checked address pinned with
the original name kept for Host and TLS. IP literals and /etc/hosts names only: no DNS server is asked."""

from __future__ import annotations

from workers.webhooks import Pinned, destination


async def test_ip_literals_are_pinned_as_they_are() -> None:
    dest = await destination("http://127.0.0.1:8080/hook?x=1", ("127.0.0.1/32",))
    assert dest == Pinned("http://127.0.0.1:8080/hook?x=1", "127.0.0.1:8080", None)
    dest = await destination("https://[::1]/h", ("::1/128",))
    assert dest == Pinned("https://[::1]:443/h", "[::1]", None)


async def test_a_name_connects_to_its_checked_address_and_keeps_its_name() -> None:
    dest = await destination("https://localhost:9443/hook", ("127.0.0.0/8", "::1/128"))
    assert isinstance(dest, Pinned)
    assert dest.url in ("https://127.0.0.1:9443/hook", "https://[::1]:9443/hook")
    assert dest.host_header == "localhost:9443" and dest.sni_hostname == "localhost"


async def test_refusals_say_why() -> None:
    assert await destination("http://127.0.0.1/h", ()) == "127.0.0.1 resolves to 127.0.0.1 is a loopback address"
    assert "link-local" in str(await destination("http://169.254.169.254/latest", ()))
    assert "not an http(s) URL" in str(await destination("file:///etc/passwd", ()))
    assert "bad port" in str(await destination("http://127.0.0.1:99999/h", ("127.0.0.1/32",)))
