"""Fixtures of the memory tests: a real database file in tmp, the real embedder, CLI runs."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from agentflowd.memory.store import MemoryStore


@pytest.fixture(scope="session")
def embedder():  # type: ignore[no-untyped-def]
    """The real MiniLM embedder, loaded once for the whole session."""
    from agentflowd.embed import get_embedder

    return get_embedder()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "memory.db"


@pytest.fixture
def store(db_path: Path, embedder) -> Iterator[MemoryStore]:  # type: ignore[no-untyped-def]
    with MemoryStore(db_path, embedder=embedder, background="off") as mem:
        yield mem


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    """Environment for CLI subprocesses: scratch HOME, no background worker, no DB override."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {**os.environ, "HOME": str(home), "AGENTFLOWD_MEMORY_WORKER": "0"}
    env.pop("AGENTFLOWD_MEMORY_DB", None)
    return env


@pytest.fixture
def memory_cli(
    cli_env: dict[str, str], db_path: Path
) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run `python -m agentflowd memory ... --db <tmp db>` as a real subprocess."""

    def run(
        *args: str,
        input: str | None = None,
        db: Path | None = db_path,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        extra = ["--db", str(db)] if db is not None else []
        return subprocess.run(
            [sys.executable, "-m", "agentflowd", "memory", *args, *extra],
            input=input,
            capture_output=True,
            text=True,
            env=env or cli_env,
            timeout=120,
        )

    return run


class MemoEmbedder:
    """The real embedder with a memo: tests that re-store the same corpus embed it only once."""

    def __init__(self, inner) -> None:  # type: ignore[no-untyped-def]
        self.inner = inner
        self.model_id = inner.model_id
        self.dim = inner.dim
        self._memo: dict[str, object] = {}

    def embed(self, texts):  # type: ignore[no-untyped-def]
        import numpy as np

        missing = [t for t in dict.fromkeys(texts) if t not in self._memo]
        if missing:
            for text, vector in zip(missing, self.inner.embed(missing), strict=True):
                self._memo[text] = vector
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._memo[t] for t in texts]).astype(np.float32)


@pytest.fixture(scope="session")
def memo_embedder(embedder) -> MemoEmbedder:  # type: ignore[no-untyped-def]
    return MemoEmbedder(embedder)
