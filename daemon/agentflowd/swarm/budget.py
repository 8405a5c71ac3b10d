"""Turn, token and dollar budgets, per agent and for the whole swarm, checked inside agent loops.

Executors call `check` before each model turn (is there room for one more?) and `charge` after it
(what did it cost?). Crossing a limit raises BudgetExceeded in the agent that crossed it; crossing
the swarm's limit also calls `on_swarm_exceeded` once, and the engine stops every agent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agentflowd.swarm import events
from agentflowd.swarm.errors import BudgetExceeded
from agentflowd.swarm.model import Usage

WARN_SHARE = 0.8
_WHAT = ("turns", "tokens", "usd")


@dataclass(frozen=True)
class Budget:
    max_turns: int | None = None
    max_tokens: int | None = None
    max_usd: float | None = None

    @property
    def unlimited(self) -> bool:
        return self.max_turns is None and self.max_tokens is None and self.max_usd is None

    def limit(self, what: str) -> float | None:
        return {"turns": self.max_turns, "tokens": self.max_tokens, "usd": self.max_usd}[what]

    def to_json(self) -> dict[str, Any]:
        return {"max_turns": self.max_turns, "max_tokens": self.max_tokens, "max_usd": self.max_usd}

    @classmethod
    def from_mapping(cls, data: Any) -> Budget:
        if not isinstance(data, dict):
            return cls()
        return cls(data.get("max_turns"), data.get("max_tokens"), data.get("max_usd"))


UNLIMITED = Budget()


class _Account:
    __slots__ = ("tokens", "turns", "usd", "warned")

    def __init__(self) -> None:
        self.turns = 0
        self.tokens = 0
        self.usd = 0.0
        self.warned: set[str] = set()

    def used(self, what: str) -> float:
        return self.turns if what == "turns" else self.tokens if what == "tokens" else self.usd


class BudgetMeter:
    def __init__(
        self,
        swarm: Budget = UNLIMITED,
        per_agent: Budget = UNLIMITED,
        *,
        emit: Callable[..., None] | None = None,
        on_swarm_exceeded: Callable[[BudgetExceeded], None] | None = None,
    ) -> None:
        self.swarm = swarm
        self.per_agent = per_agent
        self._emit = emit
        self._on_swarm_exceeded = on_swarm_exceeded
        self._total = _Account()
        self._agents: dict[str, _Account] = {}
        self.exceeded: BudgetExceeded | None = None  # the swarm-level breach, once it happened

    @property
    def active(self) -> bool:
        return not (self.swarm.unlimited and self.per_agent.unlimited)

    def used(self, agent_id: str | None = None) -> dict[str, float]:
        acct = self._total if agent_id is None else self._agents.get(agent_id, _Account())
        return {"turns": acct.turns, "tokens": acct.tokens, "usd": round(acct.usd, 6)}

    def remaining(self, agent_id: str, what: str) -> float | None:
        """Room left for `agent_id` (the tighter of its own and the swarm's), None when unlimited."""
        room: float | None = None
        for budget, acct in (
            (self.per_agent, self._agents.get(agent_id)),
            (self.swarm, self._total),
        ):
            limit = budget.limit(what)
            if limit is None:
                continue
            left = limit - (acct.used(what) if acct is not None else 0)
            room = left if room is None else min(room, left)
        return None if room is None else max(room, 0)

    def check(self, agent_id: str) -> None:
        """Raise BudgetExceeded when `agent_id` has no room for another turn."""
        if self.exceeded is not None:
            raise self.exceeded
        acct = self._agents.get(agent_id)
        for what in _WHAT:
            if acct is not None:
                limit = self.per_agent.limit(what)
                if limit is not None and acct.used(what) >= limit:
                    raise self._breach(agent_id, what, acct.used(what), limit)
            limit = self.swarm.limit(what)
            if limit is not None and self._total.used(what) >= limit:
                raise self._breach("swarm", what, self._total.used(what), limit)

    def charge(self, agent_id: str, usage: Usage) -> None:
        """Record what a turn cost; raise BudgetExceeded when it went over a limit."""
        acct = self._agents.get(agent_id)
        if acct is None:
            acct = self._agents[agent_id] = _Account()
        for target in (acct, self._total):
            target.turns += usage.turns
            target.tokens += usage.tokens
            target.usd += usage.usd
        if not self.active:
            return
        for what in _WHAT:
            self._watch(agent_id, acct, self.per_agent.limit(what), what)
            self._watch("swarm", self._total, self.swarm.limit(what), what)

    def _watch(self, scope: str, acct: _Account, limit: float | None, what: str) -> None:
        if limit is None:
            return
        used = acct.used(what)
        if used > limit:
            raise self._breach(scope, what, used, limit)
        if used >= WARN_SHARE * limit and what not in acct.warned:
            acct.warned.add(what)
            if self._emit is not None:
                self._emit(
                    events.BUDGET_WARNING,
                    None if scope == "swarm" else scope,
                    {"scope": scope, "what": what, "used": used, "limit": limit},
                )

    def _breach(self, scope: str, what: str, used: float, limit: float) -> BudgetExceeded:
        exc = BudgetExceeded(scope, what, used, limit)
        if scope == "swarm" and self.exceeded is None:
            self.exceeded = exc
            if self._emit is not None:
                self._emit(
                    events.BUDGET_EXCEEDED,
                    None,
                    {"scope": scope, "what": what, "used": used, "limit": limit},
                )
            if self._on_swarm_exceeded is not None:
                self._on_swarm_exceeded(exc)
        elif scope != "swarm" and self._emit is not None:
            self._emit(
                events.BUDGET_EXCEEDED,
                scope,
                {"scope": scope, "what": what, "used": used, "limit": limit},
            )
        return exc
