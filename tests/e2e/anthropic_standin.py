"""A stand-in for the Anthropic Messages API on 127.0.0.1, for driving the real `claude` CLI.

It answers `POST /v1/messages` (streaming SSE or a plain JSON message, as the request asks),
records every request body, and replies from a script: each scripted turn is a list of content
blocks (text or tool_use). Requests that carry no tools (Claude Code's side queries such as
titles) never consume a scripted turn, so a test scripts only the main conversation.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODEL_FALLBACK = "claude-standin"
DEFAULT_TEXT = "Done."


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class ToolUse:
    name: str
    input: dict[str, Any]


Block = Text | ToolUse


@dataclass(frozen=True)
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def is_main_turn(self) -> bool:
        return bool(self.body.get("tools"))

    def texts(self) -> list[str]:
        """Every text the request carries: the system prompt, and the text and tool results of
        every message (Claude Code also puts attachments in `messages` with role "system")."""
        out: list[str] = []
        system = self.body.get("system")
        if isinstance(system, str):
            out.append(system)
        elif isinstance(system, list):
            out.extend(b.get("text", "") for b in system if isinstance(b, dict))
        for message in self.body.get("messages", []):
            out.extend(_texts_of(message.get("content")))
        return out

    def tool_results(self) -> list[dict[str, Any]]:
        return [
            block
            for message in self.body.get("messages", [])
            if isinstance(message.get("content"), list)
            for block in message["content"]
            if isinstance(block, dict) and block.get("type") == "tool_result"
        ]


def _texts_of(content: Any) -> Iterator[str]:
    if isinstance(content, str):
        yield content
    elif isinstance(content, list):
        for block in content:
            if not isinstance(block, dict):
                continue
            if block.get("type") == "text":
                yield block.get("text", "")
            elif block.get("type") == "tool_result":
                yield from _texts_of(block.get("content"))


@dataclass
class StandIn:
    """The server; use as a context manager. `base_url` goes into ANTHROPIC_BASE_URL."""

    script: list[list[Block]] = field(default_factory=list)
    requests: list[Recorded] = field(default_factory=list)
    input_tokens: int = 120
    output_tokens: int = 7

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> StandIn:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def reset(self, script: Sequence[Sequence[Block]] = ()) -> None:
        with self._lock:
            self.script = [list(turn) for turn in script]
            self.requests = []

    def main_turns(self) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.is_main_turn]

    def _record_and_pick(self, recorded: Recorded) -> list[Block]:
        with self._lock:
            self.requests.append(recorded)
            if recorded.is_main_turn and self.script:
                return self.script.pop(0)
        return [Text(DEFAULT_TEXT)]

    def next_id(self, prefix: str) -> str:
        with self._lock:
            return f"{prefix}_standin{next(self._ids):04d}"


def _handler_for(standin: StandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            # Test output stays clean; the recorded requests are the log.
            return

        def do_HEAD(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:
            self._json(404, _error("not_found_error", f"no route {self.path}"))

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            try:
                body = json.loads(raw or b"{}")
            except json.JSONDecodeError:
                self._json(400, _error("invalid_request_error", "body is not JSON"))
                return
            route = self.path.split("?", 1)[0]
            if route == "/v1/messages/count_tokens":
                self._json(200, {"input_tokens": standin.input_tokens})
                return
            if route != "/v1/messages":
                self._json(404, _error("not_found_error", f"no route {self.path}"))
                return
            recorded = Recorded(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            blocks = standin._record_and_pick(recorded)
            message = _message(standin, body.get("model") or MODEL_FALLBACK, blocks)
            if body.get("stream"):
                self._sse(message)
            else:
                self._json(200, message)

        def _json(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("request-id", standin.next_id("req"))
            self.end_headers()
            self.wfile.write(data)

        def _sse(self, message: dict[str, Any]) -> None:
            data = b"".join(
                f"event: {name}\ndata: {json.dumps(payload)}\n\n".encode()
                for name, payload in _events(message)
            )
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("request-id", standin.next_id("req"))
            self.end_headers()
            self.wfile.write(data)

    return Handler


def _error(kind: str, text: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": text}}


def _message(standin: StandIn, model: str, blocks: list[Block]) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    for block in blocks:
        if isinstance(block, Text):
            content.append({"type": "text", "text": block.text})
        else:
            content.append(
                {
                    "type": "tool_use",
                    "id": standin.next_id("toolu"),
                    "name": block.name,
                    "input": block.input,
                }
            )
    uses_tool = any(b["type"] == "tool_use" for b in content)
    return {
        "id": standin.next_id("msg"),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": "tool_use" if uses_tool else "end_turn",
        "stop_sequence": None,
        "usage": {
            "input_tokens": standin.input_tokens,
            "output_tokens": standin.output_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        },
    }


def _events(message: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """The Messages API streaming sequence for one complete message."""
    start = {**message, "content": [], "stop_reason": None}
    start["usage"] = {**message["usage"], "output_tokens": 1}
    yield "message_start", {"type": "message_start", "message": start}
    for index, block in enumerate(message["content"]):
        if block["type"] == "text":
            opening = {"type": "text", "text": ""}
            delta = {"type": "text_delta", "text": block["text"]}
        else:
            opening = {**block, "input": {}}
            delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
        yield (
            "content_block_start",
            {"type": "content_block_start", "index": index, "content_block": opening},
        )
        yield "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}
        yield "content_block_stop", {"type": "content_block_stop", "index": index}
    yield (
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
            "usage": {"output_tokens": message["usage"]["output_tokens"]},
        },
    )
    yield "message_stop", {"type": "message_stop"}
