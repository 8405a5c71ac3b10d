"""From a skill (front-matter, body, sub-agent files, project config) to a runnable Plan.

Where an agent's executor comes from, most specific first:
  1. the skill's `agents[].executor`
  2. `.agentflow/agents.yaml` -> `agents.<type>.executor`
  3. the sub-agent file `.claude/agents/<type>.md` -> `executor`
  4. `.agentflow/agents.yaml` -> `default_executor`
  5. `claude` (Claude Code headless)
Capabilities are the union of the built-in type's, the sub-agent file's, the project config's and
the skill entry's. Everything that can be checked without running is checked here: unknown
types, bad executor settings, missing programs or keys, tasks no agent can do, bad outputs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentflowd.durations import DurationError, parse_duration
from agentflowd.project import state_dir
from agentflowd.skills.model import AgentDef, Skill
from agentflowd.skills.schema import enum_at, subschema_at
from agentflowd.swarm.budget import UNLIMITED, Budget
from agentflowd.swarm.builtins import BUILTIN_TYPES
from agentflowd.swarm.consensus import RULES, ConsensusRule
from agentflowd.swarm.errors import SwarmConfigError
from agentflowd.swarm.executors import KINDS, AgentSetup, make_agent
from agentflowd.swarm.plan import (
    AgentSlot,
    ExecutionPolicy,
    MemorySpec,
    OutputSpec,
    Plan,
    TaskSpec,
    check_plan,
)
from agentflowd.swarm.retry import RetryPolicy
from agentflowd.swarm.topology import TOPOLOGIES

CONFIG_FILE = "agents.yaml"


BACKOFFS = enum_at("skill", ("execution", "retry_policy", "backoff"))
OUTPUT_TYPES = enum_at("skill", ("outputs", 0, "type"))
ROLES = enum_at("skill", ("agents", 0, "role"))
DEFAULT_OUTPUT_PATHS = {
    ("report", "markdown"): "report.md",
    ("report", "json"): "report.json",
    ("report", "sarif"): "report.sarif",
    ("metrics", "json"): "metrics.json",
    ("metrics", "markdown"): "metrics.md",
}


@dataclass(frozen=True)
class ProjectConfig:
    """`.agentflow/agents.yaml`: per-type executors and capabilities, defaults, per-agent budget."""

    path: Path | None = None
    default_executor: Mapping[str, Any] | None = None
    agents: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    agent_budget: Budget = UNLIMITED


def load_project_config(project: Path) -> ProjectConfig:
    path = state_dir(project) / CONFIG_FILE
    if not path.is_file():
        return ProjectConfig()
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise SwarmConfigError(f"{path}: not valid YAML: {exc}") from exc
    except OSError as exc:
        raise SwarmConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    return parse_project_config(data, path)


def parse_project_config(data: Any, path: Path | None = None) -> ProjectConfig:
    where = str(path or CONFIG_FILE)
    if data is None:
        return ProjectConfig(path)
    if not isinstance(data, dict):
        raise SwarmConfigError(f"{where}: must be a mapping")
    unknown = sorted(set(data) - {"default_executor", "agents", "budget"})
    if unknown:
        raise SwarmConfigError(
            f"{where}: unknown keys {', '.join(unknown)} (expected default_executor, agents, budget)"
        )
    default = data.get("default_executor")
    if default is not None:
        _check_executor(default, f"{where}: default_executor")
    agents = data.get("agents") or {}
    if not isinstance(agents, dict):
        raise SwarmConfigError(f"{where}: `agents` must map agent types to settings")
    for name, entry in agents.items():
        if not isinstance(entry, dict) or set(entry) - {"executor", "capabilities"}:
            raise SwarmConfigError(
                f"{where}: agents.{name} may only set `executor` and `capabilities`"
            )
        if "executor" in entry:
            _check_executor(entry["executor"], f"{where}: agents.{name}.executor")
        caps = entry.get("capabilities", [])
        if not isinstance(caps, list) or not all(isinstance(c, str) for c in caps):
            raise SwarmConfigError(f"{where}: agents.{name}.capabilities must be a list of strings")
    budget = data.get("budget") or {}
    if not isinstance(budget, dict) or set(budget) - {"per_agent"}:
        raise SwarmConfigError(f"{where}: `budget` may only set `per_agent`")
    return ProjectConfig(
        path, default, agents, _budget(budget.get("per_agent"), f"{where}: budget.per_agent")
    )


def _check_executor(value: Any, where: str) -> None:
    if not isinstance(value, dict):
        raise SwarmConfigError(f"{where}: must be a mapping with a `kind`")
    import jsonschema

    schema = subschema_at("skill", ("agents", 0, "executor"))
    assert schema is not None
    errors = sorted(
        jsonschema.Draft202012Validator(schema).iter_errors(value), key=lambda e: list(e.path)
    )
    if errors:
        first = errors[0]
        at = ".".join(str(p) for p in first.path)
        raise SwarmConfigError(f"{where}{'.' + at if at else ''}: {first.message}")


def _budget(data: Any, where: str) -> Budget:
    if data is None:
        return Budget()
    if not isinstance(data, dict) or set(data) - {"max_turns", "max_tokens", "max_usd"}:
        raise SwarmConfigError(f"{where}: may set max_turns, max_tokens and max_usd")
    for key in ("max_turns", "max_tokens"):
        value = data.get(key)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 1
        ):
            raise SwarmConfigError(f"{where}.{key}: must be an integer >= 1")
    usd = data.get("max_usd")
    if usd is not None and (isinstance(usd, bool) or not isinstance(usd, int | float) or usd <= 0):
        raise SwarmConfigError(f"{where}.max_usd: must be a number > 0")
    return Budget.from_mapping(data)


def _duration(value: Any, where: str) -> float | None:
    if value is None:
        return None
    try:
        return parse_duration(value)
    except DurationError as exc:
        raise SwarmConfigError(f"{where}: {exc}") from exc


def substitute(text: str, inputs: Mapping[str, str]) -> str:
    """`$name` and `${name}` become the input's value; unknown names stay as written."""

    def repl(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(2)
        return inputs.get(name, m.group(0))

    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_-]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)", repl, text)


