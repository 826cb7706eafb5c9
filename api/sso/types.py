from __future__ import annotations

import strawberry

from api.sso.providers import OidcProvider


@strawberry.type(description="An identity provider people of some e-mail domains sign in with (single sign-on).")
class SsoProvider:
    name: str = strawberry.field(description="Its id: /auth/sso/start?provider=<name> starts a sign-in there.")
    label: str = strawberry.field(description="What a sign-in button says: 'Sign in with <label>'.")

    @classmethod
    def of(cls, p: OidcProvider) -> SsoProvider:
        return cls(name=p.name, label=p.label or p.name)


@strawberry.type(description="Whether joining a meeting needs single sign-on with its owner's identity provider.")
class MeetingSsoRequirement:
    meeting_id: strawberry.ID
    required: bool
    provider: str | None = strawberry.field(
        description="The label of the provider joiners must have signed in with; null when not required."
    )
