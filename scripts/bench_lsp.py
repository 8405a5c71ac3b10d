#!/usr/bin/env python3
"""Speed and memory of the daemon (issue 7 targets in brackets).

    .venv/bin/python scripts/bench_lsp.py

Prints, against a scratch project of 100 skills (from the matcher's case files):
- `initialize` answered, from process start (median of 3)                    [< 2 s]
- `didChange` on a 200-line SKILL.md to its `publishDiagnostics`, p50 / p95  [< 50 ms]
  (this includes the server's debounce, printed alongside)
- completion at a value and at a key, p50                                    [< 10 ms]
- idle RSS of the language server after the catalog loaded                   [< 80 MB]
- over the local socket (background daemon, matcher warm): a match of one
  prompt against the 100 skills, p50 / p95                                   [< 10 ms]

The client here is a bare JSON-RPC loop over the server's pipes (no pygls), so the times are the
server's plus one pipe round trip.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.projects import case_catalog, write_project  # noqa: E402

SERVER = [sys.executable, "-m", "agentflowd", "serve"]


def make_workspace(root: Path) -> tuple[Path, list[str]]:
    """A project with 100 skills and one 200-line skill being edited; returns prompts too."""
    skills, prompts = case_catalog()
    base = list(skills.items())
    while len(skills) < 100:
        name, spec = base[len(skills) % len(base)]
        skills[f"{name}-{len(skills)}"] = spec
    project = write_project(root / "proj", dict(list(skills.items())[:99]))
    big = project / ".claude" / "skills" / "code-review-swarm"
    big.mkdir(parents=True)
    (big / "SKILL.md").write_text(big_skill(effort="high"))
    return project, prompts


def big_skill(effort: str) -> str:
    head = (
        "---\nname: code-review-swarm\n"
        "description: Reviews a diff with three reviewers and a security auditor. Use for PRs.\n"
        f"effort: {effort}\n"
        "coordination:\n  topology: mesh\n  consensus: majority\n  timeout: 300s\n"
        "agents:\n  - type: reviewer\n    count: 3\n    capabilities: [review, style]\n"
        "  - type: tester\n    capabilities: [tests]\n"
        "execution:\n  parallel: true\n  retry_policy:\n    max_attempts: 3\n"
        "    backoff: exponential\n"
        "memory:\n  persistence: true\n  ttl: 24h\n"
        "outputs:\n  - type: report\n    format: markdown\n---\n"
    )
    lines = head.count("\n")
    body = ["# Code review swarm", ""]
    for i in range(200 - lines - 2):
        body.append(
            f"Step {i}: read [the guide](references/guide-{i}.md) first."
            if i % 25 == 0
            else f"Line {i} of the instructions for the reviewers, with some ordinary prose."
        )
    return head + "\n".join(body) + "\n"


class Client:
    """A minimal LSP client over a subprocess' stdio."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.next_id = 0
        self.pending: dict[int, asyncio.Future[Any]] = {}
        self.notifications: asyncio.Queue[tuple[float, dict[str, Any]]] = asyncio.Queue()
        self.reader = asyncio.ensure_future(self._read())

    @classmethod
    async def start(cls, *args: str, env: dict[str, str], cwd: Path) -> Client:
        process = await asyncio.create_subprocess_exec(
            *SERVER, *args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL, env=env, cwd=cwd,
        )  # fmt: skip
        return cls(process)

    def _send(self, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        assert self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    async def request(self, method: str, params: Any) -> Any:
        self.next_id += 1
        future = asyncio.get_running_loop().create_future()
        self.pending[self.next_id] = future
        self._send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        return await future

    def notify(self, method: str, params: Any) -> None:
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    async def _read(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        while True:
            length = 0
            while True:
                line = await stdout.readline()
                if not line:
                    return
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
                elif line in (b"\r\n", b"\n"):
                    break
            message = json.loads(await stdout.readexactly(length))
            arrived = time.perf_counter()
            if "method" in message and "id" in message:  # a request from the server
                self._send({"jsonrpc": "2.0", "id": message["id"], "result": None})
            elif "method" in message:
                self.notifications.put_nowait((arrived, message))
            elif message.get("id") in self.pending:
                self.pending.pop(message["id"]).set_result(message.get("result"))

    async def close(self) -> None:
        await self.request("shutdown", None)
        self.notify("exit", None)
        await self.process.wait()
        self.reader.cancel()


def env_for(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTFLOWD_")}
    env["HOME"] = str(home)
    env.setdefault("AGENTFLOWD_EMBED_THREADS", "1")
    return env


INIT_CAPS = {
    "textDocument": {
        "synchronization": {"didSave": True},
        "completion": {"completionItem": {"documentationFormat": ["markdown"]}},
        "hover": {"contentFormat": ["markdown"]},
        "publishDiagnostics": {"versionSupport": True},
    },
    "general": {"positionEncodings": ["utf-16"]},
}


async def initialize(client: Client, project: Path) -> Any:
    result = await client.request(
        "initialize",
        {"processId": os.getpid(), "rootUri": project.as_uri(), "capabilities": INIT_CAPS},
    )
    client.notify("initialized", {})
    return result


async def time_to_initialize(project: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    client = await Client.start("--no-socket", env=env, cwd=project)
    await initialize(client, project)
    took = time.perf_counter() - started
    await client.close()
    return took


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def editor_session(project: Path, env: dict[str, str]) -> dict[str, Any]:
    client = await Client.start("--no-socket", env=env, cwd=project)
    await initialize(client, project)
    uri = (project / ".claude" / "skills" / "code-review-swarm" / "SKILL.md").as_uri()
    text = big_skill("high")
    assert text.count("\n") == 200
    client.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": uri, "languageId": "markdown", "version": 1, "text": text}},
    )
    await client.notifications.get()  # diagnostics of the opened document
    # Wait for the catalog (agentflow/listSkills answers once it is loaded).
    listed = await client.request("agentflow/listSkills", {})
    assert len(listed["skills"]) == 100, len(listed["skills"])
    await asyncio.sleep(1.0)
    while not client.notifications.empty():
        client.notifications.get_nowait()

    change_samples = []
    for version in range(2, 62):
        effort = ("low", "hihg", "max")[version % 3]
        sent = time.perf_counter()
        client.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{"text": big_skill(effort)}],
            },
        )
        while True:
            arrived, message = await client.notifications.get()
            params = message.get("params", {})
            if (
                message["method"] == "textDocument/publishDiagnostics"
                and params.get("version") == version
            ):
                break
        change_samples.append(arrived - sent)
        await asyncio.sleep(0.1)  # one edit at a time: measure latency, not coalescing

    completion_value, completion_key = [], []
    for _ in range(200):
        for samples, position in (
            (completion_value, {"line": 6, "character": 12}),  # `  topology: |`
            (completion_key, {"line": 8, "character": 2}),  # a key under `coordination:`
        ):
            sent = time.perf_counter()
            result = await client.request(
                "textDocument/completion", {"textDocument": {"uri": uri}, "position": position}
            )
            samples.append(time.perf_counter() - sent)
            assert result["items"], position
    await asyncio.sleep(2.0)
    rss = rss_mb(client.process.pid)
    await client.close()
    return {
        "change": change_samples,
        "value": completion_value,
        "key": completion_key,
        "rss": rss,
    }


