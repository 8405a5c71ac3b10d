"""The `agentflowd` command line.

Start-up cost matters (hooks and editors call it often), so this module imports only click and the
subcommand modules are loaded on first use. Heavy modules (jsonschema, numpy, onnxruntime, pygls)
are imported inside the commands that need them.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from agentflowd import __version__
from agentflowd.cli.exit_codes import run_guarded

# name -> (module whose `command` is the click command or group, one line of help).
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "skills": ("agentflowd.cli.skills", "Validate, list, show and match skills."),
    "memory": ("agentflowd.cli.memory", "Persistent project memory: store, get, search."),
    "swarm": ("agentflowd.cli.swarm", "Run a skill's agents as a swarm; inspect past runs."),
    "serve": ("agentflowd.cli.serve", "Run the language server over stdio (the daemon)."),
    "daemon": ("agentflowd.cli.daemon", "Start, stop or query a background daemon for a project."),
    "hook": ("agentflowd.cli.hook", "Entry points for Claude Code hooks (read JSON on stdin)."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(SUBCOMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = SUBCOMMANDS.get(cmd_name)
        if entry is None:
            return None
        return importlib.import_module(entry[0]).command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Help must not import every subcommand module just to show one line each.
        with formatter.section("Commands"):
            formatter.write_dl([(name, SUBCOMMANDS[name][1]) for name in sorted(SUBCOMMANDS)])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="agentflowd")
def cli() -> None:
    """agentflowd: skills-first agent orchestration for Claude Code."""


def main(argv: list[str] | None = None) -> Any:
    return run_guarded(cli, argv)
