"""The in-process event bus of a run.

The engine publishes synchronously and never waits: each subscriber has a bounded queue, and when
it is full the event is dropped for that subscriber and counted (a slow progress display must not
slow the swarm). Sinks are plain callables called in line for every event; they must not block
(the run recorder only appends to an in-memory queue drained by its own thread).

`Event` is also the type `memory.runs` reads back from the database, so this module keeps its
module-level imports light: asyncio is imported only when a subscription is made.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncio

RUN_STARTED = "run.started"
RUN_FINISHED = "run.finished"
RUN_STOPPING = "run.stopping"
PHASE_STARTED = "phase.started"
AGENT_STARTED = "agent.started"
AGENT_FINISHED = "agent.finished"
AGENT_FAILED = "agent.failed"
AGENT_RETRIED = "agent.retried"
AGENT_UNHEALTHY = "agent.unhealthy"
TASK_REASSIGNED = "task.reassigned"
TASK_REFUSED = "task.refused"
MESSAGE_ROUTED = "message.routed"
LEVEL_AGGREGATED = "hierarchy.aggregated"
VOTE_CAST = "vote.cast"
CONSENSUS_REACHED = "consensus.reached"
BUDGET_WARNING = "budget.warning"
BUDGET_EXCEEDED = "budget.exceeded"
PROCESS_STARTED = "process.started"
PROCESS_EXITED = "process.exited"
API_RETRY = "api.retry"


@dataclass(frozen=True, slots=True)
class Event:
    seq: int
    ts: float  # wall-clock seconds
    kind: str
    agent: str | None
    data: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "ts": self.ts,
            "kind": self.kind,
            "agent": self.agent,
            "data": dict(self.data),
        }


def split_kinds(kinds: Sequence[str]) -> tuple[frozenset[str], tuple[str, ...]]:
    """Kind patterns as (exact kinds, prefixes): `agent.*` matches every kind starting `agent.`."""
    exact = frozenset(k for k in kinds if not k.endswith(".*"))
    prefixes = tuple(k[:-1] for k in kinds if k.endswith(".*"))
    return exact, prefixes


class _Closed:
    pass


_CLOSED = _Closed()


class Subscription:
    """A filtered, bounded view of the bus. Iterate it with `async for`; it ends when the bus closes."""

    def __init__(
        self,
        bus: EventBus,
        kinds: Sequence[str] | None,
        agents: Iterable[str] | None,
        where: Callable[[Event], bool] | None,
        maxsize: int,
    ) -> None:
        self._bus = bus
        self._all_kinds = kinds is None
        self._exact, self._prefixes = split_kinds(kinds or ())
        self._agents = None if agents is None else frozenset(agents)
        self._where = where
        import asyncio

        self._queue: asyncio.Queue[Event | _Closed] = asyncio.Queue(maxsize)
        self._closed = False
        self.delivered = 0
        self.dropped = 0

    def matches(self, event: Event) -> bool:
        if (
            not self._all_kinds
            and event.kind not in self._exact
            and not (self._prefixes and event.kind.startswith(self._prefixes))
        ):
            return False
        if self._agents is not None and event.agent not in self._agents:
            return False
        return self._where is None or self._where(event)

    def _offer(self, event: Event) -> None:
        queue = self._queue
        if queue.full():  # checked first: raising QueueFull per dropped event is slow
            self.dropped += 1
            return
        queue.put_nowait(event)
        self.delivered += 1

    def _close(self) -> None:
        if self._closed:
            return
        self._closed = True
        # A full queue needs no wake-up: its reader is not waiting and will see `_closed` once drained.
        if not self._queue.full():
            self._queue.put_nowait(_CLOSED)

    def close(self) -> None:
        self._bus.unsubscribe(self)
        self._close()

    async def get(self) -> Event | None:
        """The next event, or None once the bus (or this subscription) is closed and drained."""
        if self._closed and self._queue.empty():
            return None
        item = await self._queue.get()
        return None if isinstance(item, _Closed) else item

    def get_nowait(self) -> Event | None:
        if self._queue.empty():
            return None
        item = self._queue.get_nowait()
        return None if isinstance(item, _Closed) else item

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Event:
        event = await self.get()
        if event is None:
            raise StopAsyncIteration
        return event


class EventBus:
    def __init__(self) -> None:
        self._seq = 0
        self._subs: list[Subscription] = []
        self._sinks: list[Callable[[Event], None]] = []
        self._closed = False
        self._dropped_by_gone = 0

    @property
    def active(self) -> bool:
        """Whether anyone listens; publishers may skip building event data when nobody does."""
        return bool(self._subs or self._sinks)

    @property
    def count(self) -> int:
        """Events published so far."""
        return self._seq

    @property
    def dropped(self) -> int:
        """Events dropped because a subscriber's queue was full (summed over subscribers)."""
        return sum(s.dropped for s in self._subs) + self._dropped_by_gone

    def subscribe(
        self,
        kinds: Iterable[str] | None = None,
        *,
        agents: Iterable[str] | None = None,
        where: Callable[[Event], bool] | None = None,
        maxsize: int = 1024,
    ) -> Subscription:
        """Events whose kind is in `kinds` (exact, or a `prefix.*`), from `agents`, passing `where`."""
        if maxsize < 1:
            raise ValueError("a subscription needs room for at least one event")
        sub = Subscription(self, None if kinds is None else tuple(kinds), agents, where, maxsize)
        if self._closed:
            sub._close()
        else:
            self._subs.append(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        if sub in self._subs:
            self._subs.remove(sub)
            self._dropped_by_gone += sub.dropped

    def add_sink(self, sink: Callable[[Event], None]) -> None:
        self._sinks.append(sink)

    def emit(
        self, kind: str, agent: str | None = None, data: Mapping[str, Any] | None = None
    ) -> None:
        self._seq += 1
        if not self._subs and not self._sinks:
            return
        event = Event(self._seq, time.time(), kind, agent, data if data is not None else {})
        for sink in self._sinks:
            sink(event)
        for sub in self._subs:
            if sub.matches(event):
                sub._offer(event)

    def close(self) -> None:
        """End every subscription (readers drain what is queued, then stop)."""
        self._closed = True
        for sub in self._subs:
            sub._close()
