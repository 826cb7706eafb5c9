"""api/sso/linking.py: which account an identity signs in to, every branch."""

from __future__ import annotations

import pytest

from api.sso.id_token import IdentityClaims
from api.sso.linking import Create, Link, Refuse, SignIn, decide
from api.sso.providers import OidcProvider

ACME = OidcProvider("acme", "https://id.acme.test", "c", "s", ("acme.test", "acme.example"), label="Acme ID")


def _claims(email: str | None = "ann@acme.test", verified: bool = True, name: str | None = "Ann") -> IdentityClaims:
    return IdentityClaims("https://id.acme.test", "sub-1", email, verified, name)


def test_a_known_identity_signs_in_whatever_its_address_says_now() -> None:
    for claims in (_claims(), _claims(email=None), _claims(email="x@elsewhere.test", verified=False)):
        assert decide(ACME, claims, linked_user_id="u1", email_user_id="u2") == SignIn("u1")


def test_a_verified_address_of_the_domain_links_or_creates() -> None:
    assert decide(ACME, _claims(), linked_user_id=None, email_user_id="u2") == Link("u2", "ann@acme.test")
    assert decide(ACME, _claims(), linked_user_id=None, email_user_id=None) == Create("ann@acme.test", "Ann")
    made = decide(ACME, _claims(email="bo@acme.example", name=None), linked_user_id=None, email_user_id=None)
    assert made == Create("bo@acme.example", "bo")  # no name: the address's local part


@pytest.mark.parametrize("existing", [None, "u2"])
def test_an_unverified_address_neither_links_nor_creates(existing: str | None) -> None:
    decision = decide(ACME, _claims(verified=False), linked_user_id=None, email_user_id=existing)
    assert isinstance(decision, Refuse) and "not verified" in decision.reason


@pytest.mark.parametrize("email", ["ann@elsewhere.test", "ann@sub.acme.test", "ann@acme.test.evil"])
def test_another_domain_is_refused(email: str) -> None:
    decision = decide(ACME, _claims(email=email), linked_user_id=None, email_user_id="u2")
    assert isinstance(decision, Refuse) and "may only sign in" in decision.reason


def test_no_address_is_refused() -> None:
    decision = decide(ACME, _claims(email=None), linked_user_id=None, email_user_id=None)
    assert isinstance(decision, Refuse) and "e-mail" in decision.reason


def test_a_long_name_is_cut_to_the_display_name_limit() -> None:
    made = decide(ACME, _claims(name="N" * 200), linked_user_id=None, email_user_id=None)
    assert isinstance(made, Create) and len(made.display_name) == 64
