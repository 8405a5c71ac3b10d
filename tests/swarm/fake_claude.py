"""A stand-in for the `claude` executable: prints Claude Code's real `--output-format json`
result shape and records what it was called with.

Installed by the `fake_claude` fixture as `<tmp>/bin/claude` (first on PATH). Environment:
  FAKE_CLAUDE_LOG     a file; one JSON line per call: argv, stdin, env, pid, cwd
  FAKE_CLAUDE_REPLIES a JSON file: a list of replies, taken in call order (the last repeats)
A reply: {"result": str, "is_error": bool, "subtype": str, "num_turns": int, "cost": float,
"input_tokens": int, "output_tokens": int, "exit": int, "sleep": seconds, "child": bool (start a
background grandchild that sleeps, and log its pid)}. With `--verbose` in argv it prints the
JSON array of messages with the result last, as Claude Code does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path


def main() -> int:
    log = Path(os.environ["FAKE_CLAUDE_LOG"])
    stdin = sys.stdin.read()
    replies = json.loads(Path(os.environ["FAKE_CLAUDE_REPLIES"]).read_text())
    counter = log.with_suffix(".count")
    n = int(counter.read_text()) if counter.exists() else 0
    counter.write_text(str(n + 1))
    reply = replies[min(n, len(replies) - 1)]
    record = {
        "argv": sys.argv[1:],
        "stdin": stdin,
        "env": dict(os.environ),
        "pid": os.getpid(),
        "cwd": str(Path.cwd()),
    }
    if reply.get("child"):
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        record["child_pid"] = child.pid
    with log.open("a") as handle:
        handle.write(json.dumps(record) + "\n")
    if reply.get("sleep"):
        time.sleep(reply["sleep"])
    session = str(uuid.uuid4())
    usage = {
        "input_tokens": reply.get("input_tokens", 100),
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": reply.get("cache_read", 0),
        "output_tokens": reply.get("output_tokens", 20),
        "server_tool_use": {"web_search_requests": 0, "web_fetch_requests": 0},
        "service_tier": "standard",
    }
    is_error = bool(reply.get("is_error", False))
    result = {
        "type": "result",
        "subtype": reply.get("subtype", "error_during_execution" if is_error else "success"),
        "is_error": is_error,
        "duration_ms": 1234,
        "duration_api_ms": 1100,
        "num_turns": reply.get("num_turns", 1),
        "result": reply.get("result", "done"),
        "stop_reason": "end_turn",
        "session_id": session,
        "total_cost_usd": reply.get("cost", 0.0125),
        "usage": usage,
        "modelUsage": {
            "claude-sonnet-4-5": {
                "inputTokens": usage["input_tokens"],
                "outputTokens": usage["output_tokens"],
                "cacheReadInputTokens": 0,
                "cacheCreationInputTokens": 0,
                "webSearchRequests": 0,
                "costUSD": reply.get("cost", 0.0125),
                "contextWindow": 200000,
                "maxOutputTokens": 64000,
            }
        },
        "permission_denials": [],
        "uuid": str(uuid.uuid4()),
    }
    if "--verbose" in sys.argv:
        init = {
            "type": "system",
            "subtype": "init",
            "session_id": session,
            "uuid": str(uuid.uuid4()),
            "cwd": str(Path.cwd()),
            "tools": ["Read"],
            "model": "claude-sonnet-4-5",
        }
        assistant = {
            "type": "assistant",
            "session_id": session,
            "uuid": str(uuid.uuid4()),
            "parent_tool_use_id": None,
            "message": {
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "content": [{"type": "text", "text": result["result"]}],
            },
        }
        print(json.dumps([init, assistant, result]))
    else:
        print(json.dumps(result))
    return int(reply.get("exit", 1 if is_error else 0))


if __name__ == "__main__":
    sys.exit(main())
