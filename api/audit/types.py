from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from api.audit.service import Page
from dbschema.audit import AuditEntry as AuditRow


@strawberry.type(
    description="Who did it. `kind`: USER, GUEST, ANONYMOUS (no sign-in: a failed sign-in, a signed "
    "playback link) or SYSTEM (the server itself, e.g. auto-recording)."
)
class AuditActor:
    kind: str
    user_id: strawberry.ID | None
    participant_id: strawberry.ID | None
    name: str | None = strawberry.field(description='Display name at the time ("deleted user" once deleted).')
    client_address: str | None = strawberry.field(
        description="Client IP address; shown only on your own actions (and on your account's sign-ins)."
    )


@strawberry.type(description="One audit log entry.")
class AuditEntry:
    id: strawberry.ID
    at: datetime
    action: str = strawberry.field(
        description="Stable machine-readable name, `<thing>.<verb>`: participant.muted, meeting.locked, "
        "recording.viewed, account.sign_in_failed… (docs/privacy.md lists them)."
    )
    meeting_id: strawberry.ID | None
    actor: AuditActor
    target_kind: str | None = strawberry.field(description="participant | meeting | recording | poll | account")
    target_id: strawberry.ID | None
    details: JSON = strawberry.field(description="Small JSON object; keys depend on the action.")

    @classmethod
    def of(cls, row: AuditRow, viewer_id: str) -> AuditEntry:
        own = row.actor_user_id == viewer_id or row.user_id == viewer_id
        return cls(
            id=strawberry.ID(str(row.pos)),
            at=row.at,
            action=row.action,
            meeting_id=strawberry.ID(row.meeting_id) if row.meeting_id else None,
            actor=AuditActor(
                kind=row.actor_kind.upper(),
                user_id=strawberry.ID(row.actor_user_id) if row.actor_user_id else None,
                participant_id=strawberry.ID(row.actor_participant_id) if row.actor_participant_id else None,
                name=row.actor_name,
                client_address=row.client_address if own else None,
            ),
            target_kind=row.target_kind,
            target_id=strawberry.ID(row.target_id) if row.target_id else None,
            details=row.details or {},  # type: ignore[arg-type]
        )


@strawberry.type
class AuditLogConnection:
    items: list[AuditEntry] = strawberry.field(description="Newest first.")
    next_cursor: str | None = strawberry.field(description="Pass as `after` for older entries; null on the last page.")

    @classmethod
    def of(cls, page: Page) -> AuditLogConnection:
        return cls(items=[AuditEntry.of(r, page.viewer_id) for r in page.entries], next_cursor=page.next_cursor)
