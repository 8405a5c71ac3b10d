"""Swarm engine benchmarks: scheduler throughput, dispatch overhead, and 1,000 real processes.

    .venv/bin/python scripts/bench_swarm.py [--tasks 200000] [--procs 1000]

Prints numbers and the targets they are held to:
- in-process no-op agents through the scheduler: >= 50,000 tasks/s
- dispatch overhead per agent: < 100 us
- 1,000 `command` agents running `true`, max_concurrent 16: all complete, no leaked processes or
  file descriptors (wall time reported)
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

from agentflowd.swarm.agent import AgentContext
from agentflowd.swarm.budget import BudgetMeter
from agentflowd.swarm.build import build_plan
from agentflowd.swarm.engine import Swarm
from agentflowd.swarm.events import EventBus
from agentflowd.swarm.model import Result, Task
from agentflowd.swarm.plan import AgentSlot, ExecutionPolicy, Plan
from agentflowd.swarm.scheduler import Member, Scheduler

DONE = Result(output=None)


class NoOp:
    def __init__(self, agent_id: str) -> None:
        self.id = agent_id
        self.type = "noop"
        self.capabilities: frozenset[str] = frozenset()

    async def run(self, task: Task, ctx: AgentContext) -> Result:
        return DONE


def scheduler(n_agents: int, policy: ExecutionPolicy, bus: EventBus) -> Scheduler:
    meter = BudgetMeter()
    here = Path.cwd()
    members = {}
    for i in range(n_agents):
        slot = AgentSlot(NoOp(f"noop-{i}"), "")
        ctx = AgentContext(
            run_id="bench", agent_id=slot.id, project=here, workdir=here, meter=meter, bus=bus
        )
        members[slot.id] = Member(slot, ctx, None)
    return Scheduler(members, policy, bus)


def throughput(n_tasks: int, n_agents: int, policy: ExecutionPolicy, *, listen: bool) -> float:
    """Tasks per second through Scheduler.run, task objects included."""

    async def go() -> float:
        bus = EventBus()
        sub = bus.subscribe(maxsize=1024) if listen else None
        sched = scheduler(n_agents, policy, bus)
        ids = list(sched.members)
        t0 = time.perf_counter()
        work = [(Task(f"t{i}", "work", ""), ids[i % n_agents]) for i in range(n_tasks)]
        outcomes = await sched.run(work)
        took = time.perf_counter() - t0
        assert all(o.ok for o in outcomes)
        if sub is not None:
            sub.close()
        return n_tasks / took

    gc.collect()
    return asyncio.run(go())


def dispatch_latency(samples: int) -> list[float]:
    """Seconds from Scheduler.run() being called to the agent's run() starting, one task each."""
    started: list[float] = []

    class Stamp(NoOp):
        async def run(self, task: Task, ctx: AgentContext) -> Result:
            started.append(time.perf_counter())
            return DONE

    async def go() -> list[float]:
        bus = EventBus()
        sched = scheduler(1, ExecutionPolicy(), bus)
        member = next(iter(sched.members.values()))
        member.agent = Stamp(member.id)
        out = []
        for i in range(samples):
            task = Task(f"t{i}", "work", "")
            t0 = time.perf_counter()
            await sched.run([(task, member.id)])
            out.append(started[-1] - t0)
        return out

    return asyncio.run(go())


def swarm_overhead(n_agents: int) -> float:
    """Seconds per agent for a whole Swarm.run (plan check, contexts, scheduling, result) with
    no-op agents in a one-round mesh."""
    plan = Plan(
        "bench", tuple(AgentSlot(NoOp(f"noop-{i}"), "x") for i in range(n_agents)), topology="mesh"
    )
    t0 = time.perf_counter()
    result = asyncio.run(Swarm(plan).run())
    took = time.perf_counter() - t0
    assert result.status == "succeeded"
    return took / n_agents


