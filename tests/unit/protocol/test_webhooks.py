"""Standard Webhooks signing checked against the reference `standardwebhooks` package, and the address policy."""

from __future__ import annotations

import time

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from protocol.webhooks import SendRequest, SendResult, headers, new_secret, refused_address, sign


def test_signatures_verify_with_the_reference_implementation() -> None:
    secret = new_secret()
    body = '{"type":"meeting.started","timestamp":"2026-12-07T10:00:00Z","data":{"meetingId":"m1","seq":1}}'
    h = headers((secret,), "msg_1", int(time.time()), body)
    assert Webhook(secret).verify(body, h) == {
        "type": "meeting.started",
        "timestamp": "2026-12-07T10:00:00Z",
        "data": {"meetingId": "m1", "seq": 1},
    }
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace("m1", "m2"), h)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, h)


def test_a_rotated_secret_signs_beside_the_new_one() -> None:
    old, new = new_secret(), new_secret()
    body = '{"type":"poll.ended"}'
    h = headers((new, old), "msg_2", int(time.time()), body)
    assert h["webhook-signature"].count("v1,") == 2
    Webhook(old).verify(body, h)  # receivers still on the old secret
    Webhook(new).verify(body, h)  # and those already switched


def test_the_signature_covers_id_and_timestamp() -> None:
    secret = new_secret()
    assert sign(secret, "msg_1", 1, "{}") != sign(secret, "msg_2", 1, "{}")
    assert sign(secret, "msg_1", 1, "{}") != sign(secret, "msg_1", 2, "{}")
    assert sign(secret, "msg_1", 1, "{}").startswith("v1,")


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("10.0.0.5", "not a public"),
        ("172.16.3.4", "not a public"),
        ("192.168.1.1", "not a public"),
        ("100.64.0.1", "not a public"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("fd00::1", "not a public"),
        ("0.0.0.0", "not a public"),
        ("224.0.0.1", "not a public"),
    ],
)
def test_internal_addresses_are_refused(address: str, reason: str) -> None:
    why = refused_address(address, ())
    assert why is not None and reason in why


def test_public_addresses_pass_and_the_allow_list_opens_internal_ones() -> None:
    assert refused_address("93.184.216.34", ()) is None
    assert refused_address("2606:4700::1111", ()) is None
    assert refused_address("127.0.0.1", ("127.0.0.1/32",)) is None
    assert refused_address("10.1.2.3", ("10.0.0.0/8",)) is None
    assert refused_address("10.1.2.3", ("127.0.0.1/32",)) is not None


def test_requests_and_results_survive_the_job_queue() -> None:
    req = SendRequest("https://example.com/h", {"webhook-id": "msg_1"}, "{}", ("127.0.0.1/32",), 1.0, 2.0, 100)
    assert SendRequest.from_dict(req.to_dict()) == req
    res = SendResult(503, 12.5, None, "busy")
    assert SendResult.from_dict(res.to_dict()) == res and not res.ok
    assert SendResult(204, 1.0).ok and not SendResult(None, 1.0, "timed out").ok
