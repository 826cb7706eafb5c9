"""Single sign-on in GraphQL: which providers exist, and trading a finished sign-in's ticket for tokens."""

from __future__ import annotations

import strawberry

from api.accounts.resolvers import auth_payload
from api.accounts.types import AuthPayload
from api.graphql.context import ctx
from api.sso import meetings, service
from api.sso.providers import provider_named
from api.sso.types import MeetingSsoRequirement, SsoProvider


@strawberry.type
class SsoQuery:
    @strawberry.field(
        description="The identity providers configured for single sign-on (empty: it is off). Their e-mail domains "
        "are not listed; GET /auth/sso/start?email=<address> picks the one for an address."
    )
    def sso_providers(self, info: strawberry.Info) -> list[SsoProvider]:
        return [SsoProvider.of(p) for p in ctx(info).services.settings.oidc_providers]


@strawberry.type
class SsoMutation:
    @strawberry.mutation(
        description="Trade the one-time ticket a finished single sign-on left in the landing page's URL "
        "(#sso_ticket=…) for tokens. A ticket works once, for two minutes."
    )
    async def redeem_sso_ticket(self, info: strawberry.Info, ticket: str) -> AuthPayload:
        return auth_payload(await service.redeem(ctx(info).services, ticket))

    @strawberry.mutation(
        description="Let only people signed in through the owner's identity provider join (its members); the "
        "owner must sign in with single sign-on. Off again with required: false. People already in stay."
    )
    async def set_meeting_sso_required(
        self, info: strawberry.Info, meeting_id: strawberry.ID, required: bool
    ) -> MeetingSsoRequirement:
        c = ctx(info)
        r = await meetings.set_required(c.services, c.principal, str(meeting_id), required)
        provider = provider_named(c.services.settings.oidc_providers, r.provider) if r.provider else None
        return MeetingSsoRequirement(
            meeting_id=strawberry.ID(r.meeting_id),
            required=r.provider is not None,
            provider=(provider.label or provider.name) if provider else r.provider,
        )


QUERIES: tuple[type, ...] = (SsoQuery,)
MUTATIONS: tuple[type, ...] = (SsoMutation,)
SUBSCRIPTIONS: tuple[type, ...] = ()
