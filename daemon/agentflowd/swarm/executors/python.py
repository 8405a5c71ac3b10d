"""The `python` executor: an entry point `module:function`, called with (task, ctx).

Async functions run on the swarm's loop and are cancelled with it. Sync functions run in a worker
thread so they cannot stall other agents; Python cannot stop a thread, so a sync function that
overruns its timeout is reported as timed out while its thread finishes in the background.
The function may return a Result, an answer object (dict), text, or any JSON value.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agentflowd.swarm.agent import AgentContext
from agentflowd.swarm.errors import SwarmConfigError
from agentflowd.swarm.executors.answer import result_from_json
from agentflowd.swarm.executors.base import AgentSetup, ExecutorAgent, charged
from agentflowd.swarm.model import Result, Task


class PythonAgent(ExecutorAgent):
    kind = "python"

    def __init__(self, setup: AgentSetup) -> None:
        super().__init__(setup)
        where = setup.where
        entry = self.options.str("entry")
        if not entry or ":" not in entry:
            raise SwarmConfigError(f"{where}: a python executor needs `entry: module:function`")
        self.entry = entry
        self.fn = load_entry(entry, (setup.workdir, setup.project), where)
        self.is_async = inspect.iscoroutinefunction(self.fn)

    async def run(self, task: Task, ctx: AgentContext) -> Result:
        if self.is_async:
            value = await self.fn(task, ctx)
        else:
            value = await asyncio.to_thread(self.fn, task, ctx)
            if inspect.isawaitable(value):
                value = await value
        return charged(ctx, as_result(value))


def as_result(value: Any) -> Result:
    if isinstance(value, Result):
        return value
    if isinstance(value, dict):
        return result_from_json(value)
    return Result(output=value)


def load_entry(entry: str, search_path: tuple[Path, ...], where: str) -> Callable[..., Any]:
    """Import `module:function`, looking in the skill folder and the project too."""
    module_name, _, attr = entry.partition(":")
    for folder in reversed(search_path):
        text = str(folder)
        if text not in sys.path:
            sys.path.insert(0, text)
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise SwarmConfigError(f"{where}: cannot import {module_name!r}: {exc}") from exc
    except Exception as exc:  # the module itself raised while importing
        raise SwarmConfigError(
            f"{where}: importing {module_name!r} failed: {type(exc).__name__}: {exc}"
        ) from exc
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise SwarmConfigError(f"{where}: {module_name!r} has no function {attr!r}")
    return fn
