"""`agentflowd skills match`: route a prompt (or a file of prompts) to a skill, or to none."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
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
        for row in _match_chunks(root, _skills(root), _chunks(batch)):
            click.echo(json.dumps(row, ensure_ascii=False))
        return
    assert prompt is not None
    from agentflowd.ipc.client import call_or_none

    # A running daemon has the model loaded and the catalog indexed: milliseconds, not a second.
    result = call_or_none(root, "skills.match", {"prompt": prompt}, timeout=DAEMON_TIMEOUT)
    if result is None:
        from agentflowd.embed import prefer_quick_start

        prefer_quick_start()  # one prompt to embed: a fast load beats a fast graph
        result = next(_match_chunks(root, _skills(root), [[prompt]]))
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


def _match_chunks(
    root: Path, skills: Sequence[Any], chunks: Iterable[Sequence[str]]
) -> Iterator[dict[str, Any]]:
    """Results in input order. The model is loaded once, and only if some skill could match."""
    from agentflowd.match import MatchResult

    matcher = None
    for chunk in chunks:
        if not skills:
            yield from (MatchResult.nothing(p).to_json() for p in chunk)
            continue
        if matcher is None:
            matcher = _matcher(root, skills)
        yield from (r.to_json() for r in matcher.match(chunk))


def _matcher(root: Path, skills: Sequence[Any]) -> Any:
    from agentflowd.match.matcher import SkillMatcher

    matcher = SkillMatcher.for_project(root, skills)
    problem = matcher.cache.load_error or matcher.cache.write_error
    if problem:
        click.echo(f"agentflowd: embedding cache: {problem} (matching without it)", err=True)
    return matcher


def _chunks(lines: IO[str]) -> Iterator[list[str]]:
    chunk: list[str] = []
    for line in lines:
        chunk.append(line.rstrip("\r\n"))
        if len(chunk) == BATCH_CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


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
