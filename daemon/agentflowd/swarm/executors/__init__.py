"""Executors: how an agent's work is actually done. Each kind is imported only when used."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentflowd.skills.schema import subschema_at
from agentflowd.swarm.errors import SwarmConfigError
from agentflowd.swarm.executors.base import ExecutorAgent

KINDS: tuple[str, ...] = tuple(subschema_at("skill", ("agents", 0, "executor", "kind"))["enum"])  # type: ignore[index]


@dataclass(frozen=True)
class AgentSetup:
    """Everything the plan builder resolved for one agent."""

    id: str
    type: str
    capabilities: frozenset[str]
    executor: Mapping[str, Any]
    system_prompt: str
    tools: tuple[str, ...] | None
    model: str | None
    max_turns: int | None
    workdir: Path
    project: Path
    where: str  # names the agent in error messages


def make_agent(setup: AgentSetup) -> ExecutorAgent:
    kind = setup.executor.get("kind")
    common = (setup.id, setup.type, setup.capabilities, setup.executor)
    if kind == "command":
        from agentflowd.swarm.executors.command import CommandAgent

        return CommandAgent(*common, workdir=setup.workdir, where=setup.where)
    if kind == "python":
        from agentflowd.swarm.executors.python import PythonAgent

        return PythonAgent(*common, search_path=(setup.workdir, setup.project), where=setup.where)
    if kind == "claude":
        from agentflowd.swarm.executors.claude import ClaudeAgent

        return ClaudeAgent(
            *common,
            system_prompt=setup.system_prompt,
            tools=setup.tools,
            model=setup.model,
            max_turns=setup.max_turns,
            workdir=setup.workdir,
            project=setup.project,
            where=setup.where,
        )
    if kind == "anthropic":
        from agentflowd.swarm.executors.anthropic import AnthropicAgent

        return AnthropicAgent(
            *common,
            system_prompt=setup.system_prompt,
            model=setup.model,
            max_turns=setup.max_turns,
            where=setup.where,
        )
    if kind == "openai":
        from agentflowd.swarm.executors.openai import OpenAIAgent

        return OpenAIAgent(
            *common,
            system_prompt=setup.system_prompt,
            model=setup.model,
            max_turns=setup.max_turns,
            where=setup.where,
        )
    raise SwarmConfigError(
        f"{setup.where}: unknown executor kind {kind!r} (use one of: {', '.join(KINDS)})"
    )
