"""`agentflowd swarm ...`: run a skill's agents, list past runs, show one, stream its events."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import click

from agentflowd.cli.options import JSON, PROJECT, project_root
from agentflowd.cli.process import alive
from agentflowd.errors import NotFoundError, UsageError


@click.group(name="swarm")
def command() -> None:
    """Run a skill's agents as a swarm; inspect past runs."""


def _inputs(pairs: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--input needs KEY=VALUE, got {pair!r}")
        out[key.strip()] = value
    return out


@command.command("run")
@click.argument("skill")
@click.option(
    "--input",
    "inputs",
    multiple=True,
    metavar="KEY=VALUE",
    help="A value for $KEY in the skill (repeatable).",
)
@PROJECT
@JSON
def run_cmd(skill: str, inputs: tuple[str, ...], project: Path | None, as_json: bool) -> None:
    """Run SKILL's agents. Exit 0 when the run succeeded, 1 when it failed or was partial, 130 when interrupted."""
    from agentflowd.skills.catalog import discover
    from agentflowd.swarm.build import plan_for_skill
    from agentflowd.swarm.progress import Progress
    from agentflowd.swarm.runner import run_plan

    root = project_root(project)
    values = _inputs(inputs)
    catalog = discover(root)
    found = catalog.get(skill)
    if found is None:
        known = ", ".join(s.name for s in catalog.skills if s.frontmatter.get("agents")) or "none"
        raise NotFoundError(f"no skill named {skill!r} in {root} (skills with agents: {known})")
    plan = plan_for_skill(found, project=root, agent_defs=catalog.agents, inputs=values)
    progress = None if as_json else Progress(sys.stdout, tty=sys.stdout.isatty())
    record = run_plan(plan, project=root, progress=progress, handle_signals=True)
    result = record.result
    if as_json:
        out = {
            **result.to_json(),
            "run_dir": str(record.run_dir),
            "outputs": [str(p) for p in record.outputs],
            "run_file": str(record.run_file),
            "events": {**result.to_json()["events"], "recorded": record.events_recorded},
        }
        if record.record_error:
            out["warnings"] = [record.record_error]
        if record.memory_key is not None:
            out["memory"] = {"namespace": record.memory_key[0], "key": record.memory_key[1]}
        click.echo(json.dumps(out, ensure_ascii=False, default=str))
    else:
        _summary(record)
    sys.exit(record.exit_code)


def _summary(record: Any) -> None:
    result = record.result
    click.echo("")
    click.echo(
        f"run {result.run_id}: {result.status}" + (f" ({result.reason})" if result.reason else "")
    )
    for a in result.agents:
        click.echo(
            f"  {a.id:<20} {a.status:<10} attempts {a.attempts}  {a.duration_ms / 1000:.2f}s"
        )
    click.echo(f"  messages routed: {len(result.messages)}   votes: {len(result.votes)}")
    for d in result.decisions:
        click.echo(f"  {d.proposal.id} {d.outcome}: {d.reason}")
    for line in result.account:
        click.echo(f"  - {line}")
    if record.record_error:
        click.echo(f"  warning: {record.record_error}", err=True)
    if record.memory_key is not None:
        click.echo(f"  stored in memory: {record.memory_key[0]} / {record.memory_key[1]}")
    click.echo(f"run folder: {record.run_dir}")
    for path in record.outputs:
        click.echo(f"  wrote {path}")


def _db(project: Path) -> Any:
    from agentflowd.memory.db import open_db
    from agentflowd.memory.paths import resolve_db_path

    path = resolve_db_path(project=project)
    if not path.exists():
        raise NotFoundError(f"no runs recorded yet in {project} (no database at {path})")
    return open_db(path)


def _status(row: Any) -> str:
    if row.status == "running" and not alive(row.summary.get("pid")):
        return "abandoned"  # its process is gone without finishing the run
    return row.status


def _when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else "-"


@command.command("runs")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--skill", default=None, help="Only runs of this skill.")
@PROJECT
@JSON
def runs_cmd(limit: int, skill: str | None, project: Path | None, as_json: bool) -> None:
    """List recent runs, newest first."""
    from agentflowd.memory.runs import list_runs

    conn = _db(project_root(project))
    try:
        rows = list_runs(conn, limit=limit, skill=skill)
    finally:
        conn.close()
    if as_json:
        click.echo(
            json.dumps(
                {"runs": [{**r.to_json(), "status": _status(r)} for r in rows]}, ensure_ascii=False
            )
        )
        return
    if not rows:
        click.echo("no runs")
        return
    for r in rows:
        took = f"{r.finished_at - r.started_at:.1f}s" if r.finished_at else "-"
        click.echo(f"{r.id}  {_status(r):<10} {r.skill:<24} {_when(r.started_at)}  {took}")


@command.command("show")
@click.argument("run_id")
@PROJECT
@JSON
def show_cmd(run_id: str, project: Path | None, as_json: bool) -> None:
    """Show one run: status, agents, decisions and where its files are."""
    from agentflowd.memory.runs import get_run

    conn = _db(project_root(project))
    try:
        row = get_run(conn, run_id)
    finally:
        conn.close()
    if as_json:
        click.echo(json.dumps({**row.to_json(), "status": _status(row)}, ensure_ascii=False))
        return
    s = row.summary
    click.echo(f"run {row.id}: {row.skill}")
    click.echo(f"  status:   {_status(row)}" + (f" ({s['reason']})" if s.get("reason") else ""))
    click.echo(f"  started:  {_when(row.started_at)}   finished: {_when(row.finished_at)}")
    if s.get("topology"):
        click.echo(
            f"  topology: {s['topology']}   messages: {s.get('messages', 0)}   votes: {s.get('votes', 0)}"
        )
    for a in s.get("agents", []):
        click.echo(
            f"  {a['id']:<20} {a['type']:<12} {a['status']:<10} attempts {a['attempts']}  {a['duration_ms'] / 1000:.2f}s"
        )
    for d in s.get("decisions", []):
        click.echo(f"  decision {d['proposal']}: {d['outcome']} ({d['reason']})")
    for line in s.get("account", []):
        click.echo(f"  - {line}")
    if row.run_dir:
        click.echo(f"  folder:   {row.run_dir}")
    for path in s.get("outputs", []):
        click.echo(f"  output:   {path}")


@command.command("events")
@click.argument("run_id")
@click.option("--follow", "-f", is_flag=True, help="Keep printing new events until the run ends.")
@click.option(
    "--kind", "kinds", multiple=True, help="Only events of this kind (`agent.*` for a family)."
)
@PROJECT
@JSON
def events_cmd(
    run_id: str, follow: bool, kinds: tuple[str, ...], project: Path | None, as_json: bool
) -> None:
    """Print a run's events. With --json: one document, or one event per line with --follow."""
    from agentflowd.memory.runs import get_run, run_events

    conn = _db(project_root(project))
    try:
        row = get_run(conn, run_id)
        wanted = _kind_filter(kinds)
        if as_json and not follow:
            events = [e.to_json() for e in run_events(conn, row.id) if wanted(e.kind)]
            click.echo(json.dumps({"run_id": row.id, "events": events}, ensure_ascii=False))
            return
        last = 0
        while True:
            batch = run_events(conn, row.id, after_seq=last)
            for e in batch:
                last = e.seq
                if not wanted(e.kind):
                    continue
                if as_json:
                    click.echo(json.dumps(e.to_json(), ensure_ascii=False))
                else:
                    click.echo(_event_line(e))
            if not follow:
                return
            # The recorder commits every event before the run's final status, so a finished run
            # with nothing new to read is complete.
            current = get_run(conn, row.id)
            if not batch and (current.finished or _status(current) == "abandoned"):
                return
            if not batch:
                time.sleep(0.2)
    finally:
        conn.close()


def _kind_filter(kinds: tuple[str, ...]) -> Any:
    from agentflowd.swarm.events import split_kinds

    if not kinds:
        return lambda kind: True
    exact, prefixes = split_kinds(kinds)
    return lambda kind: kind in exact or kind.startswith(prefixes)


def _event_line(e: Any) -> str:
    stamp = time.strftime("%H:%M:%S", time.localtime(e.ts)) + f".{int(e.ts * 1000) % 1000:03d}"
    who = f" {e.agent}" if e.agent else ""
    data = " ".join(
        f"{k}={json.dumps(v, ensure_ascii=False, default=str)}" for k, v in e.data.items()
    )
    return f"{stamp} #{e.seq} {e.kind}{who} {data}".rstrip()
