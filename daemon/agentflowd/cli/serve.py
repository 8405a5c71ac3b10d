"""`agentflowd serve`: the daemon. A language server over stdio for editors and Claude Code, plus
the project's local socket; `--no-lsp` runs the socket alone (what `daemon start` launches)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click


@click.command(name="serve")
@click.option(
    "--tcp",
    "tcp_port",
    type=click.IntRange(1, 65535),
    help="Serve LSP on this TCP port (debugging).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Host for --tcp.")
@click.option(
    "--project",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="Project folder (default: the editor's workspace, else the current directory's project).",
)
@click.option("--no-lsp", is_flag=True, help="Serve only the local socket (a background daemon).")
@click.option("--no-socket", is_flag=True, help="Serve only LSP, without the local socket.")
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="warning",
    show_default=True,
    help="Level of the log written to stderr (stdout belongs to the protocol).",
)
def command(
    tcp_port: int | None,
    host: str,
    project: Path | None,
    no_lsp: bool,
    no_socket: bool,
    log_level: str,
) -> None:
    """Run the daemon. Exits when the editor closes stdin or sends `exit`."""
    from agentflowd.errors import UsageError

    logging.basicConfig(
        stream=sys.stderr,
        level=log_level.upper(),
        format="%(asctime)s agentflowd[%(process)d] %(levelname)s %(name)s: %(message)s",
    )
    if no_lsp and (no_socket or tcp_port is not None):
        raise UsageError(
            "--no-lsp serves only the socket: it cannot be combined with --no-socket or --tcp"
        )
    if no_lsp:
        from agentflowd.ipc import daemon
        from agentflowd.project import find_project_root

        sys.exit(daemon.run(project or find_project_root()))
    from agentflowd.lsp.server import ServeOptions, run

    options = ServeOptions(project=project, socket=not no_socket)
    sys.exit(run(options, tcp=(host, tcp_port) if tcp_port is not None else None))
