"""The plugin inside the real Claude Code, headless (`claude -p`), against the stand-in API.

What Claude Code sends to the API is the evidence: the skill catalog it lists, the context our
UserPromptSubmit hook added, and the skill body it loads when the model calls the Skill tool.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.anthropic_standin import StandIn, Text, ToolUse, texts, tool_results, tool_uses
from tests.e2e.conftest import SCRATCH_SKILLS, ClaudeRun
from tests.swarm.llm_server import Request

pytestmark = pytest.mark.e2e

HOOK_LINE = "UserPromptSubmit hook additional context:"
REPO_SKILLS = sorted(
    p.parent.name
    for p in (Path(__file__).resolve().parents[2] / ".claude" / "skills").glob("*/SKILL.md")
)


def hook_context(request: Request) -> list[str]:
    """The hook context lines Claude Code put into this request (the line and what follows it)."""
    return [text[text.index(HOOK_LINE) :].strip() for text in texts(request) if HOOK_LINE in text]


def first_turn(standin: StandIn) -> Request:
    turns = standin.main_turns()
    assert turns, "Claude Code sent no request with tools to the stand-in"
    return turns[0]


def test_request_lists_project_skills_and_the_plugin_skills(
    run_claude: Callable[..., ClaudeRun], standin: StandIn, scratch_project: Path
) -> None:
    standin.script([Text("Hello.")])
    result = run_claude(scratch_project, "Say hello.").result
    assert result["is_error"] is False
    assert result["result"] == "Hello."
    listing = "\n".join(texts(first_turn(standin)))
    assert "The following skills are available for use with the Skill tool" in listing
    for name, (description, _, _) in SCRATCH_SKILLS.items():
        assert f"- {name}: {description}" in listing
    for name in REPO_SKILLS:
        assert f"- agentflowd:{name}: " in listing


@pytest.mark.parametrize(
    ("prompt", "skill"),
    [
        ("Please fill out the PDF form tax-return.pdf with my home address.", "pdf-forms"),
        ("Add a nullable column last_login to the users table in the database.", "db-migrations"),
    ],
)
def test_hook_names_the_matching_skill(
    run_claude: Callable[..., ClaudeRun],
    standin: StandIn,
    scratch_project: Path,
    prompt: str,
    skill: str,
) -> None:
    standin.script([Text("On it.")])
    run = run_claude(scratch_project, prompt)
    assert run.result["is_error"] is False
    lines = hook_context(first_turn(standin))
    assert len(lines) == 1, f"expected one hook context line, got {lines}; stderr: {run.stderr}"
    assert skill in lines[0]
    others = set(SCRATCH_SKILLS) - {skill}
    assert not [name for name in others if name in lines[0]], lines[0]


def test_off_topic_prompt_adds_no_context(
    run_claude: Callable[..., ClaudeRun], standin: StandIn, scratch_project: Path
) -> None:
    standin.script([Text("Leaves.")])
    run = run_claude(scratch_project, "Write a haiku about autumn leaves falling in the rain.")
    assert run.result["is_error"] is False
    assert hook_context(first_turn(standin)) == []


@pytest.mark.parametrize(
    ("skill", "marker"),
    [
        ("pdf-forms", "MARKER-PDF-FORMS"),
        # A skill the plugin ships (this repository's own), loaded from the plugin directory.
        ("agentflowd:skill-authoring", None),
    ],
)
def test_skill_tool_use_loads_the_skill(
    run_claude: Callable[..., ClaudeRun],
    standin: StandIn,
    scratch_project: Path,
    skill: str,
    marker: str | None,
) -> None:
    if marker is None:
        body = Path(__file__).resolve().parents[2] / ".claude" / "skills" / skill.split(":")[1]
        marker = _first_body_line(body / "SKILL.md")
    standin.script([ToolUse("Skill", {"skill": skill})], [Text("Skill applied.")])
    result = run_claude(scratch_project, "Use the skill.").result
    assert result["is_error"] is False
    assert result["result"] == "Skill applied."
    turns = standin.main_turns()
    assert len(turns) == 2, [t.body.get("messages", [])[-1:] for t in turns]
    follow_up = turns[1]
    [tool_use] = tool_uses(follow_up)
    assert tool_use["name"] == "Skill"
    [tool_result] = tool_results(follow_up)
    assert tool_result["tool_use_id"] == tool_use["id"]
    assert not tool_result.get("is_error"), tool_result
    # Claude Code answers the tool call and adds the skill's body right after the tool_result,
    # in the same user message.
    [answer] = [
        message
        for message in follow_up.body["messages"]
        if isinstance(message["content"], list) and tool_result in message["content"]
    ]
    assert answer["role"] == "user"
    assert marker in "\n".join(texts(Request("", {}, {"messages": [answer]}, 0.0)))


def _first_body_line(skill_md: Path) -> str:
    _, _, body = skill_md.read_text().split("---", 2)
    return next(line for line in body.splitlines() if line.strip() and not line.startswith("#"))
