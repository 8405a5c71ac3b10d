"""A scripted LLM API on 127.0.0.1: the Anthropic Messages API and OpenAI chat completions.

Tests queue replies per path (`/v1/messages`, `/v1/chat/completions`); each request takes the
next one and is recorded (path, headers, JSON body), so a test can assert on exactly what the
client sent. A reply is a JSON body, an SSE event list, or an error with headers (429 with
`retry-after`, 529 overloaded, ...). A request with nothing queued gets a 500 that names it, so
a test that under-scripts fails loudly.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: dict[str, Any] | None = None
    sse: Sequence[tuple[str | None, str]] | None = None  # (event name or None, data)
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass(frozen=True)
class Request:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    at: float


class LLMServer:
    def __init__(self) -> None:
        self.requests: list[Request] = []
        self._queues: dict[str, deque[Reply]] = {}
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                path = self.path.split("?", 1)[0]
                try:
                    body = json.loads(raw) if raw else {}
                except ValueError:
                    body = {"_unparsed": raw.decode("utf-8", "replace")}
                with server._lock:
                    server.requests.append(
                        Request(
                            path,
                            {k.lower(): v for k, v in self.headers.items()},
                            body,
                            time.monotonic(),
                        )
                    )
                    queue = server._queues.get(path)
                    reply = queue.popleft() if queue else None
                if reply is None:
                    reply = error(500, "api_error", f"no scripted reply for {path}")
                if reply.delay:
                    time.sleep(reply.delay)
                self.send_response(reply.status)
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                if reply.sse is not None:
                    self.send_header("content-type", "text/event-stream")
                    self.end_headers()
                    for name, data in reply.sse:
                        chunk = (f"event: {name}\n" if name else "") + f"data: {data}\n\n"
                        self.wfile.write(chunk.encode())
                        self.wfile.flush()
                    return
                payload = json.dumps(reply.body or {}).encode()
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> LLMServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def queue(self, path: str, *replies: Reply) -> None:
        with self._lock:
            self._queues.setdefault(path, deque()).extend(replies)

    def pending(self, path: str) -> int:
        with self._lock:
            return len(self._queues.get(path, ()))

    def to(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]


ANTHROPIC = "/v1/messages"
OPENAI = "/v1/chat/completions"


def error(status: int, kind: str, message: str, headers: dict[str, str] | None = None) -> Reply:
    return Reply(
        status,
        {"type": "error", "error": {"type": kind, "message": message}},
        headers=headers or {},
    )


# -- Anthropic ------------------------------------------------------------------------------------


def text(value: str) -> dict[str, Any]:
    return {"type": "text", "text": value}


def tool_use(tool_id: str, name: str, args: dict[str, Any]) -> dict[str, Any]:
    return {"type": "tool_use", "id": tool_id, "name": name, "input": args}


def message(
    *blocks: dict[str, Any],
    stop_reason: str | None = None,
    input_tokens: int = 10,
    output_tokens: int = 5,
) -> dict[str, Any]:
    if stop_reason is None:
        stop_reason = "tool_use" if any(b["type"] == "tool_use" for b in blocks) else "end_turn"
    return {
        "id": "msg_test",
        "type": "message",
        "role": "assistant",
        "model": "claude-test",
        "content": list(blocks),
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
    }


def anthropic_reply(msg: dict[str, Any]) -> Reply:
    return Reply(body=msg)


def anthropic_stream(msg: dict[str, Any], *, error_after: str | None = None) -> Reply:
    """The SSE sequence the API sends for `msg`: tool input arrives as several JSON fragments."""
    start = {
        **msg,
        "content": [],
        "stop_reason": None,
        "usage": {"input_tokens": msg["usage"]["input_tokens"], "output_tokens": 1},
    }
    events: list[tuple[str | None, str]] = [
        ("message_start", json.dumps({"type": "message_start", "message": start}))
    ]
    events.append(("ping", json.dumps({"type": "ping"})))
    for i, block in enumerate(msg["content"]):
        if block["type"] == "text":
            opening = {"type": "text", "text": ""}
            deltas = [{"type": "text_delta", "text": part} for part in _halves(block["text"])]
        else:
            opening = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
            raw = json.dumps(block["input"])
            deltas = [{"type": "input_json_delta", "partial_json": ""}]
            deltas += [{"type": "input_json_delta", "partial_json": part} for part in _halves(raw)]
        events.append(
            (
                "content_block_start",
                json.dumps({"type": "content_block_start", "index": i, "content_block": opening}),
            )
        )
        for delta in deltas:
            events.append(
                (
                    "content_block_delta",
                    json.dumps({"type": "content_block_delta", "index": i, "delta": delta}),
                )
            )
        if error_after is not None:
            events.append(
                (
                    "error",
                    json.dumps(
                        {"type": "error", "error": {"type": error_after, "message": "Overloaded"}}
                    ),
                )
            )
            return Reply(sse=events)
        events.append(
            ("content_block_stop", json.dumps({"type": "content_block_stop", "index": i}))
        )
    events.append(
        (
            "message_delta",
            json.dumps(
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": msg["stop_reason"], "stop_sequence": None},
                    "usage": {"output_tokens": msg["usage"]["output_tokens"]},
                }
            ),
        )
    )
    events.append(("message_stop", json.dumps({"type": "message_stop"})))
    return Reply(sse=events)


def _halves(value: str) -> list[str]:
    mid = len(value) // 2
    return [p for p in (value[:mid], value[mid:]) if p]


# -- OpenAI ---------------------------------------------------------------------------------------


def completion(
    content: str | None = None,
    tool_calls: Sequence[tuple[str, str, dict[str, Any]]] = (),
    *,
    prompt_tokens: int = 12,
    completion_tokens: int = 6,
) -> dict[str, Any]:
    msg: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        msg["tool_calls"] = [
            {
                "id": cid,
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(args)},
            }
            for cid, name, args in tool_calls
        ]
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 0,
        "model": "local-test",
        "choices": [
            {"index": 0, "message": msg, "finish_reason": "tool_calls" if tool_calls else "stop"}
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def openai_reply(body: dict[str, Any]) -> Reply:
    return Reply(body=body)


def openai_stream(body: dict[str, Any]) -> Reply:
    """Chunks as an OpenAI-compatible server streams them: deltas, tool-call fragments by index,
    a usage chunk with no choices, then [DONE]."""
    msg = body["choices"][0]["message"]
    base = {
        "id": body["id"],
        "object": "chat.completion.chunk",
        "created": 0,
        "model": body["model"],
    }
    chunks: list[dict[str, Any]] = [
        {**base, "choices": [{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}]}
    ]
    for part in _halves(msg.get("content") or ""):
        chunks.append(
            {**base, "choices": [{"index": 0, "delta": {"content": part}, "finish_reason": None}]}
        )
    for i, call in enumerate(msg.get("tool_calls") or []):
        first = {
            "index": i,
            "id": call["id"],
            "type": "function",
            "function": {"name": call["function"]["name"], "arguments": ""},
        }
        chunks.append(
            {
                **base,
                "choices": [{"index": 0, "delta": {"tool_calls": [first]}, "finish_reason": None}],
            }
        )
        for part in _halves(call["function"]["arguments"]):
            frag = {"index": i, "function": {"arguments": part}}
            chunks.append(
                {
                    **base,
                    "choices": [
                        {"index": 0, "delta": {"tool_calls": [frag]}, "finish_reason": None}
                    ],
                }
            )
    chunks.append(
        {
            **base,
            "choices": [
                {"index": 0, "delta": {}, "finish_reason": body["choices"][0]["finish_reason"]}
            ],
        }
    )
    chunks.append({**base, "choices": [], "usage": body["usage"]})
    return Reply(sse=[(None, json.dumps(c)) for c in chunks] + [(None, "[DONE]")])
