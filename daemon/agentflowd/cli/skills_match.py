"""`agentflowd skills match`: route a prompt (or a file of prompts) to a skill, or to none."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import click

from agentflowd.errors import UsageError

DAEMON_TIMEOUT = 2.0  # the first match after a daemon starts waits for its model
BATCH_CHUNK = 256  # prompts embedded per step in --batch: bounded memory, steady output


@click.command(name="match")
@click.argument("prompt", required=False)
@click.option(
    "--batch",
    type=click.File("r", encoding="utf-8"),
    default=None,
    help="Match every line of FILE ('-' for stdin); print one JSON object per line.",
)
@click.option(
    "--project",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Project folder (default: the current directory).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON document.")
def match_command(
    prompt: str | None, batch: IO[str] | None, project: Path | None, as_json: bool
) -> None:
    """Name the skill PROMPT should activate, or none, with the top candidates and scores."""
    if (prompt is None) == (batch is None):
        raise UsageError("give exactly one of PROMPT or --batch FILE")
    root = _project_root(project)
    if batch is not None:
        skills = _skills(root)
        for row in _match_lines(root, skills, batch):
            click.echo(json.dumps(row, ensure_ascii=False))
        return
    assert prompt is not None
    from agentflowd.ipc.client import call_or_none

    # A running daemon has the model loaded and the catalog indexed: milliseconds, not a second.
    result = call_or_none(root, "skills.match", {"prompt": prompt}, timeout=DAEMON_TIMEOUT)
    if result is None:
        from agentflowd.embed import prefer_quick_start

        prefer_quick_start()  # one prompt to embed: a fast load beats a fast graph
        result = _match(root, _skills(root), [prompt])[0]
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
        return
    _print_text(result, has_skills=bool(result["candidates"]))


def _project_root(project: Path | None) -> Path:
    from agentflowd.project import find_project_root

    if project is None:
        return find_project_root(Path.cwd())
    if not project.is_dir():
        raise UsageError(f"no such project folder: {project}")
    return project.resolve()


def _skills(root: Path) -> tuple[Any, ...]:
    from agentflowd.skills.catalog import discover

    return discover(root).model_invocable


def _match(root: Path, skills: Sequence[Any], prompts: Sequence[str]) -> list[dict[str, Any]]:
    if not skills:
        # Nothing can match: answer without loading the model.
        return [{"prompt": p, "skill": None, "score": 0.0, "candidates": []} for p in prompts]
    return [r.to_json() for r in _matcher(root, skills).match(prompts)]


_matchers: dict[Path, Any] = {}


def _matcher(root: Path, skills: Sequence[Any]) -> Any:
    from agentflowd.match.matcher import SkillMatcher

    if root not in _matchers:
        _matchers[root] = SkillMatcher.for_project(root, skills)
        problem = _matchers[root].cache.load_error or _matchers[root].cache.write_error
        if problem:
            click.echo(f"agentflowd: embedding cache: {problem} (matching without it)", err=True)
    return _matchers[root]


def _match_lines(root: Path, skills: Sequence[Any], lines: IO[str]) -> Iterator[dict[str, Any]]:
    chunk: list[str] = []
    for line in lines:
        chunk.append(line.rstrip("\r\n"))
        if len(chunk) == BATCH_CHUNK:
            yield from _match(root, skills, chunk)
            chunk = []
    if chunk:
        yield from _match(root, skills, chunk)


def _print_text(result: dict[str, Any], *, has_skills: bool) -> None:
    if not has_skills:
        click.echo("no skill matched: the project has no model-invocable skills")
        return
    if result["skill"] is None:
        click.echo("no skill matched")
    else:
        click.echo(f"matched: {result['skill']} (score {result['score']:.2f})")
    click.echo("candidates:")
    width = max(len(c["skill"]) for c in result["candidates"])
    for c in result["candidates"]:
        click.echo(f"  {c['skill']:<{width}}  {c['score']:.2f}")
