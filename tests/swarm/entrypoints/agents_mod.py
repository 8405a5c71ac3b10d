"""Entry points for the `python` executor tests (imported by module path)."""

from __future__ import annotations

import asyncio
import threading

from agentflowd.swarm.model import Result, Usage

CALLS: list[tuple[str, str]] = []


async def async_review(task, ctx):
    await asyncio.sleep(0)
    CALLS.append(("async", threading.current_thread().name))
    return {
        "output": f"reviewed {task.inputs.get('target')}",
        "findings": ["one"],
        "usage": {"turns": 1, "input_tokens": 5},
    }


def sync_review(task, ctx):
    CALLS.append(("sync", threading.current_thread().name))
    return f"sync saw {task.instruction}"


def returns_result(task, ctx):
    return Result(output=[1, 2], usage=Usage(turns=1))


def charges_from_thread(task, ctx):
    ctx.charge(Usage(turns=1, input_tokens=7))
    return 42
