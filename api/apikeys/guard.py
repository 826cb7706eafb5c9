"""API keys on /graphql: resolve the key (one primary-key read and its rate limit) once per operation, before
any resolver runs, and refuse the whole operation unless the key's scopes cover every root field it selects.

The GraphQL context's ``principal`` is synchronous (JWT sessions need no I/O); a key needs the database, so this
extension fills the context's principal ahead of the resolvers. Scopes are checked on root fields only: a key
that may read a meeting reads what the meeting type shows its owner.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from graphql import ExecutionResult, FieldNode, GraphQLError, OperationDefinitionNode
from strawberry.extensions import SchemaExtension

from api.apikeys import service
from api.apikeys.scopes import GRAPHQL_FIELDS
from api.errors import AppError, ForbiddenError
from api.graphql.context import Context


def _root_fields(document: object, operation_name: str | None) -> list[str]:
    names: list[str] = []
    for definition in getattr(document, "definitions", ()):
        if not isinstance(definition, OperationDefinitionNode):
            continue
        if operation_name is not None and (definition.name is None or definition.name.value != operation_name):
            continue
        for selection in definition.selection_set.selections:
            # Fragments at the root are refused for keys: their fields would escape this check.
            names.append(selection.name.value if isinstance(selection, FieldNode) else "...")
    return names


def _refusal(error: AppError) -> GraphQLError:
    ext: dict[str, object] = {"code": error.code.value}
    if error.retry_after_s is not None:
        ext["retryAfter"] = error.retry_after_s
    return GraphQLError(error.message, original_error=error, extensions=ext)


class ApiKeyGuard(SchemaExtension):
    async def on_execute(self) -> AsyncIterator[None]:
        ec = self.execution_context
        context = ec.context
        token = context.bearer() if isinstance(context, Context) else None
        if isinstance(context, Context) and token is not None and service.looks_like_key(token):
            try:
                principal = await service.authenticate(context.services, token)
                for name in _root_fields(ec.graphql_document, ec.operation_name):
                    scope = GRAPHQL_FIELDS.get(name)
                    if scope is None:
                        raise ForbiddenError(f"API keys may not use {name}")
                    if scope and scope not in (principal.scopes or ()):
                        raise ForbiddenError(f"this API key lacks the scope {scope} (needed by {name})")
                context.principal_cache, context.principal_resolved = principal, True
            except AppError as error:
                context.key_error = error  # subscriptions cannot be answered here: their resolvers meet it
                ec.result = ExecutionResult(data=None, errors=[_refusal(error)])
        yield
