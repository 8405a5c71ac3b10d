"""Reading an agent's answer: a JSON object with known keys, or plain text taken as its output.

The keys (all optional):
  output      anything: the agent's answer (without it, the object minus the keys below)
  findings    [{file, line, severity, message, rule}] or strings
  proposals   [string or {text, data}]: things to put to a vote
  votes       {proposal id: approve|reject|abstain, or {vote, confidence}}
  choice      a proposal id: approve it and reject the others
  confidence  0..1, for weighted consensus
  messages    [{to: agent id or "*", content}]
  subtasks    [string or {task, worker, requires}] (a hierarchy lead splitting work)
  usage       {turns, input_tokens, output_tokens, usd}
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from typing import Any

from agentflowd.swarm.errors import ExecutorError
from agentflowd.swarm.model import Ballot, OutMessage, Result, Subtask, Usage

CONTROL_KEYS = frozenset(
    {"findings", "proposals", "votes", "choice", "confidence", "messages", "subtasks", "usage"}
)
_VOTE_WORDS = {
    "approve": "approve",
    "approved": "approve",
    "yes": "approve",
    "accept": "approve",
    "reject": "reject",
    "rejected": "reject",
    "no": "reject",
    "abstain": "abstain",
}
_FENCE = re.compile(r"```(?:json)?\s*(\{.*?\})\s*```", re.DOTALL)


def result_from_text(
    text: str, *, usage: Usage | None = None, meta: Mapping[str, Any] | None = None
) -> Result:
    """A text answer: a JSON object (bare or in a ```json fence) is read as one; anything else is the output."""
    obj = json_object_in(text)
    if obj is not None:
        try:
            result = result_from_json(obj)
        except ExecutorError:
            result = None
        if result is not None:
            return _with(result, usage, meta)
    return Result(output=text, usage=usage or Usage(), meta=dict(meta or {}))


def json_object_in(text: str) -> dict[str, Any] | None:
    stripped = text.strip()
    candidates = [stripped] if stripped.startswith("{") else []
    candidates += [m.group(1) for m in _FENCE.finditer(text)]
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None


def _with(result: Result, usage: Usage | None, meta: Mapping[str, Any] | None) -> Result:
    if usage is None and not meta:
        return result
    return dataclasses.replace(
        result,
        usage=result.usage + usage if usage is not None else result.usage,
        meta={**result.meta, **(meta or {})},
    )


def result_from_json(obj: Any) -> Result:
    """An answer object as a Result; raises ExecutorError naming the first malformed key."""
    if not isinstance(obj, dict):
        raise ExecutorError(f"the answer must be a JSON object, not {type(obj).__name__}")
    if "output" in obj:
        output = obj["output"]
    else:
        rest = {k: v for k, v in obj.items() if k not in CONTROL_KEYS}
        output = rest or None
    return Result(
        output=output,
        findings=_findings(obj.get("findings")),
        proposals=_list(obj, "proposals"),
        ballots=_votes(obj.get("votes")),
        choice=_opt_str(obj, "choice"),
        confidence=_confidence(obj.get("confidence"), "confidence"),
        messages=_messages(obj.get("messages")),
        subtasks=_subtasks(obj.get("subtasks")),
        usage=usage_from(obj.get("usage")),
        meta={},
    )


def _bad(key: str, want: str) -> ExecutorError:
    return ExecutorError(f"malformed answer: `{key}` must be {want}")


def _list(obj: Mapping[str, Any], key: str) -> tuple[Any, ...]:
    value = obj.get(key)
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _bad(key, "a list")
    return tuple(value)


def _opt_str(obj: Mapping[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _bad(key, "a string")
    return value


def _confidence(value: Any, key: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise _bad(key, "a number from 0 to 1")
    return float(value)


def _findings(value: Any) -> tuple[Mapping[str, Any], ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _bad("findings", "a list")
    out = []
    for item in value:
        if isinstance(item, str):
            out.append({"message": item})
        elif isinstance(item, dict):
            out.append(item)
        else:
            raise _bad("findings", "a list of objects or strings")
    return tuple(out)


def _vote_word(value: Any) -> str | None:
    if isinstance(value, bool):
        return "approve" if value else "reject"
    if isinstance(value, str):
        return _VOTE_WORDS.get(value.strip().lower())
    return None


def _votes(value: Any) -> dict[str, Ballot]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _bad("votes", "an object of proposal id -> approve|reject|abstain")
    out = {}
    for pid, raw in value.items():
        confidence = None
        if isinstance(raw, dict):
            confidence = _confidence(raw.get("confidence"), f"votes.{pid}.confidence")
            raw = raw.get("vote")
        word = _vote_word(raw)
        if word is None:
            raise _bad(f"votes.{pid}", "approve, reject or abstain")
        out[str(pid)] = Ballot(word, confidence)  # type: ignore[arg-type]
    return out


def _messages(value: Any) -> tuple[OutMessage, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _bad("messages", "a list")
    out = []
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("to"), str):
            raise _bad("messages", 'a list of {"to": agent id or "*", "content": ...}')
        out.append(OutMessage(item["to"], item.get("content")))
    return tuple(out)


def _subtasks(value: Any) -> tuple[Subtask, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _bad("subtasks", "a list")
    out = []
    for item in value:
        if isinstance(item, str):
            out.append(Subtask(item))
            continue
        if not isinstance(item, dict) or not isinstance(item.get("task"), str):
            raise _bad(
                "subtasks", 'a list of strings or {"task": ..., "worker": ..., "requires": [...]}'
            )
        worker = item.get("worker")
        requires = item.get("requires") or []
        if worker is not None and not isinstance(worker, str):
            raise _bad("subtasks.worker", "an agent id")
        if not isinstance(requires, list) or not all(isinstance(r, str) for r in requires):
            raise _bad("subtasks.requires", "a list of capability names")
        out.append(Subtask(item["task"], worker, frozenset(requires)))
    return tuple(out)


def usage_from(value: Any) -> Usage:
    if value is None:
        return Usage()
    if not isinstance(value, dict):
        raise _bad("usage", "an object")

    def num(key: str, *alts: str) -> float:
        for k in (key, *alts):
            v = value.get(k)
            if isinstance(v, int | float) and not isinstance(v, bool):
                if v < 0:
                    raise _bad(f"usage.{k}", "a number >= 0")
                return v
        return 0

    return Usage(
        int(num("turns")),
        int(num("input_tokens")),
        int(num("output_tokens")),
        float(num("usd", "cost_usd", "total_cost_usd")),
    )