def plan_for_skill(
    skill: Skill,
    *,
    project: Path,
    agent_defs: Sequence[AgentDef] = (),
    inputs: Mapping[str, str] | None = None,
    config: ProjectConfig | None = None,
) -> Plan:
    """The plan for a discovered skill (reads `.agentflow/agents.yaml` unless `config` is given)."""
    return build_plan(
        skill.frontmatter,
        skill.body,
        skill=skill.name,
        workdir=skill.folder,
        project=project,
        agent_defs={a.name: a for a in agent_defs},
        config=config if config is not None else load_project_config(project),
        inputs=inputs or {},
    )


def build_plan(
    frontmatter: Mapping[str, Any],
    body: str = "",
    *,
    skill: str,
    workdir: Path,
    project: Path,
    agent_defs: Mapping[str, AgentDef] | None = None,
    config: ProjectConfig | None = None,
    inputs: Mapping[str, str] | None = None,
    preflight: bool = True,
) -> Plan:
    """Turn validated front-matter into a Plan; raises SwarmConfigError / CapabilityError."""
    defs = dict(agent_defs or {})
    config = config or ProjectConfig()
    inputs = dict(inputs or {})
    entries = frontmatter.get("agents")
    if not isinstance(entries, list) or not entries:
        raise SwarmConfigError(
            f"skill {skill!r} has no `agents` to run (add an `agents:` list to its front-matter)"
        )
    default_task = substitute(body.strip(), inputs)
    coord = _mapping(frontmatter.get("coordination"), "coordination")
    execution = _mapping(frontmatter.get("execution"), "execution")
    swarm_budget = _budget(_budget_fields(execution.get("budget")), "execution.budget")
    raw_budget = execution.get("budget")
    per_agent = _budget(
        raw_budget.get("per_agent") if isinstance(raw_budget, dict) else None,
        "execution.budget.per_agent",
    )
    if per_agent.unlimited:
        per_agent = config.agent_budget

    slots: list[AgentSlot] = []
    counters: dict[str, int] = {}
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("type"), str):
            raise SwarmConfigError(f"agents[{index}] needs a `type`")
        slots.extend(
            _slots_for(
                entry,
                index,
                defs,
                config,
                counters,
                default_task,
                inputs,
                workdir,
                project,
                frontmatter,
            )
        )

    topology = coord.get("topology", "mesh")
    if topology not in TOPOLOGIES:
        raise SwarmConfigError(
            f"coordination.topology: unknown {topology!r} (use {', '.join(TOPOLOGIES)})"
        )
    rounds = coord.get("rounds", 1)
    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 1:
        raise SwarmConfigError("coordination.rounds must be an integer >= 1")
    consensus = None
    if coord.get("consensus") is not None:
        if coord["consensus"] not in RULES:
            raise SwarmConfigError(
                f"coordination.consensus: unknown {coord['consensus']!r} (use {', '.join(RULES)})"
            )
        consensus = ConsensusRule(coord["consensus"], coord.get("threshold"), coord.get("quorum"))

    retry = _retry(execution.get("retry_policy"))
    max_concurrent = execution.get("max_concurrent")
    policy = ExecutionPolicy(
        parallel=bool(execution.get("parallel", True)),
        max_concurrent=max_concurrent,
        retry=retry,
        attempt_timeout=_duration(execution.get("timeout"), "execution.timeout"),
        swarm_timeout=_duration(coord.get("timeout"), "coordination.timeout"),
    )
    plan = Plan(
        skill=skill,
        slots=tuple(slots),
        topology=topology,
        rounds=rounds,
        consensus=consensus,
        tasks=_tasks(frontmatter.get("tasks"), inputs),
        policy=policy,
        swarm_budget=swarm_budget,
        agent_budget=per_agent,
        outputs=_outputs(frontmatter.get("outputs")),
        memory=_memory(frontmatter.get("memory"), skill),
        inputs=inputs,
        project=project,
        workdir=workdir,
    )
    check_plan(plan)
    _check_prices(plan)
    if preflight:
        problems = [p for s in plan.slots for p in getattr(s.agent, "preflight", list)()]
        if problems:
            raise SwarmConfigError("cannot start the swarm: " + "; ".join(problems))
    return plan


