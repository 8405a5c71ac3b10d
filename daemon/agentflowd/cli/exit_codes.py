"""Exit codes of every `agentflowd` command, and the one place that maps exceptions to them.

0  success (for `validate`: no errors; warnings may have been printed)
1  the command ran and found problems (validation errors, a failed swarm run)
2  usage error: bad flag, bad path, unknown skill or key, malformed input argument
3  the environment failed: I/O error, disk full, database unavailable, daemon unreachable
4  not built yet, or an internal error (a bug: please report it)
130 interrupted (Ctrl-C)
"""

from __future__ import annotations

import errno
import sys
from typing import Any

import click

from agentflowd.errors import AgentflowError, NotBuiltError, NotFoundError, UsageError

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_ENVIRONMENT = 3
EXIT_INTERNAL = 4
EXIT_INTERRUPTED = 130


def exit_code_for(exc: BaseException) -> int:
    if isinstance(exc, UsageError | NotFoundError):
        return EXIT_USAGE
    if isinstance(exc, NotBuiltError):
        return EXIT_INTERNAL
    if isinstance(exc, AgentflowError | OSError):
        return EXIT_ENVIRONMENT
    return EXIT_INTERNAL


def describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return (
            f"disk full: {exc.filename or ''} (nothing was lost: the last write was not committed)"
        )
    if isinstance(exc, OSError) and exc.strerror:
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror}{where}"
    return str(exc) or type(exc).__name__


def run_guarded(cli: click.Group, argv: list[str] | None) -> Any:
    """Run the click group; turn typed errors into one line on stderr and a documented exit code."""
    try:
        return cli.main(args=argv, prog_name="agentflowd", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("agentflowd: interrupted", err=True)
        return EXIT_INTERRUPTED
    except click.ClickException as exc:
        exc.show()
        return EXIT_USAGE
    except KeyboardInterrupt:
        click.echo("agentflowd: interrupted", err=True)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # `agentflowd ... | head` closed our stdout; that is not an error.
        sys.stderr.close()
        return EXIT_OK
    except (AgentflowError, OSError) as exc:
        click.echo(f"agentflowd: {describe(exc)}", err=True)
        return exit_code_for(exc)
