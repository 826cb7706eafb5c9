"""Meetings only members of the owner's company may join: people signed in with an identity at the same
OpenID provider as the meeting's owner (docs/sso.md, "Meetings that require single sign-on")."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from api.errors import ForbiddenError
from api.meetings.service import owned_for_update
from api.security import Principal
from api.services import Services
from api.sso.providers import provider_named
from dbschema.sso import MeetingSsoRequirement, UserIdentity


@dataclass(frozen=True, slots=True)
class Requirement:
    meeting_id: str
    provider: str | None
    """The provider joiners must have signed in with; None: anyone the meeting's other settings let in."""


async def set_required(svc: Services, principal: Principal | None, meeting_id: str, required: bool) -> Requirement:
    """The meeting's host (or a co-host who may update it) turns the requirement on or off; on, it names the
    provider of the meeting's owner, who must sign in with one."""
    async with svc.db.write() as tx:
        m = await owned_for_update(tx.session, principal, meeting_id)
        row = await tx.session.get(MeetingSsoRequirement, m.id)
        if not required:
            if row is not None:
                await tx.session.delete(row)
            return Requirement(m.id, None)
        owner_identities = (
            (await tx.session.execute(select(UserIdentity.provider).where(UserIdentity.user_id == m.host_user_id)))
            .scalars()
            .all()
        )
        known = [n for n in owner_identities if provider_named(svc.settings.oidc_providers, n) is not None]
        if not known:
            raise ForbiddenError(
                "only a meeting whose owner signs in with a company account (single sign-on) can require it"
            )
        if row is None:
            row = MeetingSsoRequirement(meeting_id=m.id, provider=known[0])
            tx.session.add(row)
        return Requirement(m.id, row.provider)


async def requirement(svc: Services, meeting_id: str) -> Requirement:
    async with svc.db.read() as session:
        row = await session.get(MeetingSsoRequirement, meeting_id)
    return Requirement(meeting_id, row.provider if row else None)
