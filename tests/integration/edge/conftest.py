from __future__ import annotations

from collections.abc import Iterator

import pytest

from edge.ice import use_host_addresses
from tests.support.media import CodecSpy, spy_on_codecs


@pytest.fixture(autouse=True)
def media_on_loopback_only() -> Iterator[None]:
    """Every peer in these tests offers only 127.0.0.1, so no media packet leaves loopback."""
    use_host_addresses(["127.0.0.1"])
    yield
    use_host_addresses(None)


@pytest.fixture
def codec_spy() -> Iterator[CodecSpy]:
    """Which receivers made a decoder and which senders an encoder during the test."""
    with spy_on_codecs() as spy:
        yield spy
