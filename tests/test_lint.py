"""ruff is part of the test command, so lint and format drift fail the build like a bug does."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO

TARGETS = ["daemon", "tests", "scripts", ".claude"]


def test_ruff_check() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "ruff", "check", *TARGETS], cwd=REPO, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_ruff_format() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", *TARGETS],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr
