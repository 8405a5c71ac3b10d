"""The socket's methods: names mapped to `Services`, heavy ones run in the work executor."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from agentflowd.errors import UsageError
from agentflowd.ipc.server import Handler
from agentflowd.lsp.services import Services


def socket_methods(
    services: Services, executor: Executor, *, stop: Callable[[], None] | None
) -> dict[str, Handler]:
    """`stop` ends the daemon (None for an editor's server, which the editor owns)."""

    def offload(fn: Callable[[dict[str, Any]], Any]) -> Handler:
        async def handler(params: dict[str, Any]) -> Any:
            return await asyncio.get_running_loop().run_in_executor(executor, fn, params)

        return handler

    async def ping(params: dict[str, Any]) -> Any:
        return services.ping(params)

    async def shutdown(params: dict[str, Any]) -> Any:
        if stop is None:
            raise UsageError(
                "this daemon is an editor's language server; it stops when the editor closes it"
            )
        asyncio.get_running_loop().call_soon(stop)  # after this answer is sent
        return {"stopping": True}

    return {
        "ping": ping,
        "shutdown": shutdown,
        "skills.list": offload(services.list_skills),
        "skills.match": offload(services.match),
        "memory.store": offload(services.memory_store),
        "memory.search": offload(services.memory_search),
        "validate": offload(services.validate),
    }