def socket_match(project: Path, env: dict[str, str], prompts: list[str]) -> dict[str, Any]:
    from agentflowd.ipc import client

    process = subprocess.Popen(
        [*SERVER, "--no-lsp", "--project", str(project)],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        client.wait_for_daemon(project, 30)
        started = time.perf_counter()
        client.call(project, "skills.match", {"prompt": "warm up"}, timeout=120)
        first = time.perf_counter() - started
        match_samples, ping_samples = [], []
        for prompt in prompts[:200]:
            t = time.perf_counter()
            client.call(project, "skills.match", {"prompt": prompt})
            match_samples.append(time.perf_counter() - t)
            t = time.perf_counter()
            client.call(project, "ping", {})
            ping_samples.append(time.perf_counter() - t)
        rss = rss_mb(process.pid)
        client.call(project, "shutdown", {})
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return {"first": first, "match": match_samples, "ping": ping_samples, "rss": rss}


def main() -> int:
    from agentflowd.lsp.server import DEFAULT_DEBOUNCE

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        project, prompts = make_workspace(root)
        home = root / "home"
        home.mkdir()
        env = env_for(home)
        inits = [asyncio.run(time_to_initialize(project, env)) for _ in range(3)]
        session = asyncio.run(editor_session(project, env))
        sock = socket_match(project, env, prompts)

    print(f"initialize answered, from process start: median {statistics.median(inits):.2f} s "
          f"(runs: {', '.join(f'{t:.2f}' for t in inits)})   [< 2 s]")  # fmt: skip
    change = session["change"]
    print(
        f"didChange -> publishDiagnostics, 200-line SKILL.md: p50 {pct(change, 0.5):.1f} ms, "
        f"p95 {pct(change, 0.95):.1f} ms (debounce {DEFAULT_DEBOUNCE * 1000:.0f} ms included)"
        "   [< 50 ms]"
    )
    print(
        f"completion p50: value {pct(session['value'], 0.5):.2f} ms, "
        f"key {pct(session['key'], 0.5):.2f} ms (p95 {pct(session['value'], 0.95):.2f} / "
        f"{pct(session['key'], 0.95):.2f} ms)   [< 10 ms]"
    )
    print(f"language server idle RSS, 100 skills loaded: {session['rss']:.1f} MB   [< 80 MB]")
    print(
        f"socket skills.match, 1 prompt vs 100 skills: p50 {pct(sock['match'], 0.5):.1f} ms, "
        f"p95 {pct(sock['match'], 0.95):.1f} ms   [< 10 ms]"
    )
    print(
        f"  socket ping p50 {pct(sock['ping'], 0.5):.2f} ms; first match after start "
        f"{sock['first']:.2f} s; background daemon RSS with the model loaded {sock['rss']:.0f} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
