"""Fixtures shared by every test area."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty HOME so personal skills of the machine running the tests never leak in."""
    folder = tmp_path / "home"
    folder.mkdir()
    monkeypatch.setenv("HOME", str(folder))
    return folder


@pytest.fixture
def run_cli(home: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run `python -m agentflowd ...` as a real subprocess with a scratch HOME."""

    def run(
        *args: str, cwd: Path | None = None, input: str | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "HOME": str(home)}
        return subprocess.run(
            [sys.executable, "-m", "agentflowd", *args],
            cwd=cwd,
            input=input,
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout,
        )

    return run
