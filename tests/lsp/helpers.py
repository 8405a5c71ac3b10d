"""Shared bits of the LSP tests: a scratch project and an independent position converter."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest_lsp
from lsprotocol import types as lsp

REPO = Path(__file__).resolve().parents[2]

# Emoji (astral: 2 UTF-16 units), CJK (3 UTF-8 bytes) and CRLF line ends, with findings after
# the wide characters so every column conversion shows.
SKILL_TEXT = (
    "---\r\n"
    "name: demo\r\n"
    "description: Reviews 😀 code 中文 and reports. Use for reviews.\r\n"
    'metadata: {note: "😀😀"}\r\n'
    "effort: hihg\r\n"
    "coordination:\r\n"
    "  topology: mesh\r\n"
    "  consensus: majorty\r\n"
    "agents:\r\n"
    "  - type: reviewer\r\n"
    "    count: 2\r\n"
    "---\r\n"
    "# Demo 😀\r\n"
    "\r\n"
    "中文 [run](scripts/run.sh) and [ref](references/guide.md).\r\n"
    "## Steps\r\n"
)

AGENT_TEXT = "---\nname: security-auditor\ndescription: Audits code.\ncapabilities: [security]\n---\nYou audit.\n"


def make_project(root: Path) -> Path:
    project = root / "proj"
    skill = project / ".claude" / "skills" / "demo"
    (skill / "references").mkdir(parents=True)
    (skill / "references" / "guide.md").write_text("# Guide\n")
    (skill / "SKILL.md").write_bytes(SKILL_TEXT.encode())
    agents = project / ".claude" / "agents"
    agents.mkdir(parents=True)
    (agents / "security-auditor.md").write_text(AGENT_TEXT)
    other = project / ".claude" / "skills" / "broken"
    other.mkdir()
    (other / "SKILL.md").write_text("---\nname: wrong-name\ndescription: x\n---\nBody\n")
    (project / ".git").mkdir()
    return project


def server_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTFLOWD_", "XDG_"))}
    env["HOME"] = str(home)
    return env


SERVER_COMMAND = [sys.executable, "-m", "agentflowd", "serve"]


def client_units(line: str, column: int, encoding: str) -> int:
    """`column` (code points) as the client counts it, computed with Python's codecs."""
    head = line[:column]
    if encoding == "utf-8":
        return len(head.encode("utf-8"))
    if encoding == "utf-16":
        return len(head.encode("utf-16-le")) // 2
    return len(head)


def capabilities(editor: str) -> lsp.ClientCapabilities:
    return pytest_lsp.client_capabilities(editor)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
