"""The `claude` executor: Claude Code headless, `claude -p --output-format json`.

The prompt goes on stdin (no argv length limit, nothing in `ps`). The agent's system prompt,
allowed tools, max turns and model become flags; the turns and dollars left in the budget are
passed as `--max-turns` / `--max-budget-usd`, so Claude Code stops itself inside the budget.
`CLAUDECODE` is dropped from the child's environment: inside a Claude Code session it is set,
and a nested `claude` would refuse to start.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from collections.abc import Mapping
from typing import Any

from agentflowd.swarm.agent import AgentContext
from agentflowd.swarm.errors import ExecutorError
from agentflowd.swarm.executors.answer import result_from_text
from agentflowd.swarm.executors.base import (
    AgentSetup,
    ProcessAgent,
    charge_after,
    with_budget_note,
)
from agentflowd.swarm.executors.prompt import render
from agentflowd.swarm.model import Result, Task, Usage

OUTPUT_LIMIT = 64 * 1024 * 1024  # a --verbose transcript can be large
_BUDGET_SUBTYPES = {"error_max_turns", "error_max_budget_usd"}


class ClaudeAgent(ProcessAgent):
    kind = "claude"

    def __init__(self, setup: AgentSetup) -> None:
        super().__init__(setup, default_cwd=setup.project)
        opts = self.options
        self.executable = opts.str("executable", "claude") or "claude"
        self.model = opts.str("model") or setup.model
        self.system_prompt = opts.str("system_prompt") or setup.system_prompt
        self.tools = opts.strings("allowed_tools") or setup.tools
        self.max_turns = opts.int("max_turns") or setup.max_turns
        self.permission_mode = opts.str("permission_mode")
        extra = opts.data.get("args")
        if extra is not None and not (
            isinstance(extra, list) and all(isinstance(a, str) for a in extra)
        ):
            raise opts.error("args", "a list of strings")
        self.extra_args = tuple(extra or ())

    def preflight(self) -> list[str]:
        if self._program() is None:
            return [
                f"{self.id}: Claude Code ({self.executable!r}) not found on PATH; install it, or give "
                "this agent type another executor (skill `executor:` or .agentflow/agents.yaml)"
            ]
        return []

    def _program(self) -> str | None:
        if os.sep in self.executable:
            return self.executable if os.access(self.executable, os.X_OK) else None
        return shutil.which(self.executable)

    def argv(self, ctx: AgentContext) -> list[str]:
        program = self._program() or self.executable
        argv = [program, "-p", "--output-format", "json"]
        if self.model and self.model != "inherit":
            argv += ["--model", self.model]
        if self.system_prompt:
            argv += ["--system-prompt", self.system_prompt]
        if self.tools:
            argv += ["--allowedTools", ",".join(self.tools)]
        if self.permission_mode:
            argv += ["--permission-mode", self.permission_mode]
        turns = self.max_turns
        left = ctx.remaining("turns")
        if left is not None:
            turns = int(left) if turns is None else min(turns, int(left))
        if turns is not None:
            argv += ["--max-turns", str(max(turns, 1))]
        usd = ctx.remaining("usd")
        if usd is not None:
            # Rounded down so Claude Code stops inside what is left, never a cent beyond it.
            argv += ["--max-budget-usd", f"{math.floor(usd * 10000) / 10000:.4f}"]
        return argv + list(self.extra_args)

    async def run(self, task: Task, ctx: AgentContext) -> Result:
        if self._program() is None:
            raise ExecutorError(
                f"Claude Code ({self.executable!r}) not found on PATH", retryable=False
            )
        ctx.check_budget()
        env = {k: v for k, v in os.environ.items() if k != "CLAUDECODE"}

        proc = await self.spawn(
            self.argv(ctx),
            stdin=render(task, self.id).encode(),
            env=env,
            output_limit=OUTPUT_LIMIT,
            task=task,
            ctx=ctx,
            program="claude",
            name="Claude Code",
        )
        record = find_result(proc.stdout)
        if record is None:
            tail = proc.stderr.decode("utf-8", errors="replace").strip().splitlines()[-3:]
            raise ExecutorError(
                f"Claude Code printed no result object (exit status {proc.returncode})"
                + (": " + " | ".join(tail) if tail else "")
            )
        usage = usage_of(record)
        note = charge_after(ctx, usage)
        meta = {
            "session_id": record.get("session_id"),
            "num_turns": record.get("num_turns"),
            "total_cost_usd": record.get("total_cost_usd"),
            "subtype": record.get("subtype"),
        }
        if record.get("is_error") or proc.returncode != 0:
            subtype = str(record.get("subtype") or "error")
            detail = (
                record.get("result")
                or "; ".join(str(e) for e in record.get("errors") or [])
                or subtype
            )
            raise ExecutorError(
                f"Claude Code failed ({subtype}): {detail}",
                retryable=subtype not in _BUDGET_SUBTYPES,
            )
        text = record.get("result")
        result = result_from_text(text if isinstance(text, str) else "", usage=usage, meta=meta)
        return with_budget_note(result, note)


def find_result(stdout: bytes) -> dict[str, Any] | None:
    """The result object from `--output-format json`: one object, or (with --verbose) an array
    of every message with the result last."""
    try:
        value = json.loads(stdout.decode("utf-8", errors="replace"))
    except ValueError:
        return None
    if isinstance(value, dict):
        return value if value.get("type") == "result" else None
    if isinstance(value, list):
        for item in reversed(value):
            if isinstance(item, dict) and item.get("type") == "result":
                return item
    return None


def usage_of(record: Mapping[str, Any]) -> Usage:
    raw = record.get("usage") if isinstance(record.get("usage"), dict) else {}
    assert isinstance(raw, dict)

    def n(key: str) -> int:
        value = raw.get(key)
        return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0

    cost = record.get("total_cost_usd")
    turns = record.get("num_turns")
    return Usage(
        turns=int(turns) if isinstance(turns, int) else 0,
        input_tokens=n("input_tokens")
        + n("cache_creation_input_tokens")
        + n("cache_read_input_tokens"),
        output_tokens=n("output_tokens"),
        usd=float(cost) if isinstance(cost, int | float) and not isinstance(cost, bool) else 0.0,
    )
