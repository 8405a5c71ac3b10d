"""`agentflowd skills ...`: thin renderers over agentflowd.skills."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from agentflowd.cli.skills_match import match_command
from agentflowd.errors import NotFoundError

PROJECT = click.option(
    "--project",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Project folder (default: the current directory).",
)


@click.group(name="skills")
def command() -> None:
    """Validate, list, show and match skills."""


@command.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--strict", is_flag=True, help="Apply the open Agent Skills spec exactly.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def validate(paths: tuple[Path, ...], strict: bool, fmt: str) -> None:
    """Check skills, sub-agents and commands. PATH: a SKILL.md, a skill folder, or a tree.

    Exit 0 when there are no errors, 1 when there are, 2 on usage errors.
    """
    from agentflowd.skills import files
    from agentflowd.skills.parse import load_document
    from agentflowd.skills.validate import has_errors, validate_document

    targets = files.expand(paths or (Path.cwd(),))
    reports = []
    for path in targets:
        doc = load_document(path)
        reports.append((path, doc.kind, validate_document(doc, strict=strict)))
    counts = {"error": 0, "warning": 0, "info": 0, "hint": 0}
    for _, _, diags in reports:
        for d in diags:
            counts[d.severity.label] += 1
    if fmt == "json":
        out = {
            "strict": strict,
            "files": [
                {"path": str(p), "kind": k, "diagnostics": [d.to_json() for d in diags]}
                for p, k, diags in reports
            ],
            "summary": {"files": len(reports), **counts},
        }
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        for path, _, diags in reports:
            for d in diags:
                start = d.span.start
                click.echo(
                    f"{path}:{start.line + 1}:{start.character + 1}: "
                    f"{d.severity.label} {d.code} {d.message}"
                )
        click.echo(
            f"{len(reports)} file(s) checked{' (strict)' if strict else ''}: "
            f"{counts['error']} error(s), {counts['warning']} warning(s)",
            err=True,
        )
    if any(has_errors(diags) for _, _, diags in reports):
        sys.exit(1)


def _catalog(project: Path | None, plugin_dirs: tuple[Path, ...] = ()) -> Any:
    from agentflowd.skills.catalog import discover

    return discover(project or Path.cwd(), plugin_dirs=plugin_dirs)


def _tokens(text: str) -> int:
    # About four characters per token for English prose: close enough to budget a listing.
    return max(1, (len(text) + 3) // 4)


def _level1(skill: Any) -> dict[str, Any]:
    entry = f"- {skill.name}: {skill.listing_text}"
    return {
        "name": skill.name,
        "description": skill.listing_text,
        "source": skill.source,
        "kind": skill.kind,
        "path": str(skill.path),
        "model_invocable": not skill.disable_model_invocation,
        "user_invocable": skill.user_invocable,
        "tokens": _tokens(entry) if not skill.disable_model_invocation else 0,
    }


PLUGIN_DIR = click.option(
    "--plugin-dir",
    "plugin_dirs",
    multiple=True,
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="A plugin folder whose skills to include (as `plugin:skill`). Repeatable.",
)


@command.command(name="list")
@PROJECT
@PLUGIN_DIR
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
def list_(project: Path | None, plugin_dirs: tuple[Path, ...], as_json: bool) -> None:
    """Level 1: every skill Claude Code would see, with the context tokens it costs."""
    catalog = _catalog(project, plugin_dirs)
    rows = [_level1(s) for s in catalog.skills]
    shadowed = [
        {"name": s.skill.name, "path": str(s.skill.path), "hidden_by": str(s.by.path)}
        for s in catalog.shadowed
    ]
    if as_json:
        total = sum(r["tokens"] for r in rows)
        click.echo(json.dumps({"skills": rows, "shadowed": shadowed, "total_tokens": total}))
        return
    if not rows:
        click.echo("no skills found")
        return
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        flag = "" if r["model_invocable"] else " [user-only]"
        desc = r["description"] if len(r["description"]) <= 70 else r["description"][:67] + "..."
        click.echo(f"{r['name']:<{width}}  {r['source']:<8} {r['tokens']:>4} tok{flag}  {desc}")
    for s in shadowed:
        click.echo(f"shadowed: {s['name']} at {s['path']} (hidden by {s['hidden_by']})")
    click.echo(f"{len(rows)} skill(s), about {sum(r['tokens'] for r in rows)} tokens of listing")


@command.command()
@click.argument("name")
@PROJECT
@PLUGIN_DIR
@click.option("--level", type=click.IntRange(1, 3), default=2, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def show(
    name: str, project: Path | None, plugin_dirs: tuple[Path, ...], level: int, as_json: bool
) -> None:
    """Show one skill: level 1 (listing), 2 (+ body), 3 (+ bundled files and links)."""
    from agentflowd.skills import resources

    catalog = _catalog(project, plugin_dirs)
    skill = catalog.get(name)
    if skill is None:
        raise NotFoundError(f"no skill named {name!r} (see `agentflowd skills list`)")
    out: dict[str, Any] = _level1(skill)
    if level >= 2:
        out["body"] = skill.body
        out["body_tokens"] = _tokens(skill.body)
    if level >= 3:
        doc = catalog.documents[skill.path]
        out["files"] = resources.bundled_files(skill.folder) if skill.kind == "skill" else {}
        out["links"] = [
            {
                "target": link.target,
                "line": link.span.start.line + 1,
                "external": link.resolved is None,
                "exists": link.exists,
                "escapes": link.escapes,
            }
            for link in resources.body_links(doc)
        ]
    if as_json:
        click.echo(json.dumps(out, ensure_ascii=False))
        return
    click.echo(f"{out['name']} ({out['source']} {out['kind']}, {out['path']})")
    click.echo(f"  {out['description']}")
    click.echo(f"  listing cost: about {out['tokens']} tokens")
    if level >= 2:
        click.echo(f"\n{skill.body.strip()}\n")
    if level >= 3:
        for folder, names in out["files"].items():
            click.echo(f"{folder}/: {len(names)} file(s)")
            for n in names:
                click.echo(f"  {n}")
        for link in out["links"]:
            state = (
                "external"
                if link["external"]
                else "escapes the skill folder"
                if link["escapes"]
                else "ok"
                if link["exists"]
                else "BROKEN"
            )
            click.echo(f"link line {link['line']}: {link['target']} ({state})")


# Registered here so `skills --help` lists it; the module imports only click at load time.
command.add_command(match_command, "match")
