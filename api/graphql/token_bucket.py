"""A token bucket: ``rate`` tokens a second up to ``burst``; each message takes one. Sans-I/O: the caller passes
``now`` (monotonic seconds), so tests drive it without sleeping."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class TokenBucket:
    rate: float
    """Tokens added per second (the sustained message rate)."""
    burst: int
    """Bucket size: how many messages may arrive at once after a quiet spell."""
    tokens: float = field(init=False)
    updated: float | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1:
            raise ValueError(f"a token bucket needs rate > 0 and burst >= 1 (got {self.rate}, {self.burst})")
        self.tokens = float(self.burst)

    def take(self, now: float) -> bool:
        """Take one token at ``now``; False (and nothing taken) when the bucket is empty."""
        if self.updated is not None and now > self.updated:
            self.tokens = min(float(self.burst), self.tokens + (now - self.updated) * self.rate)
        if self.updated is None or now > self.updated:
            self.updated = now
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True
