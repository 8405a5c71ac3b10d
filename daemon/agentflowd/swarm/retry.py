"""Retry policy: how many attempts, and how long to wait between them."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Literal

from agentflowd.durations import parse_duration

Backoff = Literal["exponential", "linear", "fixed"]


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 1
    backoff: Backoff = "exponential"
    initial_delay: float = 1.0
    max_delay: float = 30.0
    jitter: float = 0.5  # the delay is drawn from [(1 - jitter) * d, d]

    def delay(self, failed_attempts: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after the `failed_attempts`-th failure (1-based), jitter applied."""
        n = max(failed_attempts, 1)
        if self.backoff == "exponential":
            base = self.initial_delay * (2 ** (n - 1))
        elif self.backoff == "linear":
            base = self.initial_delay * n
        else:
            base = self.initial_delay
        base = min(base, self.max_delay)
        if self.jitter <= 0:
            return base
        draw = (rng or random).random()
        return base * (1.0 - self.jitter * draw)

    @classmethod
    def from_mapping(cls, data: Any) -> RetryPolicy:
        if not isinstance(data, dict):
            return cls()
        kwargs: dict[str, Any] = {}
        if "max_attempts" in data:
            kwargs["max_attempts"] = int(data["max_attempts"])
        if "backoff" in data:
            kwargs["backoff"] = data["backoff"]
        if "initial_delay" in data:
            kwargs["initial_delay"] = parse_duration(data["initial_delay"])
        if "max_delay" in data:
            kwargs["max_delay"] = parse_duration(data["max_delay"])
        return cls(**kwargs)

    def to_json(self) -> dict[str, Any]:
        return {
            "max_attempts": self.max_attempts,
            "backoff": self.backoff,
            "initial_delay": self.initial_delay,
            "max_delay": self.max_delay,
        }
