"""Access tokens of a deleted account stop working at once, not when they expire.

Access tokens are stateless JWTs (checked without the database), so deleting the user row alone would leave
them valid for up to ``API_ACCESS_TOKEN_TTL``. This extension checks, once per GraphQL operation and only for
signed-in callers, that the account still exists (a primary-key read); if not, the caller is anonymous from
then on: everything that needs an account answers UNAUTHENTICATED. Plain HTTP routes need no check: they act
through meeting membership, which the deletion removed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from strawberry.extensions import SchemaExtension

from api.errors import UnauthenticatedError
from api.graphql.context import Context
from api.privacy.service import user_exists
from api.security import UserPrincipal


class DeletedAccountGuard(SchemaExtension):
    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context.context
        if isinstance(context, Context):
            try:
                principal = context.principal
            except UnauthenticatedError:
                principal = None  # a bad token: resolvers that need one say so themselves
            if isinstance(principal, UserPrincipal) and not await user_exists(context.services, principal.user_id):
                context.principal_cache = None
        yield
