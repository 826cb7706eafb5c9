"""The edge's send and receive fast paths against the real pieces: libsrtp sessions and loopback UDP sockets on a
real asyncio loop."""

from __future__ import annotations

import asyncio
import os
import socket
import struct

import pylibsrtp
import pytest

from edge.rtp_hooks import DRAIN_MAX, RECEIVE_BUFFER_BYTES, _drain_when_readable, _fast_protect

KEY = bytes(range(30))  # AES-128 key + 112-bit salt (RFC 3711 section 8.2)


def _session(direction: int) -> pylibsrtp.Session:
    return pylibsrtp.Session(policy=pylibsrtp.Policy(key=KEY, ssrc_type=direction))


def _rtp(seq: int, size: int = 1_100) -> bytes:
    return struct.pack("!BBHII", 0x80, 96, seq, seq * 3000, 0x1234) + os.urandom(size - 12)


def test_fast_protect_gives_the_bytes_pylibsrtp_gives_and_unprotects_back() -> None:
    ours, theirs = _session(pylibsrtp.Policy.SSRC_ANY_OUTBOUND), _session(pylibsrtp.Policy.SSRC_ANY_OUTBOUND)
    protect = _fast_protect(ours)
    assert protect != ours.protect  # the lean path, not the fallback
    receiver = _fast_protect(_session(pylibsrtp.Policy.SSRC_ANY_INBOUND), unprotect=True)
    for seq in range(1, 50):
        packet = _rtp(seq)
        protected = protect(packet)
        # Same key, same index: SRTP is deterministic, so the two paths must agree byte for byte.
        assert protected == theirs.protect(packet)
        assert len(protected) == len(packet) + 10  # HMAC-SHA1-80 tag (RFC 3711 section 4.2)
        assert receiver(protected) == packet


def test_fast_unprotect_refuses_a_replay_and_a_forgery_as_pylibsrtp_does() -> None:
    protect = _fast_protect(_session(pylibsrtp.Policy.SSRC_ANY_OUTBOUND))
    unprotect = _fast_protect(_session(pylibsrtp.Policy.SSRC_ANY_INBOUND), unprotect=True)
    protected = protect(_rtp(7))
    unprotect(protected)
    with pytest.raises(pylibsrtp.Error, match="replay"):
        unprotect(protected)
    forged = protect(_rtp(8))
    with pytest.raises(pylibsrtp.Error, match="auth"):
        unprotect(forged[:-1] + bytes([forged[-1] ^ 1]))


def test_fast_protect_refuses_a_packet_longer_than_the_buffer() -> None:
    protect = _fast_protect(_session(pylibsrtp.Policy.SSRC_ANY_OUTBOUND))
    with pytest.raises(ValueError, match="too long"):
        protect(_rtp(1, size=64 * 1024))


def test_a_drained_socket_reads_a_backlog_in_few_wakeups_with_a_large_buffer() -> None:
    async def run() -> tuple[list[bytes], int, int]:
        loop = asyncio.get_running_loop()
        got: list[bytes] = []
        transport, _ = await loop.create_datagram_endpoint(asyncio.DatagramProtocol, local_addr=("127.0.0.1", 0))
        wakeups = 0

        def received(data: bytes, addr: object) -> None:
            got.append(data)

        _drain_when_readable(transport, received)
        sock = transport.get_extra_info("socket")
        size = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        count = 3 * DRAIN_MAX + 5
        for i in range(count):  # queued before the loop looks: one readiness sees them all
            sender.sendto(i.to_bytes(4, "big"), sock.getsockname())
        while len(got) < count and wakeups < 50:
            await asyncio.sleep(0)
            wakeups += 1
        sender.close()
        transport.close()
        return got, wakeups, size

    got, wakeups, size = asyncio.run(run())
    assert [int.from_bytes(d, "big") for d in got] == list(range(3 * DRAIN_MAX + 5))
    assert wakeups < 3 * DRAIN_MAX  # far fewer loop turns than datagrams (asyncio's reader takes one per turn)
    # Linux doubles the request and caps it at net.core.rmem_max; either way it is above the ~208 KB default.
    with open("/proc/sys/net/core/rmem_max") as f:
        assert size >= min(RECEIVE_BUFFER_BYTES, int(f.read()))
