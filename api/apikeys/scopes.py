"""What an API key may do. A key acts as the account that made it, narrowed to its scopes: the domain services
still decide what that account may do; scopes only take away.

REST handlers name their scope (api/rest); GraphQL root fields are mapped here. A root field absent from the map
is refused to every key (default deny): account and key management, joining meetings as a person, subscriptions.
"""

from __future__ import annotations

from api.errors import BadInputError, ForbiddenError
from api.security import Principal, UserPrincipal

SCOPES: dict[str, str] = {
    "users:read": "Read the account the key belongs to.",
    "meetings:read": "Read and list the account's meetings.",
    "meetings:write": "Create, update, cancel and end meetings.",
    "participants:read": "List a meeting's participants.",
    "participants:write": "Admit and remove participants.",
    "recordings:read": "List and read recordings, their download links and transcripts.",
    "recordings:write": "Delete and share recordings.",
    "webhooks:read": "List the account's webhook endpoints and their delivery logs.",
    "webhooks:write": "Create, change and delete webhook endpoints, rotate secrets, redeliver and replay.",
}

GRAPHQL_FIELDS: dict[str, str] = {
    # queries
    "me": "users:read",
    "meeting": "meetings:read",
    "myMeetings": "meetings:read",
    "recordings": "recordings:read",
    "recording": "recordings:read",
    "webhookEndpoints": "webhooks:read",
    "webhookDeliveries": "webhooks:read",
    # mutations
    "createMeeting": "meetings:write",
    "updateMeeting": "meetings:write",
    "cancelMeeting": "meetings:write",
    "endMeeting": "meetings:write",
    "admitParticipant": "participants:write",
    "removeParticipant": "participants:write",
    "deleteRecording": "recordings:write",
    "shareRecording": "recordings:write",
    "createWebhookEndpoint": "webhooks:write",
    "updateWebhookEndpoint": "webhooks:write",
    "deleteWebhookEndpoint": "webhooks:write",
    "rotateWebhookSecret": "webhooks:write",
    "verifyWebhookEndpoint": "webhooks:write",
    "redeliverWebhook": "webhooks:write",
    "replayWebhooks": "webhooks:write",
    "__typename": "",
}
"""GraphQL root field -> the scope a key needs for it ("" : none)."""


def parse(scopes: list[str]) -> frozenset[str]:
    unknown = sorted(set(scopes) - SCOPES.keys())
    if unknown:
        raise BadInputError("scopes", f"unknown scopes {', '.join(unknown)} (known: {', '.join(SCOPES)})")
    if not scopes:
        raise BadInputError("scopes", "a key needs at least one scope")
    return frozenset(scopes)


def require(principal: Principal | None, scope: str) -> None:
    """FORBIDDEN when ``principal`` is an API key without ``scope``; sessions and anonymous callers pass (the
    domain services decide what they may do)."""
    if isinstance(principal, UserPrincipal) and principal.scopes is not None and scope not in principal.scopes:
        raise ForbiddenError(f"this API key lacks the scope {scope}")


def is_key(principal: Principal | None) -> bool:
    return isinstance(principal, UserPrincipal) and principal.key_id is not None
