"""Live progress of a run: one redrawn line per agent on a terminal, plain event lines otherwise."""

from __future__ import annotations

import time
from typing import Any, TextIO

from agentflowd.swarm import events
from agentflowd.swarm.events import Event, Subscription
from agentflowd.swarm.plan import Plan

MAX_LINES = 20  # agents shown one per line on a terminal; the rest are counted
REDRAW_EVERY = 0.1

_LINE_KINDS = {
    events.AGENT_STARTED: "started",
    events.AGENT_FINISHED: "finished",
    events.AGENT_FAILED: "failed",
    events.AGENT_RETRIED: "retrying",
    events.TASK_REASSIGNED: "reassigned",
    events.AGENT_UNHEALTHY: "unhealthy",
}


class Progress:
    """A `runner.ProgressSink` writing to a terminal or a plain stream."""

    kinds = (
        "agent.*",
        "task.*",
        events.CONSENSUS_REACHED,
        "budget.*",
        events.RUN_STOPPING,
        events.PHASE_STARTED,
        events.LEVEL_AGGREGATED,
    )

    def __init__(self, stream: TextIO, *, tty: bool) -> None:
        self.stream = stream
        self.tty = tty
        self.state: dict[str, dict[str, Any]] = {}
        self._drawn = 0
        self._last_draw = 0.0
        self._started = time.monotonic()

    async def consume(self, sub: Subscription, plan: Plan) -> None:
        for s in plan.slots:
            self.state[s.id] = {
                "type": s.agent.type,
                "status": "waiting",
                "attempts": 0,
                "since": None,
                "note": "",
            }
        self._write(f"swarm {plan.skill}: {len(plan.slots)} agents, {plan.topology}\n")
        async for event in sub:
            self.on_event(event)
        if self.tty:
            self._draw(force=True)

    def on_event(self, e: Event) -> None:
        st = self.state.get(e.agent or "")
        if st is not None and e.kind in _LINE_KINDS:
            st["status"] = _LINE_KINDS[e.kind]
            if e.kind == events.AGENT_STARTED:
                st["attempts"] += 1
                st["since"] = time.monotonic()
                st["note"] = f"{e.data.get('kind', '')} {e.data.get('task', '')}".strip()
            elif e.kind == events.AGENT_FAILED:
                st["note"] = str(e.data.get("error", ""))[:80]
            elif e.kind == events.AGENT_RETRIED:
                st["note"] = f"retry in {e.data.get('delay_s', 0):.2f}s"
        if self.tty:
            if e.kind in (events.CONSENSUS_REACHED, events.RUN_STOPPING) or e.kind.startswith(
                "budget."
            ):
                self._draw(force=True)
                self._write(self._plain(e) + "\n")
                self._drawn = 0
            else:
                self._draw()
        else:
            self._write(self._plain(e) + "\n")

    def _plain(self, e: Event) -> str:
        t = time.monotonic() - self._started
        who = f" {e.agent}" if e.agent else ""
        d = e.data
        if e.kind == events.AGENT_FAILED:
            extra = f" attempt {d.get('attempt')}: {d.get('error')}"
        elif e.kind == events.AGENT_RETRIED:
            extra = f" attempt {d.get('attempt')} in {d.get('delay_s', 0):.2f}s"
        elif e.kind == events.AGENT_FINISHED:
            extra = f" {d.get('task')} in {d.get('duration_ms', 0) / 1000:.2f}s"
        elif e.kind == events.AGENT_STARTED:
            extra = f" {d.get('kind')} {d.get('task')} (attempt {d.get('attempt')})"
        elif e.kind == events.CONSENSUS_REACHED:
            extra = f" {d.get('proposal')}: {d.get('outcome')} ({d.get('reason')})"
        elif e.kind == events.TASK_REASSIGNED:
            extra = f" {d.get('task')} from {d.get('from')}: {d.get('reason')}"
        else:
            extra = " " + " ".join(f"{k}={v}" for k, v in d.items()) if d else ""
        return f"[{t:7.2f}s] {e.kind}{who}{extra}"

    def _draw(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_draw < REDRAW_EVERY:
            return
        self._last_draw = now
        items = list(self.state.items())
        lines = []
        for agent_id, st in items[:MAX_LINES]:
            took = (
                f"{now - st['since']:.1f}s"
                if st["since"] is not None and st["status"] in ("started", "retrying")
                else ""
            )
            lines.append(
                f"  {agent_id:<22} {st['status']:<11} x{st['attempts']} {took:>7}  {st['note']}"[
                    :120
                ]
            )
        if len(items) > MAX_LINES:
            counts: dict[str, int] = {}
            for _, st in items[MAX_LINES:]:
                counts[st["status"]] = counts.get(st["status"], 0) + 1
            lines.append(
                f"  ... {len(items) - MAX_LINES} more: "
                + ", ".join(f"{v} {k}" for k, v in counts.items())
            )
        up = f"\x1b[{self._drawn}F" if self._drawn else ""
        self._write(up + "".join(f"\x1b[2K{line}\n" for line in lines))
        self._drawn = len(lines)

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()
