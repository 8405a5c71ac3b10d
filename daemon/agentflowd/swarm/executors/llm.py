"""What the anthropic and openai executors share: settings (model, key, URL, turns, prices),
construction, and one charged request per turn."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from agentflowd.swarm import events
from agentflowd.swarm.agent import AgentContext
from agentflowd.swarm.errors import ExecutorError, SwarmConfigError
from agentflowd.swarm.executors.base import AgentSetup, ExecutorAgent, Options
from agentflowd.swarm.executors.httpapi import HttpPolicy, StreamParser, post_json
from agentflowd.swarm.executors.tools import Tool, select
from agentflowd.swarm.model import Usage

DEFAULT_MAX_TURNS = 10


class LLMSettings:
    def __init__(
        self,
        opts: Options,
        setup: AgentSetup,
        *,
        default_key_env: str,
        default_base_url: str,
        base_url_env: str,
    ) -> None:
        where = setup.where
        self.where = where
        self.model = opts.str("model") or setup.model
        if not self.model or self.model == "inherit":
            raise SwarmConfigError(f"{where}: this executor needs a `model`")
        self.system_prompt = opts.str("system_prompt") or setup.system_prompt
        self.max_turns = opts.int("max_turns") or setup.max_turns or DEFAULT_MAX_TURNS
        self.max_tokens = opts.int("max_tokens", 4096) or 4096
        self.key_env = opts.str("api_key_env", default_key_env) or default_key_env
        self.base_url = (
            opts.str("base_url") or os.environ.get(base_url_env) or default_base_url
        ).rstrip("/")
        self.stream = opts.bool("stream")
        self.temperature = opts.number("temperature")
        self.tools: tuple[Tool, ...] = select(opts.strings("allowed_tools"), where)
        self.http = HttpPolicy(
            max_retries=opts.int("max_retries", 3, minimum=0) or 0,
            base_delay=opts.duration("retry_delay", 0.5) or 0.5,
            max_delay=opts.duration("max_retry_delay", 30.0) or 30.0,
            timeout=opts.duration("request_timeout", 600.0) or 600.0,
        )
        # Dollars per million tokens; without them cost is unknown and a max_usd budget is refused.
        self.input_price = opts.number("input_usd_per_mtok")
        self.output_price = opts.number("output_usd_per_mtok")

    @property
    def priced(self) -> bool:
        return self.input_price is not None and self.output_price is not None

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        if self.input_price is None or self.output_price is None:
            return 0.0
        return (input_tokens * self.input_price + output_tokens * self.output_price) / 1_000_000

    def key(self) -> str | None:
        return os.environ.get(self.key_env) or None


def token_counts(reply: Mapping[str, Any], *keys: str) -> list[int]:
    """The reply's `usage` counts under `keys`, 0 for any that is missing or not an integer."""
    raw = reply.get("usage")
    if not isinstance(raw, dict):
        raw = {}
    return [
        v if isinstance(v := raw.get(key), int) and not isinstance(v, bool) else 0 for key in keys
    ]


class LLMAgent(ExecutorAgent):
    """An agent talking to a model's HTTP API; subclasses name the key and URL defaults."""

    KEY_ENV: str
    BASE_URL: str
    BASE_URL_ENV: str

    def __init__(self, setup: AgentSetup) -> None:
        super().__init__(setup)
        self.settings = LLMSettings(
            self.options,
            setup,
            default_key_env=self.KEY_ENV,
            default_base_url=self.BASE_URL,
            base_url_env=self.BASE_URL_ENV,
        )

    async def turn(
        self,
        client: httpx.AsyncClient,
        ctx: AgentContext,
        url: str,
        headers: Mapping[str, str],
        body: dict[str, Any],
        *,
        read_stream: StreamParser,
        usage_of: Callable[[Mapping[str, Any], LLMSettings], Usage],
    ) -> tuple[dict[str, Any], Usage]:
        """One request inside the budget (streamed when `stream: true`), its usage charged;
        API retries are reported as events."""
        s = self.settings
        ctx.check_budget()

        def retried(attempt: int, wait: float, why: str) -> None:
            if ctx.bus.active:
                ctx.emit(
                    events.API_RETRY, {"attempt": attempt, "wait_s": round(wait, 3), "reason": why}
                )

        reply = await post_json(
            client,
            url,
            headers,
            body,
            s.http,
            stream=read_stream if s.stream else None,
            on_retry=retried,
        )
        used = usage_of(reply, s)
        ctx.charge(used)
        return reply, used

    def out_of_turns(self) -> ExecutorError:
        return ExecutorError(
            f"the model was still calling tools after max_turns ({self.settings.max_turns})",
            retryable=False,
        )
