"""`agentflowd hook ...`: entry points for Claude Code hooks (JSON on stdin, JSON on stdout).

A hook runs on every prompt, so it must never block the user or fail loudly: any problem is one
line on stderr and exit 0 with nothing on stdout.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click


@click.group(name="hook")
def command() -> None:
    """Entry points for Claude Code hooks (read the hook's JSON on stdin)."""


@command.command(name="prompt-submit")
def prompt_submit() -> None:
    """UserPromptSubmit: name the project skill that matches the prompt, if one does."""
    try:
        out = _prompt_submit(sys.stdin.read())
    except Exception as exc:  # a hook must never break the prompt; say why on stderr
        click.echo(f"agentflowd hook prompt-submit: {type(exc).__name__}: {exc}", err=True)
        return
    if out is not None:
        click.echo(json.dumps(out, ensure_ascii=False))


def _prompt_submit(raw: str) -> dict[str, Any] | None:
    try:
        event = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"stdin is not JSON ({exc.msg})") from None
    if not isinstance(event, dict):
        raise ValueError("stdin is not a JSON object")
    prompt = event.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        return None
    if prompt.lstrip().startswith("/"):
        return None  # the user already chose a command or skill explicitly
    cwd = event.get("cwd")
    from agentflowd.project import find_project_root
    from agentflowd.skills.catalog import discover

    root = find_project_root(Path(cwd) if isinstance(cwd, str) and cwd else Path.cwd())
    skills = discover(root).model_invocable
    if not skills:
        return None
    from agentflowd.match.matcher import SkillMatcher

    result = SkillMatcher.for_project(root, skills).match_one(prompt)
    if result.skill is None:
        return None
    skill = next(s for s in skills if s.name == result.skill)
    return {
        "hookSpecificOutput": {
            "hookEventName": "UserPromptSubmit",
            "additionalContext": _context(skill.name, skill.description, result.score),
        }
    }


def _context(name: str, description: str, score: float) -> str:
    summary = " ".join(description.split())
    if len(summary) > 200:
        summary = summary[:197].rstrip() + "..."
    return (
        f'agentflowd: the project skill "{name}" matches this request '
        f"(confidence {score:.2f}): {summary} "
        f'Invoke it with the Skill tool (skill: "{name}") before answering, unless the request '
        f"clearly needs something else."
    )
