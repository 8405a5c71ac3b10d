"""Runs and their events in a real SQLite project database."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from agentflowd.memory.db import open_db
from agentflowd.memory.runs import (
    EventRecorder,
    RunNotFoundError,
    finish_run,
    get_run,
    list_runs,
    run_events,
    start_run,
)
from agentflowd.swarm.events import Event


def ev(seq: int, kind: str = "agent.started", agent: str | None = "a-1", **data: object) -> Event:
    return Event(seq, 1000.0 + seq, kind, agent, data)


def test_a_run_is_started_finished_listed_and_found_by_prefix(tmp_path: Path) -> None:
    conn = open_db(tmp_path / "memory.db")
    start_run(
        conn,
        "20260101-000000-aaaaaa",
        "review",
        started_at=10.0,
        run_dir=tmp_path / "r1",
        summary={"pid": 1},
    )
    start_run(conn, "20260102-000000-bbbbbb", "build", started_at=20.0, run_dir=None)
    finish_run(
        conn,
        "20260101-000000-aaaaaa",
        status="partial",
        finished_at=12.5,
        summary={"reason": "1 of 2 tasks did not finish"},
    )
    runs = list_runs(conn)
    assert [(r.id, r.status) for r in runs] == [
        ("20260102-000000-bbbbbb", "running"),
        ("20260101-000000-aaaaaa", "partial"),
    ]
    assert [r.skill for r in list_runs(conn, skill="review")] == ["review"]
    row = get_run(conn, "20260101")
    assert (row.finished_at, row.summary["reason"], row.run_dir) == (
        12.5,
        "1 of 2 tasks did not finish",
        str(tmp_path / "r1"),
    )
    assert row.finished and not get_run(conn, "20260102-000000-bbbbbb").finished
    with pytest.raises(RunNotFoundError, match="matches several runs"):
        get_run(conn, "2026")
    with pytest.raises(RunNotFoundError, match="no run 'nope'"):
        get_run(conn, "nope")
    with pytest.raises(RunNotFoundError):
        get_run(conn, "%")  # LIKE wildcards are taken literally
    conn.close()


def test_the_recorder_writes_every_event_from_its_own_thread(tmp_path: Path) -> None:
    db = tmp_path / "memory.db"
    conn = open_db(db)
    start_run(conn, "r", "s", started_at=0.0, run_dir=None)
    recorder = EventRecorder(db, "r", flush_interval=0.01, batch=100)
    main = threading.get_ident()
    t0 = time.perf_counter()
    for i in range(1, 2501):
        recorder(ev(i, i=i))
    enqueue = time.perf_counter() - t0
    recorder.close()
    assert recorder.error is None and recorder.written == 2500
    assert enqueue < 0.5  # the engine's side is an append, never a database write
    rows = run_events(conn, "r")
    assert [r.seq for r in rows] == list(range(1, 2501))
    assert (rows[0].kind, rows[0].agent, dict(rows[0].data)) == ("agent.started", "a-1", {"i": 1})
    assert [r.seq for r in run_events(conn, "r", after_seq=2498)] == [2499, 2500]
    assert threading.get_ident() == main
    conn.close()


def test_finish_rejects_a_status_that_is_not_final(tmp_path: Path) -> None:
    conn = open_db(tmp_path / "m.db")
    start_run(conn, "r", "s", started_at=0.0, run_dir=None)
    from agentflowd.errors import UsageError

    with pytest.raises(UsageError):
        finish_run(conn, "r", status="running", finished_at=1.0, summary={})
    with pytest.raises(RunNotFoundError):
        finish_run(conn, "ghost", status="failed", finished_at=1.0, summary={})
    conn.close()


def test_recorder_reports_a_database_it_cannot_open(tmp_path: Path) -> None:
    bad = tmp_path / "not-a-db"
    bad.write_bytes(b"this is not sqlite" * 100)
    recorder = EventRecorder(bad, "r")
    recorder(ev(1))
    recorder.close()
    assert recorder.written == 0
    assert recorder.error is not None and "cannot record events" in recorder.error


def test_run_plan_records_the_run_and_can_be_stopped_from_another_thread(tmp_path: Path) -> None:
    import asyncio

    from agentflowd.swarm.runner import run_plan
    from tests.swarm.support import Scripted, plan

    project = tmp_path / "proj"
    project.mkdir()
    seen: list[str] = []
    loops: list = []

    def started(swarm) -> None:
        loops.append((asyncio.get_running_loop(), swarm))

    def stopper() -> None:
        while not loops:
            time.sleep(0.01)
        loop, swarm = loops[0]
        loop.call_soon_threadsafe(swarm.stop, "stopped by the daemon")

    threading.Thread(target=stopper, daemon=True).start()
    record = run_plan(
        plan(Scripted("a", delay=30), skill="waits"),
        project=project,
        db_path=tmp_path / "m.db",
        sinks=[lambda e: seen.append(e.kind)],
        on_start=started,
    )
    assert record.result.status == "cancelled" and record.exit_code == 130
    assert seen[0] == "run.started" and seen[-1] == "run.finished"
    assert record.events_recorded == len(seen)
    conn = open_db(tmp_path / "m.db")
    row = get_run(conn, record.result.run_id)
    assert row.status == "cancelled" and row.summary["reason"] == "stopped by the daemon"
    assert (record.run_dir / "run.json").is_file()
    conn.close()


@pytest.mark.parametrize("early", [True, False], ids=["before-start", "from-a-thread"])
def test_run_plan_stop_signal_cancels_and_records_the_run(tmp_path: Path, early: bool) -> None:
    from agentflowd.swarm.runner import run_plan
    from agentflowd.swarm.stop import StopSignal
    from tests.swarm.support import Scripted, plan

    project = tmp_path / "proj"
    project.mkdir()
    stop = StopSignal()
    started = threading.Event()
    if early:
        stop.request("stopped before it began")
    else:

        def stopper() -> None:
            started.wait(10)
            stop.request("stopped from a worker thread")

        threading.Thread(target=stopper, daemon=True).start()
    record = run_plan(
        plan(Scripted("a", delay=30), skill="waits"),
        project=project,
        db_path=tmp_path / "m.db",
        sinks=[lambda e: started.set() if e.kind == "agent.started" else None],
        stop=stop,
    )
    reason = "stopped before it began" if early else "stopped from a worker thread"
    assert record.result.status == "cancelled" and record.exit_code == 130
    conn = open_db(tmp_path / "m.db")
    row = get_run(conn, record.result.run_id)
    assert row.status == "cancelled" and row.summary["reason"] == reason
    assert (record.run_dir / "run.json").is_file()
    conn.close()
