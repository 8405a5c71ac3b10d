"""Typed exceptions raised by library code. Only the CLI turns them into messages and exit codes."""

from __future__ import annotations


class AgentflowError(Exception):
    """Base of every error agentflowd raises on purpose."""


class UsageError(AgentflowError):
    """The caller asked for something that cannot be done as asked (bad path, bad name, bad flag)."""


class NotFoundError(AgentflowError):
    """A named thing (skill, memory key, run) does not exist."""


class ConfigError(AgentflowError):
    """A project file (skill, agent, config) is invalid in a way that stops the operation."""


class NotBuiltError(AgentflowError):
    """The capability exists in the design but is not built yet; said plainly, never faked."""
