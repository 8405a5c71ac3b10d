"""Live progress: redrawn per-agent lines on a terminal, one plain line per event otherwise."""

from __future__ import annotations

import asyncio
import io

from agentflowd.swarm.engine import Swarm
from agentflowd.swarm.events import EventBus
from agentflowd.swarm.plan import ExecutionPolicy
from agentflowd.swarm.progress import Progress
from agentflowd.swarm.retry import RetryPolicy
from tests.swarm.support import Scripted, plan


def show(tty: bool) -> str:
    retry = RetryPolicy(max_attempts=2, initial_delay=0.001)
    p = plan(
        Scripted("alpha", delay=0.05),
        Scripted("beta", fail=1, delay=0.02),
        Scripted("gamma", "other", fail=9),
        policy=ExecutionPolicy(retry=retry),
    )
    stream = io.StringIO()
    progress = Progress(stream, tty=tty)

    async def go() -> None:
        bus = EventBus()
        sub = bus.subscribe(progress.kinds)
        shown = asyncio.ensure_future(progress.consume(sub, p))
        await Swarm(p, bus=bus).run()
        await shown

    asyncio.run(go())
    return stream.getvalue()


def test_terminal_progress_redraws_one_line_per_agent() -> None:
    text = show(tty=True)
    assert text.startswith("swarm test: 3 agents, mesh\n")
    assert "\x1b[3F" in text  # cursor back up over the three agent lines
    final = text.rsplit("\x1b[3F", 1)[1].split("\n")
    lines = [line.removeprefix("\x1b[2K") for line in final if line]
    assert [line.split()[:2] for line in lines] == [
        ["alpha", "finished"],
        ["beta", "finished"],
        ["gamma", "unhealthy"],
    ]
    assert lines[1].split()[2] == "x2"  # beta's failed first attempt was retried by beta itself


def test_plain_progress_is_one_line_per_event() -> None:
    text = show(tty=False)
    assert "\x1b[" not in text
    lines = text.splitlines()
    assert any("agent.failed gamma attempt 1: scripted failure" in line for line in lines)
    assert any("agent.finished alpha alpha.r1 in" in line for line in lines)
