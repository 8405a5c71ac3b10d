"""Click options and helpers shared by the project-scoped command groups (`daemon`, `swarm`)."""

from __future__ import annotations

from pathlib import Path

import click

PROJECT = click.option(
    "--project",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="Project folder (default: the project around the current directory).",
)
JSON = click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")


def project_root(project: Path | None) -> Path:
    """The project `--project` names, else the one around the current directory."""
    from agentflowd.project import find_project_root

    return find_project_root(project.resolve() if project else None)
