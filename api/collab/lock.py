"""A host's lock on a shared document: who may change it besides the people the access rule already lets in.

Three settings (issue 17: "hosts can limit drawing to hosts and presenters, or lock the board"):

- unlocked: everyone who may write (api/collab/access.py) may change it;
- locked to hosts and presenters: hosts, co-hosts, and people sharing their screen now;
- locked: hosts and co-hosts only.

The lock is stored with the document, crosses processes in one byte (api/collab/fanout.py) and reaches clients as
``{"type": "locked", "locked": bool, "presenters": bool}``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Lock:
    locked: bool = False
    presenters: bool = False
    """While locked: people sharing their screen may change it too."""

    def __post_init__(self) -> None:
        if self.presenters and not self.locked:
            object.__setattr__(self, "presenters", False)  # "presenters too" only means something while locked

    def lets(self, *, host: bool, presenter: bool) -> bool:
        """Whether someone who may otherwise write may change the document under this lock."""
        return not self.locked or host or (self.presenters and presenter)

    def to_byte(self) -> bytes:
        return b"2" if self.presenters else b"1" if self.locked else b"0"

    @staticmethod
    def from_byte(payload: bytes) -> Lock:
        return Lock(payload in (b"1", b"2"), payload == b"2")

    def notice(self) -> dict[str, object]:
        return {"type": "locked", "locked": self.locked, "presenters": self.presenters}


UNLOCKED = Lock()
