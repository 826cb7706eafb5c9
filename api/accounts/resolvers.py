from __future__ import annotations

import strawberry

from api.accounts import service
from api.accounts.types import AuthPayload, LogInInput, SignUpInput, User
from api.graphql.context import ctx
from api.security import UserPrincipal


def auth_payload(s: service.Session) -> AuthPayload:
    return AuthPayload(
        access_token=s.access_token,
        refresh_token=s.refresh_token,
        expires_in=s.expires_in_s,
        user=User.from_row(s.user),
    )


@strawberry.type
class AccountQuery:
    @strawberry.field(description="The signed-in user; null for guests and anonymous callers.")
    async def me(self, info: strawberry.Info) -> User | None:
        principal = ctx(info).principal
        if not isinstance(principal, UserPrincipal):
            return None
        return User.from_row(await service.get_user(ctx(info).services.db, principal.user_id))


@strawberry.type
class AccountMutation:
    @strawberry.mutation
    async def sign_up(self, info: strawberry.Info, input: SignUpInput) -> AuthPayload:
        c = ctx(info)
        return auth_payload(
            await service.limited_sign_up(
                c.services,
                email=input.email,
                password=input.password,
                display_name=input.display_name,
                client_key=c.client_key,
            )
        )

    @strawberry.mutation
    async def log_in(self, info: strawberry.Info, input: LogInInput) -> AuthPayload:
        c = ctx(info)
        return auth_payload(
            await service.limited_log_in(
                c.services, email=input.email, password=input.password, client_key=c.client_key
            )
        )

    @strawberry.mutation(description="Trade a refresh token for new tokens; the old refresh token stops working.")
    async def refresh_tokens(self, info: strawberry.Info, refresh_token: str) -> AuthPayload:
        svc = ctx(info).services
        return auth_payload(await service.refresh(svc.db, svc.creds, refresh_token=refresh_token))

    @strawberry.mutation(description="Revoke a refresh token. Returns false if it was unknown or revoked already.")
    async def log_out(self, info: strawberry.Info, refresh_token: str) -> bool:
        svc = ctx(info).services
        return await service.log_out(svc.db, svc.creds, refresh_token=refresh_token)
