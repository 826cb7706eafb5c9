"""A host's lock on a shared document (api/collab/lock.py): who may change it, and its one-byte form."""

from __future__ import annotations

import itertools

import pytest

from api.collab.lock import UNLOCKED, Lock


@pytest.mark.parametrize(("host", "presenter"), list(itertools.product([False, True], repeat=2)))
def test_who_may_change_a_document_under_each_lock(host: bool, presenter: bool) -> None:
    assert UNLOCKED.lets(host=host, presenter=presenter)
    assert Lock(locked=True).lets(host=host, presenter=presenter) is host
    assert Lock(locked=True, presenters=True).lets(host=host, presenter=presenter) is (host or presenter)


def test_presenters_only_mean_something_while_locked() -> None:
    assert Lock(locked=False, presenters=True) == UNLOCKED
    assert Lock(locked=False, presenters=True).lets(host=False, presenter=False)


@pytest.mark.parametrize("lock", [UNLOCKED, Lock(True), Lock(True, True)])
def test_the_byte_between_processes_and_the_notice_round_trip(lock: Lock) -> None:
    assert Lock.from_byte(lock.to_byte()) == lock
    notice = lock.notice()
    assert notice["type"] == "locked"
    assert Lock(bool(notice["locked"]), bool(notice["presenters"])) == lock


def test_an_unknown_byte_reads_as_unlocked() -> None:
    assert Lock.from_byte(b"9") == UNLOCKED
