"""The plugin's language server inside the real Claude Code: Claude Code starts `agentflowd serve`
from `lspServers`, routes the LSP tool to it for `.md` files, and hands its diagnostics to the
model after an edit."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.anthropic_standin import StandIn, Text, ToolUse, texts, tool_results, tool_uses
from tests.e2e.conftest import ClaudeRun

pytestmark = pytest.mark.e2e

LOAD_LSP_TOOL = ToolUse("ToolSearch", {"query": "select:LSP"})


def lsp(operation: str, path: Path, line: int, character: int) -> ToolUse:
    return ToolUse(
        "LSP", {"operation": operation, "filePath": str(path), "line": line, "character": character}
    )


def answers(standin: StandIn) -> dict[str, str]:
    """tool_use id -> the text of its tool_result, over the whole conversation."""
    out: dict[str, str] = {}
    for turn in standin.main_turns():
        for result in tool_results(turn):
            content = result["content"]
            out[result["tool_use_id"]] = content if isinstance(content, str) else str(content)
    return out


def test_lsp_tool_is_answered_by_agentflowd_serve(
    run_claude: Callable[..., ClaudeRun], standin: StandIn, scratch_project: Path
) -> None:
    skill_md = scratch_project / ".claude" / "skills" / "pdf-forms" / "SKILL.md"
    standin.script(
        [LOAD_LSP_TOOL],
        [lsp("documentSymbol", skill_md, 1, 1)],
        [lsp("hover", skill_md, 2, 2)],  # on the `name` key (1-based, as Claude Code counts)
        [Text("Looked.")],
    )
    result = run_claude(scratch_project, "Show me the outline of the pdf-forms skill.").result
    assert result["is_error"] is False
    replies = answers(standin)
    symbols_id, hover_id = (t["id"] for t in tool_uses(standin.main_turns()[-1], "LSP"))
    assert "name (Property) pdf-forms" in replies[symbols_id]
    assert "description (Property)" in replies[symbols_id]
    assert "**`name`**" in replies[hover_id]
    assert "lowercase letters, digits and single hyphens" in replies[hover_id]


def test_diagnostics_after_a_write_reach_the_model(
    run_claude: Callable[..., ClaudeRun], standin: StandIn, scratch_project: Path
) -> None:
    # Claude Code refuses writes under .claude/ in print mode, so the skill being authored sits
    # in a plugin-style skills/ folder, which the server checks all the same.
    broken = scratch_project / "skills" / "fan-out" / "SKILL.md"
    content = (
        "---\nname: fan-out\ndescription: Runs reviewers in parallel.\n"
        "coordination:\n  topology: blob\n---\n# Fan out\n"
    )
    standin.script(
        [ToolUse("Write", {"file_path": str(broken), "content": content})],
        # An LSP request on the file orders things: the server publishes the file's
        # diagnostics before it answers, so they are registered before the next turn.
        [LOAD_LSP_TOOL],
        [lsp("documentSymbol", broken, 1, 1)],
        [Text("Written.")],
    )
    run = run_claude(
        scratch_project, "Create the fan-out skill.", "--permission-mode", "acceptEdits"
    )
    assert run.result["is_error"] is False
    assert broken.read_text() == content
    turns = standin.main_turns()
    assert len(turns) == 4
    reported = [
        text
        for turn in turns[1:]
        for text in texts(turn)  # attachments come as role "system" messages
        if "<new-diagnostics>" in text and "(agentflowd)" in text
    ]
    assert reported, "no agentflowd diagnostics reached the model"
    assert "[AF022]" in reported[0]
    assert "`coordination.topology` must be one of mesh, star, ring, hierarchy" in reported[0]
    assert "[Line 5:" in reported[0]
