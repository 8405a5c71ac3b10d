"""Fixtures of the swarm tests: the scripted LLM server and the fake `claude` executable."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.swarm.llm_server import LLMServer

HERE = Path(__file__).resolve().parent


@pytest.fixture
def llm() -> Iterator[LLMServer]:
    server = LLMServer().start()
    try:
        yield server
    finally:
        server.stop()


class FakeClaude:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.bin = folder / "bin"
        self.bin.mkdir(parents=True)
        self.exe = self.bin / "claude"
        source = (HERE / "fake_claude.py").read_text()
        self.exe.write_text(f"#!{sys.executable}\n{source}")
        self.exe.chmod(0o755)
        self.log = folder / "claude-calls.jsonl"
        self.replies_file = folder / "claude-replies.json"
        self.replies([{"result": "done"}])

    def replies(self, items: list[dict[str, Any]]) -> None:
        self.replies_file.write_text(json.dumps(items))

    def calls(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]


@pytest.fixture
def fake_claude(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeClaude:
    fake = FakeClaude(tmp_path / "claude")
    monkeypatch.setenv("PATH", f"{fake.bin}:{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_CLAUDE_LOG", str(fake.log))
    monkeypatch.setenv("FAKE_CLAUDE_REPLIES", str(fake.replies_file))
    return fake
