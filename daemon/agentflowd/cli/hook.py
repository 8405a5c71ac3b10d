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

# The first match after a daemon starts waits for its model; past this, match in-process.
DAEMON_TIMEOUT = 1.0
# About 35 ms a skill to embed cold: up to this many, matching inline stays well under 5 s.
COLD_INLINE_SKILLS = 40


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

    root = find_project_root(Path(cwd) if isinstance(cwd, str) and cwd else Path.cwd())
    from agentflowd.ipc.client import call_or_none

    match = call_or_none(root, "skills.match", {"prompt": prompt}, timeout=DAEMON_TIMEOUT)
    if match is None:
        match = _match_in_process(root, prompt)
    if match is None or match.get("skill") is None:
        return None
    return {
        "hookSpecificOutput": {
            "hookEventName": "UserPromptSubmit",
            "additionalContext": _context(match["skill"], float(match.get("score") or 0.0)),
        }
    }


def _match_in_process(root: Path, prompt: str) -> dict[str, Any] | None:
    from agentflowd.match.cache import cache_path
    from agentflowd.skills.catalog import discover

    skills = discover(root).model_invocable
    if not skills:
        return None
    if len(skills) > COLD_INLINE_SKILLS and not cache_path(root).exists():
        # Embedding a large catalog can outlast the hook's timeout, and a killed hook saves
        # nothing, so every later prompt would be cold again. Warm the cache in the background
        # and stay silent this once.
        _warm_up(root)
        return None
    from agentflowd.embed import prefer_quick_start
    from agentflowd.match.matcher import SkillMatcher

    prefer_quick_start()  # only the prompt is embedded here; the skills come from the cache
    return SkillMatcher.for_project(root, skills).match_one(prompt).to_json()


def _warm_up(root: Path) -> None:
    import subprocess

    from agentflowd.cli.process import alive
    from agentflowd.match.cache import cache_path

    marker = cache_path(root).with_name("warm-up.pid")
    try:
        if alive(int(marker.read_text())):
            return  # one warm-up at a time: prompts typed meanwhile must not start more
    except (OSError, ValueError):
        pass
    child = subprocess.Popen(
        [sys.executable, "-m", "agentflowd", "skills", "match", "warm-up", "--project", str(root)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(str(child.pid))
    except OSError:
        pass  # a read-only project still gets its warm-up, just without the guard
    click.echo("agentflowd hook: indexing this project's skills in the background", err=True)


def _context(name: str, score: float) -> str:
    return (
        f'agentflowd: the project skill "{name}" matches this request '
        f"(confidence {score:.2f}). "
        f'Invoke it with the Skill tool (skill: "{name}") before answering, unless the request '
        f"clearly needs something else."
    )
