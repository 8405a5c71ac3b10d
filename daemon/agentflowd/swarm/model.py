"""Plain data of a swarm run: tasks given to agents, their results, messages, proposals and ballots.

A task is what one agent is asked to do once; its JSON form (`Task.to_json`) is exactly what a
`command` agent reads on stdin, so the shape here is a public contract.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

TaskKind = Literal["work", "split", "aggregate", "vote"]
VoteValue = Literal["approve", "reject", "abstain"]
VOTE_VALUES: frozenset[str] = frozenset({"approve", "reject", "abstain"})


@dataclass(frozen=True, slots=True)
class Usage:
    """What one agent run spent. Cost is 0 when the executor cannot know it."""

    turns: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    usd: float = 0.0

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.turns + other.turns,
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.usd + other.usd,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "turns": self.turns,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "usd": round(self.usd, 6),
        }


NO_USAGE = Usage()


@dataclass(frozen=True, slots=True)
class Message:
    """One delivered message. `path` lists every hop, sender first and recipient last."""

    id: int
    sender: str
    recipient: str
    content: Any
    round: int
    path: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "from": self.sender,
            "to": self.recipient,
            "round": self.round,
            "path": list(self.path),
            "content": self.content,
        }


@dataclass(frozen=True, slots=True)
class Proposal:
    """Something the swarm votes on: a finding, an answer, or an explicit proposal."""

    id: str
    kind: Literal["finding", "answer", "proposal"]
    text: str
    by: tuple[str, ...]  # every agent that put it forward
    data: Any = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "kind": self.kind, "text": self.text}
        out["by"] = list(self.by)
        if self.data is not None:
            out["data"] = self.data
        return out


@dataclass(frozen=True, slots=True)
class Ballot:
    vote: VoteValue
    confidence: float | None = None


@dataclass(frozen=True, slots=True)
class OutMessage:
    """A message an agent asks to send; `to` is an agent id or `*` for everyone it may reach."""

    to: str
    content: Any


@dataclass(frozen=True, slots=True)
class Subtask:
    """A piece of work a hierarchy lead hands down."""

    instruction: str
    worker: str | None = None  # an agent id, when the lead names one
    requires: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Report:
    """A result reported up to a lead or a hub."""

    agent: str
    output: Any
    ok: bool = True
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"agent": self.agent, "ok": self.ok, "output": self.output}
        if self.error is not None:
            out["error"] = self.error
        return out


@dataclass(frozen=True, slots=True)
class Task:
    id: str
    kind: TaskKind
    instruction: str
    inputs: Mapping[str, str] = field(default_factory=dict)
    requires: frozenset[str] = frozenset()
    round: int = 1
    inbox: tuple[Message, ...] = ()
    previous: Any = None  # ring: the output handed over by the previous agent
    reports: tuple[Report, ...] = ()  # aggregate: what the level below produced
    proposals: tuple[Proposal, ...] = ()  # vote: what to vote on
    workers: tuple[Mapping[str, Any], ...] = ()  # split: who can take the pieces

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind,
            "task": self.instruction,
            "inputs": dict(self.inputs),
            "round": self.round,
            "inbox": [m.to_json() for m in self.inbox],
        }
        if self.requires:
            out["requires"] = sorted(self.requires)
        if self.previous is not None:
            out["previous"] = self.previous
        if self.reports:
            out["reports"] = [r.to_json() for r in self.reports]
        if self.proposals:
            out["proposals"] = [p.to_json() for p in self.proposals]
        if self.workers:
            out["workers"] = [dict(w) for w in self.workers]
        return out


@dataclass(frozen=True, slots=True)
class Result:
    """What an agent answered. Only `output` is required; the rest feeds coordination."""

    output: Any = None
    findings: tuple[Mapping[str, Any], ...] = ()
    proposals: tuple[Any, ...] = ()
    ballots: Mapping[str, Ballot] = field(default_factory=dict)
    choice: str | None = None  # shorthand ballot: approve this proposal, reject the others
    confidence: float | None = None
    messages: tuple[OutMessage, ...] = ()
    subtasks: tuple[Subtask, ...] = ()
    usage: Usage = NO_USAGE
    meta: Mapping[str, Any] = field(default_factory=dict)
