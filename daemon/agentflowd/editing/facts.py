"""What the editing features know about the project beyond the file being edited."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentflowd.skills.catalog import Catalog
from agentflowd.skills.schema import load_schema

# Claude Code's own sub-agent types, for a skill's `agent:` (with `context: fork`).
CLAUDE_SUBAGENTS: dict[str, str] = {
    "Explore": "Claude Code built-in: read-only codebase exploration.",
    "Plan": "Claude Code built-in: research for planning.",
    "general-purpose": "Claude Code built-in: a general sub-agent with all tools.",
}
MODEL_ALIASES = ("sonnet", "opus", "haiku", "inherit")
CLAUDE_TOOLS = (
    "Bash",
    "Edit",
    "Glob",
    "Grep",
    "LS",
    "MultiEdit",
    "NotebookEdit",
    "Read",
    "Task",
    "TodoWrite",
    "WebFetch",
    "WebSearch",
    "Write",
)
DURATIONS = ("30s", "5m", "1h", "24h")


@functools.cache
def builtin_agent_types() -> dict[str, AgentType]:
    """The swarm engine's built-in agent types with their capabilities; the schema's list of
    names when the engine is not installed."""
    try:
        from agentflowd.swarm.builtins import BUILTIN_TYPES
    except ImportError:
        item = load_schema("skill")["properties"]["agents"]["items"]["properties"]["type"]
        return {name: AgentType(name, "Built-in agent type.") for name in item["examples"]}
    return {
        name: AgentType(
            name,
            "Built-in agent type; capabilities: " + ", ".join(sorted(t.capabilities)),
            capabilities=tuple(sorted(t.capabilities)),
        )
        for name, t in BUILTIN_TYPES.items()
    }


@dataclass(frozen=True)
class AgentType:
    name: str
    description: str
    path: Path | None = None  # the `.claude/agents/<name>.md` file; None for built-ins
    capabilities: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProjectFacts:
    agents: tuple[AgentType, ...] = ()
    capabilities: tuple[str, ...] = ()
    skills: tuple[str, ...] = ()

    def agent(self, name: str) -> AgentType | None:
        for agent in self.agents:
            if agent.name == name:
                return agent
        return builtin_agent_types().get(name)


def facts_from_catalog(catalog: Catalog, extra_frontmatter: Iterable[Any] = ()) -> ProjectFacts:
    """Agent types, capability names and skill names in use, from the catalog and from any other
    front-matter (open editor buffers) passed in `extra_frontmatter`."""
    capabilities: set[str] = set()
    for builtin in builtin_agent_types().values():
        capabilities.update(builtin.capabilities)
    for agent in catalog.agents:
        capabilities.update(agent.capabilities)
    for data in [s.frontmatter for s in catalog.skills] + list(extra_frontmatter):
        capabilities.update(_capabilities_in(data))
    return ProjectFacts(
        agents=tuple(
            AgentType(a.name, a.description, a.path, a.capabilities) for a in catalog.agents
        ),
        capabilities=tuple(sorted(capabilities)),
        skills=tuple(s.name for s in catalog.skills),
    )


def _capabilities_in(data: Any) -> set[str]:
    found: set[str] = set()
    if not isinstance(data, dict):
        return found
    caps = data.get("capabilities")
    if isinstance(caps, list):
        found.update(c for c in caps if isinstance(c, str) and c)
    agents = data.get("agents")
    if isinstance(agents, list):
        for item in agents:
            found.update(_capabilities_in(item))
    return found
