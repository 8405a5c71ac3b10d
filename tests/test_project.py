from __future__ import annotations

from pathlib import Path

from agentflowd.project import cap_log


def test_log_over_the_limit_moves_aside_and_replaces_the_older_one(tmp_path: Path) -> None:
    log = tmp_path / "daemon.log"
    older = tmp_path / "daemon.log.1"
    older.write_text("oldest\n")
    log.write_text("x" * 101)
    cap_log(log, limit=100)
    assert not log.exists()
    assert older.read_text() == "x" * 101


def test_log_under_the_limit_or_missing_is_left_alone(tmp_path: Path) -> None:
    log = tmp_path / "daemon.log"
    cap_log(log, limit=100)
    assert not log.exists()
    log.write_text("x" * 100)
    cap_log(log, limit=100)
    assert log.read_text() == "x" * 100
    assert not (tmp_path / "daemon.log.1").exists()
