"""The swarm engine: runs a Plan's agents through its topology, routes their messages, puts
their proposals to a vote, and accounts for everything that happened.

Flow per topology (rounds from the plan; messages go through the Router, so every hand-off is a
recorded delivery):
- mesh: every agent works (in parallel, up to max_concurrent); between rounds, and before a vote,
  each agent's output is broadcast to all others.
- star: the spokes work; each reports to the hub; the hub aggregates; between rounds the hub's
  output goes back to every spoke.
- ring: one agent at a time in ring order, each given the previous agent's output; N rounds.
- hierarchy: the lead splits the work among the agents below it, which work (or split again),
  report up, and each lead aggregates its level; the root's aggregate is the answer.
Then, when the plan has a consensus rule, every agent votes on the proposals the work produced.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import re
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from agentflowd.swarm import events
from agentflowd.swarm.agent import AgentContext
from agentflowd.swarm.budget import BudgetMeter
from agentflowd.swarm.consensus import (
    Decision,
    VoteRecord,
    ballots_for,
    decide,
    record_vote,
)
from agentflowd.swarm.errors import BudgetExceeded
from agentflowd.swarm.events import EventBus
from agentflowd.swarm.model import Message, Proposal, Report, Subtask, Task, Usage
from agentflowd.swarm.plan import Plan, capable, check_plan, star_hub
from agentflowd.swarm.scheduler import Member, Outcome, Scheduler
from agentflowd.swarm.topology import (
    Hierarchy,
    Mesh,
    Ring,
    Router,
    Star,
    Topology,
    UnknownRecipient,
)


def new_run_id() -> str:
    """Sortable by start time, unique without coordination."""
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + secrets.token_hex(3)


@dataclass(frozen=True)
class AgentSummary:
    id: str
    type: str
    role: str
    executor: str
    status: str  # succeeded | failed | cancelled | idle
    attempts: int
    duration_ms: float
    tasks_ok: int
    tasks_failed: int
    usage: Usage
    unread: int
    last_error: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "role": self.role,
            "executor": self.executor,
            "status": self.status,
            "attempts": self.attempts,
            "duration_ms": round(self.duration_ms, 3),
            "tasks_ok": self.tasks_ok,
            "tasks_failed": self.tasks_failed,
            "usage": self.usage.to_json(),
            "unread_messages": self.unread,
            "last_error": self.last_error,
        }


@dataclass(frozen=True)
class RunResult:
    run_id: str
    skill: str
    status: str
    reason: str | None
    started_at: float
    finished_at: float
    topology: str
    agents: tuple[AgentSummary, ...]
    tasks: tuple[Outcome, ...]
    messages: tuple[Message, ...]
    votes: tuple[VoteRecord, ...]
    decisions: tuple[Decision, ...]
    output: Any
    findings: tuple[Mapping[str, Any], ...]
    account: tuple[str, ...]
    usage: Usage
    max_concurrency: int
    events_published: int
    events_dropped: int
    plan_info: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "succeeded"

    @property
    def duration_ms(self) -> float:
        return (self.finished_at - self.started_at) * 1000.0

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "skill": self.skill,
            "status": self.status,
            "reason": self.reason,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "duration_ms": round(self.duration_ms, 3),
            "topology": self.topology,
            "plan": dict(self.plan_info),
            "agents": [a.to_json() for a in self.agents],
            "tasks": [t.to_json() for t in self.tasks],
            "messages": len(self.messages),
            "message_log": [m.to_json() for m in self.messages],
            "votes": [v.to_json() for v in self.votes],
            "decisions": [d.to_json() for d in self.decisions],
            "output": self.output,
            "findings": [dict(f) for f in self.findings],
            "account": list(self.account),
            "usage": self.usage.to_json(),
            "max_concurrency": self.max_concurrency,
            "events": {"published": self.events_published, "dropped": self.events_dropped},
        }


class Swarm:
    """One run of a plan. `run()` once; `stop()` from anywhere on the loop (signal handlers too)."""

    def __init__(
        self,
        plan: Plan,
        *,
        run_id: str | None = None,
        bus: EventBus | None = None,
        rng: random.Random | None = None,
    ) -> None:
        check_plan(plan)
        self.plan = plan
        self._slots = {s.id: s for s in plan.slots}
        self.run_id = run_id or new_run_id()
        self.bus = bus or EventBus()
        self.rng = rng or random.Random()
        self.meter = BudgetMeter(
            plan.swarm_budget,
            plan.agent_budget,
            emit=self.bus.emit,
            on_swarm_exceeded=self._budget_stop,
        )
        self.topology = self._topology()
        self.router = Router(self.topology, self.bus.emit)
        self.account: list[str] = []
        self.votes: list[VoteRecord] = []
        self.decisions: list[Decision] = []
        self.output: Any = None
        self._work: list[Outcome] = []  # outcomes whose results feed proposals
        self._main: asyncio.Task[None] | None = None
        self._stop: tuple[str, str] | None = None  # (status, reason)
        self._ran = False
        self.members: dict[str, Member] = {}
        self.scheduler: Scheduler | None = None

    # -- control ---------------------------------------------------------------------------------

    def stop(self, reason: str, *, status: str = "cancelled") -> None:
        """Stop every agent now; the run ends with `status` (cancelled, or partial/failed)."""
        if self._stop is None:
            self._stop = (status, reason)
            self.bus.emit(events.RUN_STOPPING, None, {"status": status, "reason": reason})
        if self._main is not None and not self._main.done():
            self._main.cancel()

    def _budget_stop(self, exc: BudgetExceeded) -> None:
        self.stop(str(exc), status="stopped")

    # -- run -------------------------------------------------------------------------------------

    async def run(self) -> RunResult:
        if self._ran:
            raise RuntimeError("a Swarm runs once")
        self._ran = True
        loop = asyncio.get_running_loop()
        plan = self.plan
        for slot in plan.slots:
            ctx = AgentContext(
                run_id=self.run_id,
                agent_id=slot.id,
                project=plan.project,
                workdir=plan.workdir,
                meter=self.meter,
                bus=self.bus,
                send=self._send_checked,
                loop=loop,
            )
            timeout = slot.timeout if slot.timeout is not None else plan.policy.attempt_timeout
            self.members[slot.id] = Member(slot, ctx, timeout)
        self.scheduler = Scheduler(
            self.members, plan.policy, self.bus, check_budget=self.meter.active, rng=self.rng
        )
        started = time.time()
        self.bus.emit(
            events.RUN_STARTED,
            None,
            {
                "run_id": self.run_id,
                "skill": plan.skill,
                "topology": plan.topology,
                "agents": [{"id": s.id, "type": s.agent.type, "role": s.role} for s in plan.slots],
            },
        )
        self._main = loop.create_task(self._flow())
        try:
            done, _ = await asyncio.wait({self._main}, timeout=plan.policy.swarm_timeout)
            if not done:
                self.stop(
                    f"the swarm timed out after {plan.policy.swarm_timeout:g}s", status="stopped"
                )
                await asyncio.wait({self._main})
        except asyncio.CancelledError:
            self.stop("the run was cancelled")
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait({self._main})
            self._finish(started)
            raise
        if not self._main.cancelled() and self._main.exception() is not None:
            exc = self._main.exception()
            assert exc is not None
            self._stop = ("failed", f"{type(exc).__name__}: {exc}")
            self._finish(started)
            raise exc
        return self._finish(started)

    def _finish(self, started: float) -> RunResult:
        result = self._result(started)
        self.bus.emit(
            events.RUN_FINISHED,
            None,
            {
                "status": result.status,
                "reason": result.reason,
                "duration_ms": round(result.duration_ms, 3),
            },
        )
        self.bus.close()
        return result

    async def _flow(self) -> None:
        topology = self.plan.topology
        self.bus.emit(events.PHASE_STARTED, None, {"phase": "work", "topology": topology})
        if topology == "mesh":
            await self._mesh()
        elif topology == "star":
            await self._star()
        elif topology == "ring":
            await self._ring()
        else:
            await self._hierarchy()
        if self.plan.consensus is not None:
            self.bus.emit(
                events.PHASE_STARTED, None, {"phase": "vote", "rule": self.plan.consensus.rule}
            )
            await self._vote()

    # -- topologies ------------------------------------------------------------------------------

    def _topology(self) -> Topology:
        plan = self.plan
        ids = [s.id for s in plan.slots]
        if plan.topology == "star":
            hub = star_hub(plan)
            return Star(hub, [i for i in ids if i != hub])
        if plan.topology == "ring":
            return Ring(ids)
        if plan.topology == "hierarchy":
            return Hierarchy.build([(s.id, s.role) for s in plan.slots])
        return Mesh(ids)

    def _assignments(self, pool: Sequence[str]) -> list[tuple[str, str, str, frozenset[str]]]:
        """(task id, agent id, instruction, requires) for each piece of work among `pool`."""
        plan = self.plan
        if not plan.tasks:
            return [(f"{a}", a, self._slots[a].instruction, frozenset()) for a in pool]
        slots = [self._slots[a] for a in pool]
        load = dict.fromkeys(pool, 0)
        out = []
        for spec in plan.tasks:
            candidates = capable(slots, spec.requires, spec.type)
            chosen = min(candidates, key=lambda s: load[s.id])  # check_plan proved one exists
            load[chosen.id] += 1
            out.append((spec.id, chosen.id, spec.instruction, spec.requires))
        return out

    def _task(
        self,
        task_id: str,
        kind: str,
        agent_id: str,
        instruction: str,
        round_: int,
        *,
        requires: frozenset[str] = frozenset(),
        hidden: frozenset[int] = frozenset(),
        **extra: Any,
    ) -> Task:
        inbox = tuple(m for m in self.router.take_inbox(agent_id) if m.id not in hidden)
        return Task(
            id=task_id,
            kind=kind,  # type: ignore[arg-type]
            instruction=instruction,
            inputs=self.plan.inputs,
            requires=requires,
            round=round_,
            inbox=inbox,
            **extra,
        )

    async def _work_round(
        self, work: Sequence[tuple[str, str, str, frozenset[str]]], round_: int
    ) -> list[Outcome]:
        """Round `round_` of the assigned work (see `_assignments`), every piece run at once."""
        self.router.round = round_
        return await self._run(
            [
                (self._task(f"{tid}.r{round_}", "work", aid, text, round_, requires=req), aid)
                for tid, aid, text, req in work
            ]
        )

    async def _run(self, work: Sequence[tuple[Task, str]], **kw: Any) -> list[Outcome]:
        assert self.scheduler is not None
        outcomes = await self.scheduler.run(work, **kw)
        for o in outcomes:
            if o.ok:
                self._route_requested(o)
        return outcomes

    async def _mesh(self) -> None:
        plan = self.plan
        work = self._assignments([s.id for s in plan.slots])
        last: list[Outcome] = []
        for r in range(1, plan.rounds + 1):
            last = await self._work_round(work, r)
            if r < plan.rounds or plan.consensus is not None:
                for o in last:
                    if o.ok:
                        self.router.send(o.agent, "*", o.output)
        self._work = last
        self.output = [
            {"agent": o.agent, "task": o.task.id, "output": o.output} for o in last if o.ok
        ]

    async def _star(self) -> None:
        plan = self.plan
        star = self.topology
        assert isinstance(star, Star)
        hub_slot = self._slots[star.hub]
        work = self._assignments(list(star.spokes))
        hub_out: Outcome | None = None
        spokes: list[Outcome] = []
        for r in range(1, plan.rounds + 1):
            spokes = await self._work_round(work, r)
            report_ids: set[int] = set()
            reports = []
            for o in spokes:
                if o.ok:
                    msg = self._hand(o.agent, star.hub, o.output)
                    if msg is not None:
                        report_ids.add(msg.id)
                reports.append(Report(o.agent, o.output, o.ok, o.error))
            hub_task = self._task(
                f"{star.hub}.aggregate.r{r}",
                "aggregate",
                star.hub,
                hub_slot.instruction,
                r,
                hidden=frozenset(report_ids),
                reports=tuple(reports),
            )
            (hub_out,) = await self._run([(hub_task, star.hub)], reassign=False)
            if not hub_out.ok:
                self.account.append(
                    f"star: the hub {star.hub} could not aggregate round {r}: {hub_out.error}"
                )
                break
            if r < plan.rounds:
                self.router.send(star.hub, "*", hub_out.output)
        self._work = [*spokes, *([hub_out] if hub_out is not None else [])]
        if hub_out is not None and hub_out.ok:
            self.output = hub_out.output
        else:
            self.output = [{"agent": o.agent, "output": o.output} for o in spokes if o.ok]

    async def _ring(self) -> None:
        plan = self.plan
        ring = self.topology
        assert isinstance(ring, Ring)
        previous: Any = None
        handoff: int | None = None
        last: dict[str, Outcome] = {}
        order = ring.members
        for r in range(1, plan.rounds + 1):
            self.router.round = r
            for i, aid in enumerate(order):
                task = self._task(
                    f"{aid}.r{r}",
                    "work",
                    aid,
                    self._slots[aid].instruction,
                    r,
                    hidden=frozenset({handoff}) if handoff is not None else frozenset(),
                    previous=previous,
                )
                (o,) = await self._run([(task, aid)])
                last[aid] = o
                is_final = r == plan.rounds and i == len(order) - 1
                if not o.ok:
                    self.account.append(
                        f"ring: {aid} failed in round {r} ({o.error}); its turn was skipped and the "
                        "previous output passed on"
                    )
                    continue
                previous = o.output
                if not is_final:
                    msg = self._hand(o.agent, ring.next(aid), previous)
                    handoff = msg.id if msg is not None else None
        self._work = list(last.values())
        self.output = previous

    async def _hierarchy(self) -> None:
        tree = self.topology
        assert isinstance(tree, Hierarchy)
        plan = self.plan
        preset: dict[str, list[tuple[str, str, frozenset[str]]]] = {}
        if plan.tasks:
            leaves = [a for a in tree.members if not tree.children.get(a)] or [tree.root]
            for tid, aid, text, req in self._assignments(leaves):
                preset.setdefault(aid, []).append((tid, text, req))
        self.router.round = 1
        root = await self._node(tree.root, self._slots[tree.root].instruction, "root", preset, None)
        self.output = root.output if root.ok else None

    async def _node(
        self,
        aid: str,
        instruction: str,
        tid: str,
        preset: Mapping[str, list[tuple[str, str, frozenset[str]]]],
        given: int | None,
    ) -> Outcome:
        """Run one node of the tree on `instruction`; returns its (aggregate) outcome."""
        tree = self.topology
        assert isinstance(tree, Hierarchy)
        hidden = frozenset({given}) if given is not None else frozenset()
        children = tree.children.get(aid, ())
        if not children:
            (o,) = await self._run(
                [(self._task(tid, "work", aid, instruction, 1, hidden=hidden), aid)]
            )
            self._work.append(o)
            return o
        pieces = self._preset_for(aid, preset)
        if pieces is None:
            split = self._task(
                f"{tid}.split",
                "split",
                aid,
                instruction,
                1,
                hidden=hidden,
                workers=tuple(
                    {
                        "id": c,
                        "type": self.members[c].agent.type,
                        "capabilities": sorted(self.members[c].agent.capabilities),
                    }
                    for c in children
                ),
            )
            (so,) = await self._run([(split, aid)], reassign=False)
            if not so.ok:
                self.account.append(f"hierarchy: lead {aid} could not split the work: {so.error}")
                self._work.append(so)
                return so
            assert so.result is not None
            pieces = self._place(aid, children, so.result.subtasks, instruction)
        jobs: list[tuple[str, str, str, int | None]] = []
        for n, (child, text) in enumerate(pieces, 1):
            msg = self._hand(aid, child, text)
            jobs.append((child, text, f"{tid}.{n}", msg.id if msg is not None else None))
        async with asyncio.TaskGroup() as group:
            runs = [
                group.create_task(self._node(child, text, sub_tid, preset, mid))
                for child, text, sub_tid, mid in jobs
            ]
        report_ids: set[int] = set()
        reports = []
        for (child, _, _, _), job in zip(jobs, runs, strict=True):
            o = job.result()
            if o.ok:
                msg = self._hand(o.agent, aid, o.output)
                if msg is not None:
                    report_ids.add(msg.id)
            reports.append(Report(child, o.output, o.ok, o.error))
        agg = self._task(
            f"{tid}.aggregate",
            "aggregate",
            aid,
            self._slots[aid].instruction,
            1,
            hidden=frozenset(report_ids),
            reports=tuple(reports),
        )
        (ao,) = await self._run([(agg, aid)], reassign=False)
        self._work.append(ao)
        self.bus.emit(
            events.LEVEL_AGGREGATED,
            aid,
            {
                "level": tree.level(aid),
                "reports": len(reports),
                "reports_ok": sum(1 for r in reports if r.ok),
                "ok": ao.ok,
            },
        )
        if not ao.ok:
            self.account.append(f"hierarchy: lead {aid} could not aggregate its level: {ao.error}")
        return ao

    def _preset_for(
        self, aid: str, preset: Mapping[str, list[tuple[str, str, frozenset[str]]]]
    ) -> list[tuple[str, str]] | None:
        """With explicit tasks the leads do not split: each child gets the tasks placed below it."""
        if not preset:
            return None
        tree = self.topology
        assert isinstance(tree, Hierarchy)
        out = []
        for child in tree.children.get(aid, ()):
            below = [a for a in preset if child in (a, *self._ancestors(a))]
            for leaf in below:
                out.extend((child, text) for _, text, _ in preset[leaf])
        return out

    def _ancestors(self, aid: str) -> list[str]:
        tree = self.topology
        assert isinstance(tree, Hierarchy)
        chain = []
        while aid in tree.parent:
            aid = tree.parent[aid]
            chain.append(aid)
        return chain

    def _place(
        self, lead: str, children: Sequence[str], subtasks: Sequence[Subtask], instruction: str
    ) -> list[tuple[str, str]]:
        """Give each subtask to a child: the one named, else one with the capabilities, else round-robin."""
        if not subtasks:
            self.account.append(
                f"hierarchy: lead {lead} gave no subtasks; each agent below it got the whole task"
            )
            return [(c, instruction) for c in children]
        load = dict.fromkeys(children, 0)
        out = []
        for n, sub in enumerate(subtasks):
            if sub.worker is not None and sub.worker in load:
                child = sub.worker
            else:
                if sub.worker is not None:
                    self.account.append(
                        f"hierarchy: lead {lead} named {sub.worker!r}, which does not report to it; "
                        "placed by capability instead"
                    )
                fits = [c for c in children if sub.requires <= self.members[c].agent.capabilities]
                if not fits:
                    why = (
                        f"hierarchy: subtask {n + 1} of {lead} needs "
                        f"{', '.join(sorted(sub.requires))}, which no agent below it has; refused"
                    )
                    self.account.append(why)
                    self.bus.emit(events.TASK_REFUSED, lead, {"subtask": n + 1, "reason": why})
                    continue
                child = min(fits, key=lambda c: (load[c], children.index(c)))
            load[child] += 1
            out.append((child, sub.instruction))
        return out

    # -- messages --------------------------------------------------------------------------------

    def _hand(self, sender: str, to: str, content: Any) -> Message | None:
        """A hand-off the flow itself makes (report, subtask, ring token). None when a reassigned
        task put the work on the very agent it goes to: there is nothing to deliver."""
        if sender == to:
            return None
        (msg,) = self.router.send(sender, to, content)
        return msg

    def _send_checked(self, sender: str, to: str, content: Any) -> tuple[Message, ...]:
        return self.router.send(sender, to, content)

    def _route_requested(self, outcome: Outcome) -> None:
        """Deliver the messages an agent asked for in its answer."""
        assert outcome.result is not None
        for out in outcome.result.messages:
            try:
                self.router.send(outcome.agent, out.to, out.content)
            except UnknownRecipient as exc:
                self.account.append(f"{outcome.agent}: message not delivered: {exc}")

    # -- consensus -------------------------------------------------------------------------------

    def proposals(self) -> list[Proposal]:
        found: dict[tuple[str, str], Proposal] = {}
        for o in self._work:
            if not o.ok or o.result is None:
                continue
            result = o.result
            items: list[tuple[str, str, Any]] = []
            for p in result.proposals:
                if isinstance(p, Mapping):
                    items.append(("proposal", str(p.get("text") or _text(p)), p.get("data")))
                else:
                    items.append(("proposal", str(p), None))
            for f in result.findings:
                items.append(("finding", _finding_text(f), dict(f)))
            if not items and result.output is not None and _text(result.output).strip():
                items.append(("answer", _text(result.output), None))
            for kind, text, data in items:
                key = (kind, _norm(text))
                if key in found:
                    prev = found[key]
                    if o.agent not in prev.by:
                        found[key] = Proposal(
                            prev.id, prev.kind, prev.text, (*prev.by, o.agent), prev.data
                        )
                else:
                    found[key] = Proposal(f"p{len(found) + 1}", kind, text, (o.agent,), data)  # type: ignore[arg-type]
        return list(found.values())

    async def _vote(self) -> None:
        rule = self.plan.consensus
        assert rule is not None
        proposals = self.proposals()
        if not proposals:
            self.account.append("consensus: the work produced nothing to vote on")
            return
        self.router.round += 1
        voters = list(self.members.values())
        healthy = [m for m in voters if m.healthy]
        batch = [
            (
                self._task(
                    f"{m.id}.vote",
                    "vote",
                    m.id,
                    m.slot.instruction,
                    self.router.round,
                    proposals=tuple(proposals),
                ),
                m.id,
            )
            for m in healthy
        ]
        outcomes = await self._run(batch, reassign=False)
        for m in voters:
            if not m.healthy:
                for p in proposals:
                    self._cast(rule, p, m.id, "failed", m.slot.weight, None, "agent was unhealthy")
        for o in outcomes:
            weight = self.members[o.agent].slot.weight
            if not o.ok:
                vote = "timeout" if o.attempts and o.attempts[-1].kind == "timeout" else "failed"
                for p in proposals:
                    self._cast(rule, p, o.agent, vote, weight, None, o.error)
                continue
            assert o.result is not None
            for pid, (ballot, note) in ballots_for(o.result, proposals).items():
                p = next(p for p in proposals if p.id == pid)
                self._cast(rule, p, o.agent, ballot.vote, weight, ballot.confidence, note)
        eligible = len(voters)
        for p in proposals:
            d = decide(rule, p, self.votes, eligible)
            self.decisions.append(d)
            self.bus.emit(
                events.CONSENSUS_REACHED,
                None,
                {
                    "proposal": p.id,
                    "outcome": d.outcome,
                    "approve": d.approve,
                    "reject": d.reject,
                    "abstain": d.abstain,
                    "absent": d.absent,
                    "share": d.share,
                    "reason": d.reason,
                },
            )

    def _cast(
        self,
        rule: Any,
        p: Proposal,
        voter: str,
        vote: str,
        weight: float,
        conf: float | None,
        note: str | None,
    ) -> None:
        rec = record_vote(rule, p.id, voter, vote, weight=weight, confidence=conf, note=note)
        self.votes.append(rec)
        self.bus.emit(events.VOTE_CAST, voter, rec.to_json())

    # -- result ----------------------------------------------------------------------------------

    def _result(self, started: float) -> RunResult:
        plan = self.plan
        ledger = tuple(self.scheduler.ledger) if self.scheduler is not None else ()
        work = [o for o in ledger if o.task.kind != "vote"]
        account = list(self.account)
        for o in work:
            if o.reassigned and o.ok:
                account.append(
                    f"{o.task.id}: reassigned from {', '.join(o.reassigned)} to {o.agent}, which finished it"
                )
            if o.status in ("failed", "skipped"):
                account.append(
                    f"{o.task.id}: {o.status} on {o.agent} after {len(o.attempts)} attempt(s): {o.error}"
                )
        for o in ledger:
            if o.task.kind == "vote" and o.status == "failed":
                account.append(f"{o.agent}: no ballot ({o.error})")
        unread = self.router.unread()
        by_agent: dict[str, list[Outcome]] = {}
        for o in ledger:
            by_agent.setdefault(o.agent, []).append(o)
        agents = []
        for m in self.members.values():
            mine = by_agent.get(m.id, [])
            if any(o.status == "cancelled" for o in mine):
                status = "cancelled"
            elif not m.healthy or any(o.status == "failed" for o in mine):
                status = "failed"
            elif any(o.ok for o in mine):
                status = "succeeded"
            else:
                status = "idle"
            agents.append(
                AgentSummary(
                    m.id,
                    m.agent.type,
                    m.slot.role,
                    m.slot.executor,
                    status,
                    m.attempts,
                    m.duration_ms,
                    sum(1 for o in mine if o.ok),
                    sum(1 for o in mine if o.status == "failed"),
                    m.usage,
                    unread.get(m.id, 0),
                    m.last_error,
                )
            )
        if self._stop is not None:
            stop_status, reason = self._stop
            account.insert(0, f"stopped: {reason}")
            if stop_status == "stopped":
                status = "partial" if any(o.ok for o in work) else "failed"
            else:
                status = stop_status
        else:
            reason = None
            bad = [o for o in work if o.status in ("failed", "skipped")]
            refused = any("refused" in line for line in self.account)
            if not work or not any(o.ok for o in work):
                status = "failed"
                reason = "no agent finished its work"
            elif bad or refused:
                status = "partial"
                reason = (
                    f"{len(bad)} of {len(work)} tasks did not finish" if bad else "work was refused"
                )
            else:
                status = "succeeded"
        findings = self._findings()
        total = Usage()
        for m in self.members.values():
            total = total + m.usage
        return RunResult(
            run_id=self.run_id,
            skill=plan.skill,
            status=status,
            reason=reason,
            started_at=started,
            finished_at=time.time(),
            topology=plan.topology,
            agents=tuple(agents),
            tasks=ledger,
            messages=tuple(self.router.delivered),
            votes=tuple(self.votes),
            decisions=tuple(self.decisions),
            output=self.output,
            findings=tuple(findings),
            account=tuple(account),
            usage=total,
            max_concurrency=self.scheduler.max_running if self.scheduler is not None else 0,
            # + run.finished, published right after this result is made
            events_published=self.bus.count + 1,
            events_dropped=self.bus.dropped,
            plan_info={
                "rounds": plan.rounds,
                "consensus": None if plan.consensus is None else plan.consensus.to_json(),
                "policy": plan.policy.to_json(),
                "budget": {
                    "swarm": plan.swarm_budget.to_json(),
                    "per_agent": plan.agent_budget.to_json(),
                },
                "inputs": dict(plan.inputs),
            },
        )

    def _findings(self) -> list[dict[str, Any]]:
        by_text = {(d.proposal.kind, _norm(d.proposal.text)): d for d in self.decisions}
        seen: set[str] = set()
        out = []
        for o in self._work:
            if not o.ok or o.result is None:
                continue
            for f in o.result.findings:
                text = _finding_text(f)
                key = _norm(text)
                if key in seen:
                    continue
                seen.add(key)
                item = dict(f)
                item.setdefault("agent", o.agent)
                d = by_text.get(("finding", key))
                if d is not None:
                    item["consensus"] = d.outcome
                out.append(item)
        return out


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def _finding_text(f: Mapping[str, Any]) -> str:
    text = f.get("message") or f.get("title") or f.get("text")
    if not isinstance(text, str):
        return _text(dict(f))
    where = f.get("file") or f.get("path")
    if where:
        line = f.get("line")
        return f"{where}:{line}: {text}" if line is not None else f"{where}: {text}"
    return text


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().lower())
