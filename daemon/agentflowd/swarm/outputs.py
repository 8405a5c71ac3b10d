"""The files a run leaves in its run folder: the skill's `outputs`, plus `run.json` always.

report/markdown  what happened, for a person: status, agents, answer, decisions, findings, account
report/json      the whole run result (as `run.json`)
report/sarif     findings as SARIF 2.1.0 (only those the swarm accepted, when it voted)
metrics/json     counts and timings
metrics/markdown the same as a table
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agentflowd import __version__
from agentflowd.swarm.engine import RunResult
from agentflowd.swarm.plan import OutputSpec

RUN_FILE = "run.json"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def write_outputs(result: RunResult, specs: Sequence[OutputSpec], run_dir: Path) -> list[Path]:
    """Write `run.json` and every requested output; returns the requested outputs' paths."""
    run_dir.mkdir(parents=True, exist_ok=True)
    _write(run_dir / RUN_FILE, _dumps(result.to_json()))
    written = []
    for spec in specs:
        path = run_dir / spec.path
        path.parent.mkdir(parents=True, exist_ok=True)
        _write(path, render(result, spec))
        written.append(path)
    return written


def render(result: RunResult, spec: OutputSpec) -> str:
    if spec.type == "report":
        if spec.format == "markdown":
            return report_markdown(result)
        if spec.format == "sarif":
            return _dumps(sarif(result))
        return _dumps(result.to_json())
    if spec.format == "markdown":
        return metrics_markdown(result)
    return _dumps(metrics(result))


