"""Typed errors of the memory store."""

from __future__ import annotations

from agentflowd.errors import AgentflowError, NotFoundError, UsageError


class MemoryDBError(AgentflowError):
    """The database could not be opened, read or written (an environment problem: exit code 3)."""


class DatabaseBusyError(MemoryDBError):
    """Other processes held the write lock longer than the retry deadline allowed."""


class EntryNotFoundError(NotFoundError):
    """No live entry under that namespace and key."""


class MemoryUsageError(UsageError):
    """Bad input to the memory store: malformed JSON, empty key, unknown search mode."""
