"""Tools the anthropic and openai executors give a model: read-only project access and messaging.

Paths are confined to the project folder. Claude Code's names for the same tools (Read, Glob,
Grep) are accepted in `allowed_tools`, so one agent definition can serve several executors.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentflowd.swarm.agent import AgentContext
from agentflowd.swarm.errors import SwarmConfigError
from agentflowd.swarm.topology import UnknownRecipient

MAX_READ = 100_000
MAX_LIST = 500
MAX_MATCHES = 200
_SKIP = {".git", "node_modules", ".venv", "__pycache__", ".agentflow"}


class ToolError(Exception):
    """The model called a tool wrongly; the message goes back to it as an error result."""


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    schema: Mapping[str, Any]
    fn: Callable[[Mapping[str, Any], AgentContext], str]


def _inside(ctx: AgentContext, rel: Any) -> Path:
    if not isinstance(rel, str) or not rel:
        raise ToolError("`path` must be a non-empty string")
    root = ctx.project.resolve()
    path = (root / rel).resolve()
    if not path.is_relative_to(root):
        raise ToolError(f"{rel} is outside the project")
    return path


def _read_file(args: Mapping[str, Any], ctx: AgentContext) -> str:
    path = _inside(ctx, args.get("path"))
    if not path.is_file():
        raise ToolError(f"no such file: {args.get('path')}")
    text = path.read_text(encoding="utf-8", errors="replace")
    if len(text) > MAX_READ:
        return text[:MAX_READ] + f"\n[... {len(text) - MAX_READ} more characters not shown]"
    return text


def _walk(root: Path) -> list[Path]:
    out: list[Path] = []
    stack = [root]
    while stack and len(out) < 50_000:
        folder = stack.pop()
        try:
            entries = sorted(folder.iterdir())
        except OSError:
            continue
        for entry in entries:
            if entry.name in _SKIP:
                continue
            if entry.is_dir() and not entry.is_symlink():
                stack.append(entry)
            elif entry.is_file():
                out.append(entry)
    return out


def _matches(rel: Path, pattern: str | None) -> bool:
    # PurePath.match anchors at the right, so `*.py` matches at any depth; no pattern matches all.
    return pattern is None or rel.match(pattern)


def _list_files(args: Mapping[str, Any], ctx: AgentContext) -> str:
    pattern = args.get("pattern") or None
    if pattern is not None and not isinstance(pattern, str):
        raise ToolError("`pattern` must be a glob string")
    root = ctx.project.resolve()
    hits = sorted(
        str(p.relative_to(root)) for p in _walk(root) if _matches(p.relative_to(root), pattern)
    )
    more = f"\n[... {len(hits) - MAX_LIST} more]" if len(hits) > MAX_LIST else ""
    return "\n".join(hits[:MAX_LIST]) + more if hits else "(no files match)"


def _grep(args: Mapping[str, Any], ctx: AgentContext) -> str:
    pattern = args.get("pattern")
    if not isinstance(pattern, str) or not pattern:
        raise ToolError("`pattern` must be a regular expression")
    try:
        rx = re.compile(pattern)
    except re.error as exc:
        raise ToolError(f"bad regular expression: {exc}") from exc
    glob = args.get("glob") or None
    root = ctx.project.resolve()
    out = []
    for path in _walk(root):
        rel = path.relative_to(root)
        if not _matches(rel, glob) or path.stat().st_size > 2_000_000:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        for n, line in enumerate(text.splitlines(), 1):
            if rx.search(line):
                out.append(f"{rel}:{n}: {line.strip()[:300]}")
                if len(out) >= MAX_MATCHES:
                    return "\n".join(out) + "\n[... more matches not shown]"
    return "\n".join(out) or "(no matches)"


def _send_message(args: Mapping[str, Any], ctx: AgentContext) -> str:
    to = args.get("to")
    if not isinstance(to, str) or not to:
        raise ToolError('`to` must be an agent id or "*"')
    try:
        sent = ctx.send(to, args.get("content"))
    except UnknownRecipient as exc:
        raise ToolError(str(exc)) from exc
    return f"delivered to {', '.join(m.recipient for m in sent) or 'nobody'}"


TOOLS: dict[str, Tool] = {
    t.name: t
    for t in (
        Tool(
            "read_file",
            "Read a text file of the project.",
            {
                "type": "object",
                "properties": {
                    "path": {"type": "string", "description": "Path relative to the project root."}
                },
                "required": ["path"],
            },
            _read_file,
        ),
        Tool(
            "list_files",
            "List project files matching a glob (e.g. `src/**/*.py`).",
            {"type": "object", "properties": {"pattern": {"type": "string"}}, "required": []},
            _list_files,
        ),
        Tool(
            "grep",
            "Search project files for a regular expression; returns path:line: text.",
            {
                "type": "object",
                "properties": {
                    "pattern": {"type": "string"},
                    "glob": {"type": "string", "description": "Only files matching this glob."},
                },
                "required": ["pattern"],
            },
            _grep,
        ),
        Tool(
            "send_message",
            'Send a message to another agent of the swarm (its id), or "*" for every agent you can reach.',
            {
                "type": "object",
                "properties": {"to": {"type": "string"}, "content": {"type": "string"}},
                "required": ["to", "content"],
            },
            _send_message,
        ),
    )
}
CLAUDE_NAMES = {
    "Read": "read_file",
    "Glob": "list_files",
    "Grep": "grep",
    "SendMessage": "send_message",
}


def select(names: tuple[str, ...] | None, where: str) -> tuple[Tool, ...]:
    """The tools an agent may call: all of them by default, else the ones named."""
    if names is None:
        return tuple(TOOLS.values())
    out = []
    for name in names:
        key = CLAUDE_NAMES.get(name, name)
        if key not in TOOLS:
            known = ", ".join(TOOLS) + " (or Claude Code's Read, Glob, Grep)"
            raise SwarmConfigError(f"{where}: no tool {name!r} in this executor; it offers {known}")
        if TOOLS[key] not in out:
            out.append(TOOLS[key])
    return tuple(out)


def call(tools: tuple[Tool, ...], name: str, args: Any, ctx: AgentContext) -> tuple[str, bool]:
    """Run one tool call; (text for the model, is_error)."""
    tool = next((t for t in tools if t.name == name), None)
    if tool is None:
        return f"no tool named {name!r} is available", True
    if not isinstance(args, Mapping):
        return "tool arguments must be a JSON object", True
    try:
        return tool.fn(args, ctx), False
    except ToolError as exc:
        return str(exc), True
    except OSError as exc:
        return f"{type(exc).__name__}: {exc}", True
