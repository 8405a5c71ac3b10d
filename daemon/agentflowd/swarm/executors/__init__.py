"""Executors: how an agent's work is actually done. Each kind is imported only when used."""

from __future__ import annotations

import importlib

from agentflowd.skills.schema import enum_at
from agentflowd.swarm.errors import SwarmConfigError
from agentflowd.swarm.executors.base import AgentSetup, ExecutorAgent

__all__ = ["KINDS", "AgentSetup", "ExecutorAgent", "make_agent"]

KINDS = enum_at("skill", ("agents", 0, "executor", "kind"))

# kind -> (module under agentflowd.swarm.executors, agent class)
_CLASSES = {
    "command": ("command", "CommandAgent"),
    "python": ("python", "PythonAgent"),
    "claude": ("claude", "ClaudeAgent"),
    "anthropic": ("anthropic", "AnthropicAgent"),
    "openai": ("openai", "OpenAIAgent"),
}


def make_agent(setup: AgentSetup) -> ExecutorAgent:
    kind = setup.executor.get("kind")
    found = _CLASSES.get(kind) if isinstance(kind, str) else None
    if found is None:
        raise SwarmConfigError(
            f"{setup.where}: unknown executor kind {kind!r} (use one of: {', '.join(KINDS)})"
        )
    module, cls = found
    agent: ExecutorAgent = getattr(importlib.import_module(f"{__name__}.{module}"), cls)(setup)
    return agent
