"""Turning a task into the text a language model reads (the claude, anthropic and openai executors)."""

from __future__ import annotations

import json
from typing import Any

from agentflowd.swarm.model import Task

_CLIP = 20_000  # characters of one embedded output; the rest is elided with a note


def _show(value: Any) -> str:
    text = (
        value
        if isinstance(value, str)
        else json.dumps(value, ensure_ascii=False, indent=1, default=str)
    )
    if len(text) > _CLIP:
        return text[:_CLIP] + f"\n[... {len(text) - _CLIP} more characters elided]"
    return text


def render(task: Task, agent_id: str) -> str:
    parts = [task.instruction.strip() or "(no instruction given)"]
    if task.inputs:
        parts.append("Inputs:\n" + "\n".join(f"- {k}: {v}" for k, v in task.inputs.items()))
    if task.inbox:
        lines = [f"- from {m.sender} (round {m.round}):\n{_show(m.content)}" for m in task.inbox]
        parts.append("Messages from other agents:\n" + "\n".join(lines))
    if task.previous is not None:
        parts.append(
            "The previous agent in the ring handed you this output; build on it:\n"
            + _show(task.previous)
        )
    if task.kind == "split":
        workers = "\n".join(
            f"- {w['id']} ({w['type']}; can: {', '.join(w.get('capabilities', [])) or 'anything'})"
            for w in task.workers
        )
        parts.append(
            f"You are {agent_id}, the lead of these agents:\n{workers}\n"
            "Split the task into subtasks for them. Answer with JSON only: "
            '{"subtasks": [{"worker": "<agent id>", "task": "<what to do>"}]}'
        )
    elif task.kind == "aggregate":
        reports = "\n".join(
            f"- {r.agent} ({'ok' if r.ok else 'failed: ' + (r.error or '')}):\n{_show(r.output)}"
            for r in task.reports
        )
        parts.append(
            f"Reports from the agents below you:\n{reports}\n"
            "Combine them into one answer. Keep every concrete finding; drop duplicates."
        )
    elif task.kind == "vote":
        proposals = "\n".join(
            f"- {p.id} [{p.kind}] from {', '.join(p.by)}:\n{_show(p.text)}" for p in task.proposals
        )
        ids = ", ".join(f'"{p.id}": "approve|reject|abstain"' for p in task.proposals)
        parts.append(
            f"Proposals to vote on:\n{proposals}\n"
            "Vote on each: approve, reject, or abstain when you cannot judge it. Answer with JSON "
            f'only: {{"votes": {{{ids}}}, "confidence": <0 to 1>}}'
        )
    else:
        parts.append(
            "When you find concrete problems, you may answer with JSON: "
            '{"output": "<your answer>", "findings": [{"file": "...", "line": 1, '
            '"severity": "error|warning|note", "message": "..."}]}'
        )
    return "\n\n".join(parts)