def _mapping(value: Any, key: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise SwarmConfigError(f"`{key}` must be a mapping")
    return value


def _budget_fields(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k != "per_agent"}
    return value


def _slots_for(
    entry: Mapping[str, Any],
    index: int,
    defs: Mapping[str, AgentDef],
    config: ProjectConfig,
    counters: dict[str, int],
    default_task: str,
    inputs: Mapping[str, str],
    workdir: Path,
    project: Path,
    frontmatter: Mapping[str, Any],
) -> list[AgentSlot]:
    type_ = entry["type"]
    builtin = BUILTIN_TYPES.get(type_)
    agent_def = defs.get(type_)
    configured = config.agents.get(type_, {})
    executor = (
        entry.get("executor")
        or configured.get("executor")
        or (agent_def.executor if agent_def else None)
    )
    if executor is None:
        if builtin is None and agent_def is None:
            known = ", ".join(sorted(BUILTIN_TYPES))
            raise SwarmConfigError(
                f"agents[{index}]: unknown agent type {type_!r}: not a built-in ({known}), no "
                f".claude/agents/{type_}.md, and no executor given"
            )
        executor = config.default_executor or {"kind": "claude"}
    if not isinstance(executor, Mapping) or executor.get("kind") not in KINDS:
        raise SwarmConfigError(
            f"agents[{index}] ({type_}): executor needs a `kind` (one of: {', '.join(KINDS)})"
        )
    caps = set(builtin.capabilities if builtin else ())
    caps |= set(agent_def.capabilities if agent_def else ())
    caps |= set(configured.get("capabilities", ()))
    caps |= set(entry.get("capabilities") or ())
    prompt = (agent_def.system_prompt if agent_def else "") or (
        builtin.system_prompt if builtin else ""
    )
    tools = (
        agent_def.tools
        if agent_def and agent_def.tools is not None
        else (builtin.tools if builtin else None)
    )
    model = agent_def.model if agent_def and agent_def.model else frontmatter.get("model")
    max_turns = agent_def.frontmatter.get("maxTurns") if agent_def else None
    task = entry.get("task")
    instruction = substitute(task, inputs) if isinstance(task, str) else default_task
    timeout = _duration(executor.get("timeout"), f"agents[{index}].executor.timeout")
    role = entry.get("role", "peer")
    if role not in ROLES:
        raise SwarmConfigError(f"agents[{index}].role must be one of: {', '.join(ROLES)}")
    count = entry.get("count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise SwarmConfigError(f"agents[{index}].count must be an integer >= 1")
    out = []
    for _ in range(count):
        counters[type_] = counters.get(type_, 0) + 1
        agent_id = f"{type_}-{counters[type_]}"
        setup = AgentSetup(
            id=agent_id,
            type=type_,
            capabilities=frozenset(caps),
            executor=executor,
            system_prompt=prompt,
            tools=tools,
            model=model if isinstance(model, str) else None,
            max_turns=max_turns if isinstance(max_turns, int) else None,
            workdir=workdir,
            project=project,
            where=f"agents[{index}] ({agent_id})",
        )
        out.append(
            AgentSlot(
                agent=make_agent(setup),
                instruction=instruction,
                role=role,
                weight=float(entry.get("weight", 1.0)),
                executor=str(executor["kind"]),
                timeout=timeout,
            )
        )
    return out


def _retry(value: Any) -> RetryPolicy:
    if value is None:
        return RetryPolicy()
    if not isinstance(value, dict):
        raise SwarmConfigError("execution.retry_policy must be a mapping")
    try:
        policy = RetryPolicy.from_mapping(value)
    except DurationError as exc:
        raise SwarmConfigError(f"execution.retry_policy: {exc}") from exc
    if policy.backoff not in BACKOFFS:
        raise SwarmConfigError(
            f"execution.retry_policy.backoff must be one of: {', '.join(BACKOFFS)}"
        )
    if policy.max_attempts < 1:
        raise SwarmConfigError("execution.retry_policy.max_attempts must be >= 1")
    return policy


def _tasks(value: Any, inputs: Mapping[str, str]) -> tuple[TaskSpec, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise SwarmConfigError("`tasks` must be a list")
    out = []
    for n, item in enumerate(value, 1):
        if isinstance(item, str):
            item = {"task": item}
        if not isinstance(item, dict) or not isinstance(item.get("task"), str):
            raise SwarmConfigError(f"tasks[{n - 1}] needs a `task` (the instruction)")
        requires = item.get("requires") or []
        if not isinstance(requires, list) or not all(isinstance(r, str) for r in requires):
            raise SwarmConfigError(f"tasks[{n - 1}].requires must be a list of capability names")
        type_ = item.get("type")
        out.append(
            TaskSpec(
                id=str(item.get("id") or f"t{n}"),
                instruction=substitute(item["task"], inputs),
                requires=frozenset(requires),
                type=type_ if isinstance(type_, str) else None,
            )
        )
    return tuple(out)


def _outputs(value: Any) -> tuple[OutputSpec, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise SwarmConfigError("`outputs` must be a list")
    out = []
    seen: set[str] = set()
    for n, item in enumerate(value):
        if not isinstance(item, dict) or item.get("type") not in OUTPUT_TYPES:
            raise SwarmConfigError(f"outputs[{n}].type must be one of: {', '.join(OUTPUT_TYPES)}")
        kind = item["type"]
        fmt = item.get("format") or ("markdown" if kind == "report" else "json")
        if (kind, fmt) not in DEFAULT_OUTPUT_PATHS:
            raise SwarmConfigError(f"outputs[{n}]: {kind} cannot be written as {fmt}")
        path = item.get("path") or DEFAULT_OUTPUT_PATHS[(kind, fmt)]
        rel = Path(path)
        if not isinstance(path, str) or rel.is_absolute() or ".." in rel.parts or not rel.parts:
            raise SwarmConfigError(
                f"outputs[{n}].path must be a file name inside the run folder: {path!r}"
            )
        if path in seen:
            raise SwarmConfigError(f"outputs[{n}].path {path!r} is used twice")
        seen.add(path)
        out.append(OutputSpec(kind, fmt, path))
    return tuple(out)


def _memory(value: Any, skill: str) -> MemorySpec | None:
    data = _mapping(value, "memory")
    if not data.get("persistence"):
        return None
    namespace = data.get("namespace") or skill.replace(":", "-")
    if not isinstance(namespace, str):
        raise SwarmConfigError("memory.namespace must be a string")
    return MemorySpec(
        namespace, bool(data.get("vector_search")), _duration(data.get("ttl"), "memory.ttl")
    )


def _check_prices(plan: Plan) -> None:
    if plan.swarm_budget.max_usd is None and plan.agent_budget.max_usd is None:
        return
    unpriced = [
        s.id
        for s in plan.slots
        if s.executor in ("anthropic", "openai") and not s.agent.settings.priced  # type: ignore[attr-defined]
    ]
    if unpriced:
        raise SwarmConfigError(
            f"a max_usd budget is set but the cost of {', '.join(unpriced)} is unknown: give their "
            "executor input_usd_per_mtok and output_usd_per_mtok"
        )
