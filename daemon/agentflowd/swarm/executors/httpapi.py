"""HTTP for the anthropic and openai executors: one POST with retries, and SSE parsing.

httpx rather than the vendors' SDKs: it is already a dependency, it speaks to both APIs (and any
OpenAI-compatible local server) with one retry policy we control and can test, and it adds no
package. Retried: 429 (after `retry-after` / `retry-after-ms` when given), 408, every 5xx
including Anthropic's 529 "overloaded", connection errors and an `error` event mid-stream.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from agentflowd.swarm.errors import ExecutorError

_NEVER_RETRY = {400, 401, 402, 403, 404, 413, 422}


@dataclass(frozen=True)
class HttpPolicy:
    max_retries: int = 3
    base_delay: float = 0.5
    max_delay: float = 30.0  # longest wait between tries, `retry-after` included
    timeout: float = 600.0


class RetryableStreamError(Exception):
    """The server reported an error in the middle of a stream (e.g. overloaded_error)."""


StreamParser = Callable[[AsyncIterator[tuple[str, str]]], Awaitable[dict[str, Any]]]


async def post_json(
    client: httpx.AsyncClient,
    url: str,
    headers: Mapping[str, str],
    body: Mapping[str, Any],
    policy: HttpPolicy,
    *,
    stream: StreamParser | None = None,
    on_retry: Callable[[int, float, str], None] | None = None,
) -> dict[str, Any]:
    """POST `body`; the decoded JSON reply (or what `stream` built from the SSE events)."""
    attempt = 0
    while True:
        attempt += 1
        wait: float | None = None
        try:
            if stream is None:
                resp = await client.post(
                    url, headers=dict(headers), json=body, timeout=policy.timeout
                )
                if resp.status_code == 200:
                    return _decode(resp.content, url)
                why, wait = _failure(resp.status_code, resp.headers, resp.content, policy)
            else:
                async with client.stream(
                    "POST", url, headers=dict(headers), json=body, timeout=policy.timeout
                ) as resp:
                    if resp.status_code == 200:
                        return await stream(sse_events(resp.aiter_lines()))
                    content = await resp.aread()
                    why, wait = _failure(resp.status_code, resp.headers, content, policy)
        except httpx.TransportError as exc:
            why = f"{type(exc).__name__}: {exc}"
        except RetryableStreamError as exc:
            why = str(exc)
        if attempt > policy.max_retries:
            raise ExecutorError(f"{why} (gave up after {attempt} tries)")
        if wait is None:
            wait = min(policy.max_delay, policy.base_delay * 2 ** (attempt - 1)) * (
                0.5 + random.random() / 2
            )
        if on_retry is not None:
            on_retry(attempt, wait, why)
        await asyncio.sleep(wait)


def _decode(content: bytes, url: str) -> dict[str, Any]:
    try:
        value = json.loads(content)
    except ValueError as exc:
        raise ExecutorError(f"{url} answered with something that is not JSON") from exc
    if not isinstance(value, dict):
        raise ExecutorError(f"{url} answered with JSON that is not an object")
    return value


def _failure(
    status: int, headers: httpx.Headers, content: bytes, policy: HttpPolicy
) -> tuple[str, float | None]:
    """(reason, seconds to wait) for a retryable reply; raises for one that retrying cannot fix."""
    why = f"HTTP {status}{_error_text(content)}"
    if status in _NEVER_RETRY or (status < 500 and status not in (408, 429)):
        raise ExecutorError(why, retryable=status not in _NEVER_RETRY)
    wait = retry_after(headers)
    if wait is not None and wait > policy.max_delay:
        raise ExecutorError(
            f"{why}: the server asks to wait {wait:g}s, longer than {policy.max_delay:g}s"
        )
    return why, wait


def _error_text(content: bytes) -> str:
    try:
        body = json.loads(content)
    except ValueError:
        text = content.decode("utf-8", errors="replace").strip()
        return f": {text[:200]}" if text else ""
    err = body.get("error") if isinstance(body, dict) else None
    if isinstance(err, dict):
        return f" {err.get('type') or err.get('code') or ''}: {err.get('message', '')}".rstrip(": ")
    return ""


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from `retry-after-ms`, or `retry-after` as seconds or an HTTP date."""
    ms = headers.get("retry-after-ms")
    if ms is not None:
        try:
            return max(float(ms) / 1000.0, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


async def sse_events(lines: AsyncIterator[str]) -> AsyncIterator[tuple[str, str]]:
    """(event name, data) per server-sent event; the name is "message" when none is given."""
    name = ""
    data: list[str] = []
    async for raw in lines:
        line = raw.rstrip("\r")
        if not line:
            if data:
                yield name or "message", "\n".join(data)
            name, data = "", []
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "event":
            name = value
        elif field == "data":
            data.append(value)
    if data:
        yield name or "message", "\n".join(data)
