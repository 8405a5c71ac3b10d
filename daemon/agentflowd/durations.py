"""Durations written in skills and on the command line: `300s`, `5m`, `24h`, `1h30m`, `250ms`, or a bare number of seconds."""

from __future__ import annotations

import re

from agentflowd.errors import UsageError

_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_PART = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h|d|w)\s*")


class DurationError(UsageError):
    """A duration could not be read."""


def parse_duration(value: str | int | float) -> float:
    """Seconds in `value`; raises DurationError for anything that is not a positive duration."""
    if isinstance(value, bool):
        raise DurationError(f"not a duration: {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        text = value.strip()
        if re.fullmatch(r"[0-9]+(\.[0-9]+)?", text):
            seconds = float(text)
        else:
            pos, seconds = 0, 0.0
            while pos < len(text):
                part = _PART.match(text, pos)
                if part is None or part.end() == pos:
                    raise DurationError(
                        f"not a duration: {value!r} (use a number and a unit: 300s, 5m, 24h, 7d)"
                    )
                seconds += float(part.group(1)) * _UNIT_SECONDS[part.group(2)]
                pos = part.end()
            if not text:
                raise DurationError("empty duration")
    if seconds <= 0:
        raise DurationError(f"a duration must be positive: {value!r}")
    return seconds