def children_of(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_bytes().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] not in (b"Z", b"X"):
            out.append(int(entry.name))
    return out


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in (b"Z", b"X")


def command_agents(n: int, max_concurrent: int) -> dict[str, object]:
    true = shutil.which("true") or "/bin/true"
    fm = {
        "agents": [{"type": "runner", "count": n, "executor": {"kind": "command", "argv": [true]}}],
        "execution": {"max_concurrent": max_concurrent},
    }
    here = Path.cwd()
    plan = build_plan(fm, "run true", skill="bench", workdir=here, project=here)
    fds_before = sorted(int(p.name) for p in Path("/proc/self/fd").iterdir())
    t0 = time.perf_counter()
    result = asyncio.run(Swarm(plan).run())
    wall = time.perf_counter() - t0
    fds_after = sorted(int(p.name) for p in Path("/proc/self/fd").iterdir())
    pids = [pid for s in plan.slots for pid in s.agent.pids]  # type: ignore[attr-defined]
    return {
        "wall_s": wall,
        "status": result.status,
        "completed": sum(1 for t in result.tasks if t.ok),
        "processes_started": len(pids),
        "still_running": [p for p in pids if alive(p)],
        "children_left": children_of(os.getpid()),
        "fds_leaked": sorted(set(fds_after) - set(fds_before)),
        "max_concurrency": result.max_concurrency,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tasks", type=int, default=200_000)
    parser.add_argument("--agents", type=int, default=1_000)
    parser.add_argument("--procs", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    ok = True
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpu(s)")

    print(
        f"\nscheduler throughput, {args.tasks:,} no-op tasks over {args.agents:,} agents (best of {args.repeat}):"
    )
    for label, policy, listen in (
        ("max_concurrent 16", ExecutionPolicy(max_concurrent=16), False),
        ("unlimited", ExecutionPolicy(), False),
        ("max_concurrent 16, one event subscriber", ExecutionPolicy(max_concurrent=16), True),
    ):
        best = max(
            throughput(args.tasks, args.agents, policy, listen=listen) for _ in range(args.repeat)
        )
        verdict = "ok" if best >= 50_000 else "BELOW TARGET"
        ok &= best >= 50_000
        print(
            f"  {label:<42} {best:>10,.0f} tasks/s  ({1e6 / best:.2f} us/task)  [{verdict}, target >= 50,000]"
        )

    lat = sorted(dispatch_latency(5_000))
    p50, p99 = statistics.median(lat) * 1e6, lat[int(len(lat) * 0.99)] * 1e6
    print(
        f"\ndispatch latency, Scheduler.run() call to agent.run() start: p50 {p50:.1f} us, p99 {p99:.1f} us  [target < 100 us]"
    )
    ok &= p50 < 100
    for n in (1_000, 10_000):
        per = min(swarm_overhead(n) for _ in range(args.repeat)) * 1e6
        print(
            f"whole Swarm.run per agent, {n:,} no-op agents (mesh, 1 round): {per:.1f} us  [target < 100 us]"
        )
        ok &= per < 100

    print(f"\n{args.procs:,} command agents running `true`, max_concurrent 16:")
    stats = command_agents(args.procs, 16)
    print(
        f"  wall time:           {stats['wall_s']:.2f} s ({args.procs / stats['wall_s']:.0f} processes/s)"
    )
    print(
        f"  completed:           {stats['completed']} of {args.procs} (run status {stats['status']})"
    )
    print(
        f"  processes started:   {stats['processes_started']}, observed max concurrency {stats['max_concurrency']}"
    )
    print(
        f"  still running after: {len(stats['still_running'])}  children left: {len(stats['children_left'])}  fds leaked: {len(stats['fds_leaked'])}"
    )
    ok &= (
        stats["completed"] == args.procs
        and not stats["still_running"]
        and not stats["children_left"]
        and not stats["fds_leaked"]
        and stats["max_concurrency"] <= 16
    )
    print("\nall targets met" if ok else "\nSOME TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
