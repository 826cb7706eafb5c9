from __future__ import annotations

import strawberry

from dbschema.models import User as UserRow


@strawberry.type
class User:
    id: strawberry.ID
    email: str
    display_name: str

    @classmethod
    def from_row(cls, u: UserRow) -> User:
        return cls(id=strawberry.ID(u.id), email=u.email, display_name=u.display_name)


@strawberry.type
class AuthPayload:
    access_token: str
    refresh_token: str
    expires_in: int = strawberry.field(description="Seconds until the access token expires.")
    user: User


@strawberry.input
class SignUpInput:
    email: str
    password: str
    display_name: str


@strawberry.input
class LogInInput:
    email: str
    password: str
