"""``meetmesh.webhooks.verify`` against the Standard Webhooks reference library's signatures."""

from __future__ import annotations

import base64
import json
import secrets
from datetime import UTC, datetime

import pytest
from meetmesh.webhooks import WebhookVerificationError, verify
from standardwebhooks import Webhook

SECRET = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
BODY = json.dumps(
    {
        "type": "recording.ready",
        "timestamp": "2026-12-07T15:00:00Z",
        "data": {"meetingId": "m1", "seq": 9, "subjectId": None, "details": {"recording": {"id": "r1"}}},
    }
).encode()


def signed(secret: str, body: bytes, when: datetime) -> dict[str, str]:
    sig = Webhook(secret).sign("msg_1", when, body.decode())
    return {"Webhook-Id": "msg_1", "Webhook-Timestamp": str(int(when.timestamp())), "Webhook-Signature": sig}


def test_a_reference_signature_verifies_and_decodes() -> None:
    now = datetime.now(UTC)
    d = verify(SECRET, signed(SECRET, BODY, now), BODY)
    assert (d.id, d.type, d.recording_id, d.challenge) == ("msg_1", "recording.ready", "r1", None)
    other = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    overlapping = signed(SECRET, BODY, now)
    overlapping["Webhook-Signature"] = (
        signed(other, BODY, now)["Webhook-Signature"] + " " + overlapping["Webhook-Signature"]
    )
    assert verify(SECRET, overlapping, BODY).id == "msg_1"  # a rotated secret still overlapping


@pytest.mark.parametrize("tamper", ["body", "secret", "old", "missing"])
def test_anything_else_is_refused(tamper: str) -> None:
    now = datetime.now(UTC)
    headers, body, secret = signed(SECRET, BODY, now), BODY, SECRET
    if tamper == "body":
        body = BODY.replace(b"r1", b"r2")
    elif tamper == "secret":
        secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    elif tamper == "old":
        headers = signed(SECRET, BODY, datetime.fromtimestamp(now.timestamp() - 3600, UTC))
    else:
        del headers["Webhook-Signature"]
    with pytest.raises(WebhookVerificationError) as err:
        verify(secret, headers, body)
    assert err.value.code == "BAD_SIGNATURE"