def _dumps(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"


def _write(path: Path, text: str) -> None:
    # Write then rename: a reader (or a crash) never sees half a file.
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def _show(value: Any) -> str:
    if isinstance(value, str):
        return value
    return "```json\n" + json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n```"


def report_markdown(result: RunResult) -> str:
    lines = [
        f"# Swarm run {result.run_id}: {result.skill}",
        "",
        f"- status: **{result.status}**" + (f" ({result.reason})" if result.reason else ""),
        f"- topology: {result.topology}",
        f"- duration: {result.duration_ms / 1000:.2f}s",
        f"- messages routed: {len(result.messages)}",
        f"- usage: {result.usage.turns} turns, {result.usage.tokens} tokens, ${result.usage.usd:.4f}",
        "",
        "## Agents",
        "",
        "| agent | type | executor | status | attempts | tasks ok | tasks failed | time |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for a in result.agents:
        lines.append(
            f"| {a.id} | {a.type} | {a.executor} | {a.status} | {a.attempts} | {a.tasks_ok} "
            f"| {a.tasks_failed} | {a.duration_ms / 1000:.2f}s |"
        )
    lines += [
        "",
        "## Answer",
        "",
        _show(result.output) if result.output not in (None, []) else "(none)",
    ]
    if result.decisions:
        lines += ["", "## Decisions", ""]
        rule = result.decisions[0].rule.to_json()
        lines.append(
            f"Rule: {rule['rule']}"
            + (f", threshold {rule['threshold']:.2f}" if rule["threshold"] is not None else "")
            + (f", quorum {rule['quorum']:.2f}" if rule["quorum"] is not None else "")
        )
        lines += [
            "",
            "| proposal | outcome | for | against | abstain | absent | why |",
            "|---|---|---|---|---|---|---|",
        ]
        for d in result.decisions:
            text = d.proposal.text.replace("\n", " ").replace("|", "\\|")
            text = text if len(text) <= 120 else text[:117] + "..."
            lines.append(
                f"| {d.proposal.id}: {text} | **{d.outcome}** | {d.approve} | {d.reject} "
                f"| {d.abstain} | {d.absent} | {d.reason} |"
            )
        lines += ["", "### Votes", ""]
        for v in result.votes:
            extra = f" (confidence {v.confidence:.2f})" if v.confidence is not None else ""
            note = f" - {v.note}" if v.note else ""
            lines.append(
                f"- {v.voter} on {v.proposal}: {v.vote}{extra}, counted {v.counted:g}{note}"
            )
    if result.findings:
        lines += ["", "## Findings", ""]
        for f in result.findings:
            where = f.get("file") or f.get("path") or ""
            if where and f.get("line") is not None:
                where = f"{where}:{f['line']}"
            tag = f" [{f['consensus']}]" if "consensus" in f else ""
            sev = f.get("severity", "note")
            msg = f.get("message") or f.get("title") or f.get("text") or json.dumps(f, default=str)
            lines.append(
                f"- {sev}{tag}: {where + ' ' if where else ''}{msg} ({f.get('agent', '?')})"
            )
    if result.account:
        lines += ["", "## Account", ""]
        lines += [f"- {line}" for line in result.account]
    return "\n".join(lines) + "\n"


_LEVELS = {
    "critical": "error",
    "high": "error",
    "error": "error",
    "medium": "warning",
    "warning": "warning",
}


def sarif(result: RunResult) -> dict[str, Any]:
    voted = bool(result.decisions)
    results = []
    rules: dict[str, dict[str, Any]] = {}
    for f in result.findings:
        if voted and f.get("consensus") != "accepted":
            continue
        rule_id = str(f.get("rule") or f.get("rule_id") or "agentflowd.finding")
        rules.setdefault(rule_id, {"id": rule_id})
        item: dict[str, Any] = {
            "ruleId": rule_id,
            "level": _LEVELS.get(str(f.get("severity", "")).lower(), "note"),
            "message": {
                "text": str(f.get("message") or f.get("title") or f.get("text") or "finding")
            },
            "properties": {"agent": f.get("agent"), "consensus": f.get("consensus")},
        }
        where = f.get("file") or f.get("path")
        if isinstance(where, str) and where:
            location: dict[str, Any] = {"artifactLocation": {"uri": where}}
            line = f.get("line")
            if isinstance(line, int) and line >= 1:
                location["region"] = {"startLine": line}
            item["locations"] = [{"physicalLocation": location}]
        results.append(item)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "agentflowd",
                        "version": __version__,
                        "rules": list(rules.values()),
                    }
                },
                "automationDetails": {"id": f"{result.skill}/{result.run_id}"},
                "results": results,
            }
        ],
    }


def metrics(result: RunResult) -> dict[str, Any]:
    work = [t for t in result.tasks if t.task.kind != "vote"]
    statuses: dict[str, int] = {}
    for t in work:
        statuses[t.status] = statuses.get(t.status, 0) + 1
    outcomes: dict[str, int] = {}
    for d in result.decisions:
        outcomes[d.outcome] = outcomes.get(d.outcome, 0) + 1
    attempts = sum(len(t.attempts) for t in result.tasks)
    return {
        "run_id": result.run_id,
        "skill": result.skill,
        "status": result.status,
        "duration_ms": round(result.duration_ms, 3),
        "agents": len(result.agents),
        "tasks": {"total": len(work), **statuses},
        "attempts": attempts,
        "retries": attempts - len(result.tasks),
        "reassignments": sum(len(t.reassigned) for t in result.tasks),
        "messages": len(result.messages),
        "votes": len(result.votes),
        "decisions": outcomes,
        "findings": len(result.findings),
        "max_concurrency": result.max_concurrency,
        "usage": result.usage.to_json(),
        "events": {"published": result.events_published, "dropped": result.events_dropped},
        "per_agent": [
            {
                "id": a.id,
                "type": a.type,
                "status": a.status,
                "attempts": a.attempts,
                "duration_ms": round(a.duration_ms, 3),
                "tasks_ok": a.tasks_ok,
                "tasks_failed": a.tasks_failed,
                "usage": a.usage.to_json(),
            }
            for a in result.agents
        ],
    }


def metrics_markdown(result: RunResult) -> str:
    m = metrics(result)
    lines = [
        f"# Metrics of run {m['run_id']} ({m['skill']})",
        "",
        "| metric | value |",
        "|---|---|",
    ]
    for key in (
        "status",
        "duration_ms",
        "agents",
        "attempts",
        "retries",
        "reassignments",
        "messages",
        "votes",
        "findings",
        "max_concurrency",
    ):
        lines.append(f"| {key} | {m[key]} |")
    for key, value in m["tasks"].items():
        lines.append(f"| tasks {key} | {value} |")
    lines += [
        "",
        "| agent | status | attempts | time ms | tokens | usd |",
        "|---|---|---|---|---|---|",
    ]
    for a in m["per_agent"]:
        u = a["usage"]
        lines.append(
            f"| {a['id']} | {a['status']} | {a['attempts']} | {a['duration_ms']:.1f} "
            f"| {u['input_tokens'] + u['output_tokens']} | {u['usd']:.4f} |"
        )
    return "\n".join(lines) + "\n"
