"""Completion by context: keys from the schema (nested, list items), values, project facts."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentflowd.editing.completion import complete
from agentflowd.editing.facts import (
    AgentType,
    ProjectFacts,
    builtin_agent_types,
)
from agentflowd.skills.model import Position
from agentflowd.skills.parse import parse_document
from agentflowd.skills.schema import load_schema

FACTS = ProjectFacts(
    agents=(AgentType("security-auditor", "Audits code.", Path("/p/.claude/agents/sa.md")),),
    capabilities=("performance", "security"),
    skills=("code-review", "pdf-forms"),
)


def labels(text: str, kind_path: str = "/p/.claude/skills/demo/SKILL.md") -> list[str]:
    """Completion labels at the `‸` in `text`."""
    before, after = text.split("‸")
    line = before.count("\n")
    column = len(before.rsplit("\n", 1)[-1])
    doc = parse_document(before + after, Path(kind_path))
    return [i.label for i in complete(doc, Position(line, column), FACTS)]


@pytest.mark.parametrize(
    ("text", "expected", "absent"),
    [
        ("---\n‸\n---\n", ["name", "description", "coordination", "agents"], []),
        ("---\nname: demo\n‸\n---\n", ["description"], ["name"]),
        ("---\ncoordination:\n  ‸\n---\n", ["topology", "consensus", "timeout"], ["name"]),
        (
            "---\ncoordination:\n  topology: mesh\n  con‸\n---\n",
            ["consensus", "quorum"],
            ["topology"],
        ),
        (
            "---\nexecution:\n  retry_policy:\n    ‸\n---\n",
            ["max_attempts", "backoff", "initial_delay"],
            ["parallel"],
        ),
        ("---\nagents:\n  - ‸\n---\n", ["type", "count", "executor"], ["topology"]),
        (
            "---\nagents:\n  - type: coder\n    ‸\n---\n",
            ["count", "capabilities", "role"],
            ["type"],
        ),
        (
            "---\nagents:\n  - type: coder\n    executor:\n      ‸\n---\n",
            ["kind", "argv", "timeout"],
            ["count"],
        ),
        ("---\noutputs:\n  - type: report\n    ‸\n---\n", ["format", "path"], ["type"]),
        # Agent files and command files use their own schema.
        ("---\n‸\n---\n", ["tools", "permissionMode", "capabilities"], ["agents"]),
    ],
    ids=[
        "top",
        "top-without-present",
        "coordination",
        "coordination-partial",
        "retry-policy",
        "agents-item",
        "agents-item-sibling",
        "executor",
        "outputs-item",
        "agent-file",
    ],
)
def test_key_completion(text: str, expected: list[str], absent: list[str]) -> None:
    path = (
        "/p/.claude/agents/sa.md"
        if "permissionMode" in expected
        else "/p/.claude/skills/demo/SKILL.md"
    )
    got = labels(text, path)
    for key in expected:
        assert key in got
    for key in absent:
        assert key not in got


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("---\ncoordination:\n  topology: ‸\n---\n", ["mesh", "star", "ring", "hierarchy"]),
        (
            "---\ncoordination:\n  consensus: ma‸\n---\n",
            ["majority", "supermajority", "unanimous", "weighted"],
        ),
        (
            "---\nexecution:\n  retry_policy:\n    backoff: ‸\n---\n",
            ["exponential", "linear", "fixed"],
        ),
        ("---\noutputs:\n  - type: report\n    format: ‸\n---\n", ["markdown", "json", "sarif"]),
        ("---\noutputs:\n  - type: ‸\n---\n", ["report", "metrics"]),
        (
            "---\nagents:\n  - type: x\n    executor:\n      kind: ‸\n---\n",
            ["command", "python", "claude", "anthropic", "openai"],
        ),
        ("---\neffort: ‸\n---\n", ["low", "medium", "high", "xhigh", "max"]),
        ("---\ncoordination:\n  timeout: ‸\n---\n", ["300s", "30s", "5m", "1h", "24h"]),
        ("---\nmemory:\n  ttl: ‸\n---\n", ["24h", "30s"]),
        ("---\nuser-invocable: ‸\n---\n", ["true", "false"]),
        ("---\nmodel: ‸\n---\n", ["sonnet", "opus", "haiku", "inherit"]),
        ("---\nname: ‸\n---\n", ["demo"]),
        ("---\nagents:\n  - type: ‸\n---\n", ["security-auditor", *builtin_agent_types()]),
        ("---\nagent: ‸\n---\n", ["Explore", "Plan", "general-purpose", "security-auditor"]),
        ("---\nagents:\n  - type: x\n    capabilities: [sec‸]\n---\n", ["performance", "security"]),
        (
            "---\nagents:\n  - type: x\n    capabilities:\n      - ‸\n---\n",
            ["performance", "security"],
        ),
        ("---\nallowed-tools: [Re‸]\n---\n", ["Read", "Grep"]),
    ],
    ids=[
        "topology",
        "consensus",
        "backoff",
        "output-format",
        "output-type",
        "executor-kind",
        "effort",
        "duration",
        "ttl-duration",
        "boolean",
        "model",
        "name-is-folder",
        "agent-types",
        "claude-subagent",
        "capabilities-flow",
        "capabilities-block",
        "tools",
    ],
)
def test_value_completion(text: str, expected: list[str]) -> None:
    got = labels(text)
    for value in expected:
        assert value in got


def test_value_replaces_the_whole_typed_value_and_adds_space_after_bare_colon() -> None:
    doc = parse_document("---\ncoordination:\n  topology: me # x\n---\n", Path("/p/s/SKILL.md"))
    items = complete(doc, Position(2, 14), FACTS)
    mesh = next(i for i in items if i.label == "mesh")
    assert (mesh.replace.start.character, mesh.replace.end.character) == (12, 14)
    assert mesh.insert_text == "mesh"
    doc = parse_document("---\neffort:\n---\n", Path("/p/s/SKILL.md"))
    high = next(i for i in complete(doc, Position(1, 7), FACTS) if i.label == "high")
    assert high.insert_text == " high"


def test_key_insert_text_opens_nested_blocks() -> None:
    doc = parse_document("---\nagents:\n  - type: x\n    \n---\n", Path("/p/s/SKILL.md"))
    items = {i.label: i for i in complete(doc, Position(3, 4), FACTS)}
    assert items["executor"].insert_text == "executor:\n      "
    assert items["count"].insert_text == "count: "
    top = {i.label: i for i in complete(parse_document("---\n\n---\n"), Position(1, 0), FACTS)}
    assert top["agents"].insert_text == "agents:\n  - "
    assert top["coordination"].insert_text == "coordination:\n  "


def test_keys_under_a_list_without_dash_get_one() -> None:
    doc = parse_document("---\nagents:\n  \n---\n", Path("/p/s/SKILL.md"))
    items = {i.label: i for i in complete(doc, Position(2, 2), FACTS)}
    assert items["type"].insert_text == "- type: "


def test_unclosed_frontmatter_being_typed_still_completes() -> None:
    assert "name" in labels("---\nna‸")
    assert "mesh" in labels("---\ncoordination:\n  topology: ‸")


def test_no_completion_inside_block_scalar_comment_or_other_files() -> None:
    assert labels("---\ndescription: |\n  Use this: ‸\n---\n") == []
    assert labels("---\n# note ‸\n---\n") == []
    assert labels("---\n‸\n---\n", "/p/docs/README.md") == []
    assert labels("‸---\nname: x\n---\n") == []


def test_body_link_completion_lists_bundled_files(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    (folder / "scripts").mkdir(parents=True)
    (folder / "scripts" / "run.sh").write_text("echo\n")
    (folder / "references").mkdir()
    (folder / "references" / "api.md").write_text("# API\n")
    doc = parse_document("---\nname: demo\n---\nSee [run](scr)\n", folder / "SKILL.md")
    items = complete(doc, Position(3, 13), FACTS)
    assert sorted(i.label for i in items) == ["references/api.md", "scripts/run.sh"]
    assert (items[0].replace.start.character, items[0].replace.end.character) == (10, 13)


def test_builtin_agent_types_match_the_schema() -> None:
    item = load_schema("skill")["properties"]["agents"]["items"]["properties"]["type"]
    assert sorted(builtin_agent_types()) == sorted(item["examples"])
