"""Typed errors of the swarm engine.

Two families: problems found before anything runs (a plan that cannot work: ConfigError /
CapabilityError) and failures of one agent attempt (AgentFailure and its kinds), which the
scheduler records, retries when `retryable`, and turns into an account of the run.
"""

from __future__ import annotations

from agentflowd.errors import AgentflowError, ConfigError


class SwarmConfigError(ConfigError):
    """The skill's swarm cannot be built as written (unknown type, bad executor, bad output)."""


class CapabilityError(SwarmConfigError):
    """A task needs a capability that no agent in the swarm has; raised before anything runs."""


class AgentFailure(AgentflowError):
    """One attempt of one agent failed. `retryable` tells the scheduler whether trying again helps."""

    retryable: bool = True
    kind: str = "failed"

    def __init__(self, message: str, *, retryable: bool | None = None) -> None:
        super().__init__(message)
        if retryable is not None:
            self.retryable = retryable


class AgentTimeout(AgentFailure):
    kind = "timeout"


class ExecutorError(AgentFailure):
    """The executor could not run the agent at all (missing program, bad answer, HTTP error)."""


class BudgetExceeded(AgentFailure):
    """A turn, token or dollar limit was reached; more attempts would only spend more."""

    retryable = False
    kind = "budget"

    def __init__(self, scope: str, what: str, used: float, limit: float) -> None:
        self.scope = scope  # "swarm" or an agent id
        self.what = what  # "turns", "tokens" or "usd"
        self.used = used
        self.limit = limit
        where = "the swarm" if scope == "swarm" else f"agent {scope}"
        super().__init__(f"budget exceeded: {where} used {_fmt(used, what)} of {_fmt(limit, what)}")


def _fmt(value: float, what: str) -> str:
    if what == "usd":
        return f"${value:.4f}"
    return f"{int(value)} {what}"
