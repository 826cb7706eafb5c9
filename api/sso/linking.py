"""Which account an OpenID identity signs in to: a pure policy (no I/O), tested exhaustively.

The rules, in order (docs/sso.md, "Linking rules"):
1. An identity seen before (issuer + subject) signs in to the account it is linked to, whatever its e-mail says
   now: ``sub`` is the stable key (OIDC Core section 5.7 — e-mail addresses can change and be reassigned).
2. Otherwise the provider must share an e-mail address of one of *its* domains: a provider configured for
   acme.test cannot vouch for someone's gmail.com mailbox.
3. And the provider must say it verified that address (``email_verified``): an unverified address never
   takes over an existing account, and never claims an address for a new one either (the real owner could no
   longer sign up).
4. A verified address of an existing account links this identity to it (the provider is authoritative for the
   domain); otherwise a new account is made just in time.
"""

from __future__ import annotations

from dataclasses import dataclass

from api.sso.id_token import IdentityClaims
from api.sso.providers import OidcProvider


@dataclass(frozen=True, slots=True)
class SignIn:
    user_id: str


@dataclass(frozen=True, slots=True)
class Link:
    user_id: str
    email: str


@dataclass(frozen=True, slots=True)
class Create:
    email: str
    display_name: str


@dataclass(frozen=True, slots=True)
class Refuse:
    reason: str


Decision = SignIn | Link | Create | Refuse


def decide(
    provider: OidcProvider, claims: IdentityClaims, *, linked_user_id: str | None, email_user_id: str | None
) -> Decision:
    """``linked_user_id``: the account this (issuer, subject) is linked to; ``email_user_id``: the account whose
    address is ``claims.email`` (both None when there is none)."""
    if linked_user_id is not None:
        return SignIn(linked_user_id)
    email = claims.email
    if email is None:
        return Refuse(f"{provider.label or provider.name} did not share an e-mail address (the 'email' scope)")
    if not provider.owns(email):
        domains = ", ".join(provider.domains)
        return Refuse(f"{provider.label or provider.name} may only sign in addresses at {domains} (got {email})")
    if not claims.email_verified:
        if email_user_id is not None:
            return Refuse(
                f"an account for {email} exists and {provider.label or provider.name} has not verified that "
                "address, so it cannot sign in to it; verify the address with your identity provider"
            )
        return Refuse(
            f"{provider.label or provider.name} has not verified {email}; an account needs a verified address"
        )
    if email_user_id is not None:
        return Link(email_user_id, email)
    local = email.split("@", 1)[0]
    return Create(email, (claims.name or local)[:64])
