"""Swarm runs and their events in the project database.

The engine never waits on SQLite: `EventRecorder` is an event-bus sink that only appends to an
in-memory queue; its own thread drains the queue and writes batches (one write transaction per
batch, BUSY retried by `write_transaction`). Runs are rows in `runs`; events rows in
`run_events` keyed by (run_id, seq).
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import apsw

from agentflowd.errors import NotFoundError, UsageError
from agentflowd.memory.db import open_db, write_transaction
from agentflowd.swarm.events import Event

FINAL_STATUSES = frozenset({"succeeded", "partial", "failed", "cancelled"})


class RunNotFoundError(NotFoundError):
    """No run with that id (or id prefix)."""


@dataclass(frozen=True)
class RunRow:
    id: str
    skill: str
    status: str
    started_at: float
    finished_at: float | None
    summary: Mapping[str, Any]
    run_dir: str | None

    @property
    def finished(self) -> bool:
        return self.status in FINAL_STATUSES

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.id,
            "skill": self.skill,
            "status": self.status,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "run_dir": self.run_dir,
            "summary": dict(self.summary),
        }


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":"))


def start_run(
    conn: apsw.Connection,
    run_id: str,
    skill: str,
    *,
    started_at: float,
    run_dir: Path | None,
    summary: Mapping[str, Any] | None = None,
) -> None:
    def body(c: apsw.Connection) -> None:
        c.execute(
            "INSERT INTO runs(id, skill, status, started_at, summary, run_dir) VALUES (?, ?, 'running', ?, ?, ?)",
            (
                run_id,
                skill,
                started_at,
                _dumps(dict(summary or {})),
                str(run_dir) if run_dir else None,
            ),
        )

    write_transaction(conn, body)


def finish_run(
    conn: apsw.Connection,
    run_id: str,
    *,
    status: str,
    finished_at: float,
    summary: Mapping[str, Any],
) -> None:
    if status not in FINAL_STATUSES:
        raise UsageError(f"not a final run status: {status!r}")

    def body(c: apsw.Connection) -> None:
        c.execute(
            "UPDATE runs SET status = ?, finished_at = ?, summary = ? WHERE id = ?",
            (status, finished_at, _dumps(dict(summary)), run_id),
        )
        if c.changes() == 0:
            raise RunNotFoundError(f"no run {run_id!r}")

    write_transaction(conn, body)


def append_events(conn: apsw.Connection, run_id: str, events: Sequence[Event]) -> None:
    rows = [
        (run_id, e.seq, e.ts, e.kind, _dumps({"agent": e.agent, "data": dict(e.data)}))
        for e in events
    ]

    def body(c: apsw.Connection) -> None:
        c.executemany(
            "INSERT OR REPLACE INTO run_events(run_id, seq, ts, kind, data) VALUES (?, ?, ?, ?, ?)",
            rows,
        )

    if rows:
        write_transaction(conn, body)


def _run_row(row: Sequence[Any]) -> RunRow:
    try:
        summary = json.loads(row[5]) if row[5] else {}
    except ValueError:
        summary = {}
    return RunRow(row[0], row[1], row[2], row[3], row[4], summary, row[6])


_RUN_COLUMNS = "id, skill, status, started_at, finished_at, summary, run_dir"


def list_runs(conn: apsw.Connection, *, limit: int = 50, skill: str | None = None) -> list[RunRow]:
    if skill is None:
        rows = conn.execute(
            f"SELECT {_RUN_COLUMNS} FROM runs ORDER BY started_at DESC, id DESC LIMIT ?", (limit,)
        )
    else:
        rows = conn.execute(
            f"SELECT {_RUN_COLUMNS} FROM runs WHERE skill = ? ORDER BY started_at DESC, id DESC LIMIT ?",
            (skill, limit),
        )
    return [_run_row(r) for r in rows]


def get_run(conn: apsw.Connection, run_id: str) -> RunRow:
    """The run with this id, or the only run whose id starts with it."""
    row = conn.execute(f"SELECT {_RUN_COLUMNS} FROM runs WHERE id = ?", (run_id,)).fetchone()
    if row is not None:
        return _run_row(row)
    escaped = run_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    rows = conn.execute(
        f"SELECT {_RUN_COLUMNS} FROM runs WHERE id LIKE ? ESCAPE '\\' ORDER BY started_at DESC LIMIT 6",
        (escaped + "%",),
    ).fetchall()
    if len(rows) == 1:
        return _run_row(rows[0])
    if not rows:
        raise RunNotFoundError(f"no run {run_id!r} (see `agentflowd swarm runs`)")
    ids = ", ".join(r[0] for r in rows[:5])
    raise RunNotFoundError(f"{run_id!r} matches several runs: {ids}")


def run_events(
    conn: apsw.Connection, run_id: str, *, after_seq: int = 0, limit: int | None = None
) -> list[Event]:
    sql = "SELECT seq, ts, kind, data FROM run_events WHERE run_id = ? AND seq > ? ORDER BY seq"
    params: tuple[Any, ...] = (run_id, after_seq)
    if limit is not None:
        sql += " LIMIT ?"
        params += (limit,)
    out = []
    for seq, ts, kind, data in conn.execute(sql, params):
        try:
            decoded = json.loads(data)
        except ValueError:
            decoded = {"agent": None, "data": {"raw": data}}
        out.append(Event(seq, ts, kind, decoded.get("agent"), decoded.get("data") or {}))
    return out


class EventRecorder:
    """Persists a run's events from a background thread; call it with each event (a bus sink)."""

    def __init__(
        self, db_path: Path, run_id: str, *, flush_interval: float = 0.05, batch: int = 1000
    ) -> None:
        self.db_path = db_path
        self.run_id = run_id
        self.flush_interval = flush_interval
        self.batch = batch
        self.written = 0
        self.error: str | None = None
        self._queue: queue.SimpleQueue[Event | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._work, name=f"run-events-{run_id}", daemon=True)
        self._thread.start()

    def __call__(self, event: Event) -> None:
        self._queue.put(event)

    def close(self, timeout: float = 30.0) -> None:
        """Write what is queued and stop the thread."""
        self._queue.put(None)
        self._thread.join(timeout)
        if self._thread.is_alive() and self.error is None:
            self.error = f"event writer still busy after {timeout:g}s; some events may be missing"

    def _work(self) -> None:
        try:
            conn = open_db(self.db_path)
        except Exception as exc:  # reported by the CLI; the run itself goes on
            self.error = f"cannot record events: {exc}"
            self._discard()
            return
        try:
            done = False
            while not done:
                pending: list[Event] = []
                item = self._queue.get()
                deadline = time.monotonic() + self.flush_interval
                while item is not None:
                    pending.append(item)
                    if len(pending) >= self.batch:
                        break
                    wait = deadline - time.monotonic()
                    if wait <= 0:
                        break
                    try:
                        item = self._queue.get(timeout=wait)
                    except queue.Empty:
                        break
                if item is None:
                    done = True
                if pending and self.error is None:
                    try:
                        append_events(conn, self.run_id, pending)
                        self.written += len(pending)
                    except Exception as exc:
                        self.error = f"cannot record events: {exc}"
        finally:
            conn.close()

    def _discard(self) -> None:
        while self._queue.get() is not None:
            pass
