"""From skill front-matter (+ sub-agent files + .agentflow/agents.yaml) to a Plan."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from agentflowd.skills.catalog import discover
from agentflowd.swarm.build import (
    build_plan,
    load_project_config,
    parse_project_config,
    plan_for_skill,
)
from agentflowd.swarm.builtins import BUILTIN_TYPES
from agentflowd.swarm.errors import CapabilityError, SwarmConfigError


def build(fm: dict[str, Any], tmp_path: Path, **kw: Any):
    kw.setdefault("preflight", False)
    return build_plan(
        fm, kw.pop("body", "Do the thing."), skill="s", workdir=tmp_path, project=tmp_path, **kw
    )


def echo(word: str) -> dict[str, Any]:
    return {"kind": "command", "argv": ["echo", word]}


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip())
    return path


@pytest.fixture
def project(tmp_path: Path, home: Path) -> Path:
    root = tmp_path / "proj"
    (root / ".git").mkdir(parents=True)
    write(
        root / ".claude/skills/audit/SKILL.md",
        """
        ---
        name: audit
        description: Audit the code with a swarm.
        agents:
          - {type: reviewer, count: 2, capabilities: [sql]}
          - {type: auditor}
          - {type: tester, task: "Test $module"}
          - {type: coder, executor: {kind: command, argv: [echo, inline]}}
        coordination: {topology: star, timeout: 2m}
        execution: {max_concurrent: 2, timeout: 30s, retry_policy: {max_attempts: 3, backoff: linear, initial_delay: 250ms}, budget: {max_tokens: 5000}}
        outputs: [{type: report}, {type: metrics}]
        ---
        Audit ${module} for problems.
        """,
    )
    write(
        root / ".claude/agents/auditor.md",
        """
        ---
        name: auditor
        description: Audits things.
        capabilities: [audit, compliance]
        executor: {kind: command, argv: [echo, from-agent-file]}
        ---
        You audit for compliance.
        """,
    )
    write(
        root / ".agentflow/agents.yaml",
        """
        default_executor: {kind: command, argv: [echo, default]}
        agents:
          tester:
            executor: {kind: command, argv: [echo, from-config]}
            capabilities: [fuzzing]
        budget:
          per_agent: {max_turns: 7}
        """,
    )
    return root


def test_a_discovered_skill_becomes_a_plan(project: Path) -> None:
    catalog = discover(project)
    skill = catalog.get("audit")
    assert skill is not None
    plan = plan_for_skill(
        skill, project=project, agent_defs=catalog.agents, inputs={"module": "billing"}
    )
    ids = [s.id for s in plan.slots]
    assert ids == ["reviewer-1", "reviewer-2", "auditor-1", "tester-1", "coder-1"]
    argv = {s.id: s.agent.argv[1] for s in plan.slots}  # type: ignore[attr-defined]
    # inline > agents.yaml per type > .claude/agents file > agents.yaml default (> claude)
    assert argv == {
        "reviewer-1": "default",
        "reviewer-2": "default",
        "auditor-1": "from-agent-file",
        "tester-1": "from-config",
        "coder-1": "inline",
    }
    caps = {s.id: s.agent.capabilities for s in plan.slots}
    assert caps["reviewer-1"] == BUILTIN_TYPES["reviewer"].capabilities | {"sql"}
    assert caps["auditor-1"] == {"audit", "compliance"}
    assert caps["tester-1"] == BUILTIN_TYPES["tester"].capabilities | {"fuzzing"}
    instructions = {s.id: s.instruction for s in plan.slots}
    assert instructions["reviewer-1"] == "Audit billing for problems."
    assert instructions["tester-1"] == "Test billing"
    assert (
        plan.topology == "star"
        and plan.policy.swarm_timeout == 120
        and plan.policy.attempt_timeout == 30
    )
    assert plan.policy.max_concurrent == 2
    assert (
        plan.policy.retry.max_attempts,
        plan.policy.retry.backoff,
        plan.policy.retry.initial_delay,
    ) == (3, "linear", 0.25)
    assert plan.swarm_budget.max_tokens == 5000 and plan.agent_budget.max_turns == 7
    assert [(o.type, o.format, o.path) for o in plan.outputs] == [
        ("report", "markdown", "report.md"),
        ("metrics", "json", "metrics.json"),
    ]
    assert plan.workdir == skill.folder and plan.project == project


def test_builtins_default_to_claude_with_their_prompt_and_tools(tmp_path: Path) -> None:
    plan = build(
        {
            "agents": [
                {"type": "reviewer"},
                {"type": "architect", "executor": {"kind": "claude", "system_prompt": "Custom."}},
            ]
        },
        tmp_path,
        body="b",
    )
    reviewer, architect = (s.agent for s in plan.slots)
    assert plan.slots[0].executor == "claude"
    assert reviewer.system_prompt == BUILTIN_TYPES["reviewer"].system_prompt  # type: ignore[attr-defined]
    assert reviewer.tools == BUILTIN_TYPES["reviewer"].tools  # type: ignore[attr-defined]
    assert architect.system_prompt == "Custom."  # type: ignore[attr-defined]


def test_claude_missing_is_refused_before_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(
        SwarmConfigError,
        match=r"cannot start the swarm: reviewer-1: Claude Code \('claude'\) not found",
    ):
        build({"agents": [{"type": "reviewer"}]}, tmp_path, preflight=True)


@pytest.mark.parametrize(
    ("fm", "message"),
    [
        ({}, "has no `agents` to run"),
        ({"agents": [{"type": "wizard"}]}, "unknown agent type 'wizard'"),
        (
            {"agents": [{"type": "coder", "executor": {"kind": "teleport"}}]},
            "executor needs a `kind`",
        ),
        ({"agents": [{"type": "coder", "executor": {"kind": "command"}}]}, "needs `argv`"),
        (
            {"agents": [{"type": "coder", "executor": {"kind": "command", "shell": True}}]},
            "needs a `script`",
        ),
        (
            {"agents": [{"type": "coder", "executor": echo("x") | {"timeout": "soon"}}]},
            "executor.timeout",
        ),
        (
            {
                "agents": [{"type": "coder", "executor": echo("x")}],
                "coordination": {"topology": "blob"},
            },
            "unknown 'blob'",
        ),
        (
            {
                "agents": [{"type": "coder", "executor": echo("x")}],
                "outputs": [{"type": "metrics", "format": "sarif"}],
            },
            "metrics cannot be written as sarif",
        ),
        (
            {
                "agents": [{"type": "coder", "executor": echo("x")}],
                "outputs": [{"type": "report", "path": "../../etc/x"}],
            },
            "inside the run folder",
        ),
        (
            {
                "agents": [{"type": "coder", "executor": echo("x")}],
                "outputs": [{"type": "report"}, {"type": "report"}],
            },
            "used twice",
        ),
        (
            {
                "agents": [{"type": "coder", "executor": echo("x")}],
                "tasks": [{"task": "a"}],
                "coordination": {"topology": "ring"},
            },
            "cannot be used with a ring",
        ),
        (
            {
                "agents": [{"type": "coder", "executor": {"kind": "anthropic", "model": "m"}}],
                "execution": {"budget": {"max_usd": 1}},
            },
            "cost of coder-1 is unknown",
        ),
    ],
)
def test_plans_that_cannot_work_are_refused_with_a_reason(
    fm: dict[str, Any], message: str, tmp_path: Path
) -> None:
    with pytest.raises(SwarmConfigError, match=message):
        build(fm, tmp_path)


def test_tasks_needing_missing_capabilities_are_refused(tmp_path: Path) -> None:
    fm = {
        "agents": [
            {"type": "reviewer", "executor": echo("r")},
            {"type": "coder", "executor": echo("c")},
        ],
        "tasks": [
            "just do it",
            {"task": "audit the crypto", "requires": ["cryptography"]},
            {"id": "fix", "task": "fix", "requires": ["code"], "type": "reviewer"},
        ],
    }
    with pytest.raises(CapabilityError) as refused:
        build(fm, tmp_path)
    text = str(refused.value)
    assert "task 't2' needs cryptography but no agent has it" in text
    assert "task 'fix' needs code but no agent of type 'reviewer' has it" in text


def test_missing_program_is_refused_before_running(tmp_path: Path) -> None:
    with pytest.raises(SwarmConfigError, match="program 'definitely-not-here' not found"):
        build(
            {
                "agents": [
                    {
                        "type": "coder",
                        "executor": {"kind": "command", "argv": ["definitely-not-here"]},
                    }
                ]
            },
            tmp_path,
            preflight=True,
        )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"agentz": {}}, "unknown keys agentz"),
        (
            {"agents": {"coder": {"executor": {"kind": "command", "argv": "echo"}}}},
            r"agents.coder.executor.argv: 'echo' is not of type 'array'",
        ),
        ({"agents": {"coder": {"model": "x"}}}, "may only set `executor` and `capabilities`"),
        ({"default_executor": {"argv": ["x"]}}, "'kind' is a required property"),
        ({"budget": {"per_agent": {"max_tokens": 0}}}, "max_tokens: must be an integer >= 1"),
    ],
)
def test_project_config_errors_name_the_key(data: dict[str, Any], message: str) -> None:
    with pytest.raises(SwarmConfigError, match=message):
        parse_project_config(data)


def test_bad_yaml_in_project_config(tmp_path: Path) -> None:
    write(tmp_path / ".agentflow/agents.yaml", "agents: [unclosed\n")
    with pytest.raises(SwarmConfigError, match="not valid YAML"):
        load_project_config(tmp_path)
    assert load_project_config(tmp_path / "elsewhere").path is None
