"""Many processes, one database: nothing lost, no "database is locked", crash-safe imports."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import apsw

from agentflowd.memory.db import open_db

HERE = Path(__file__).parent
WRITERS, PER_WRITER = 8, 1_000


def test_eight_processes_store_a_thousand_entries_each(
    db_path: Path, cli_env: dict[str, str]
) -> None:
    open_db(db_path).close()  # created up front so the race is about writes, not creation
    start_at = time.time() + 1.5  # every writer starts its loop at the same moment
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                str(HERE / "writer_process.py"),
                str(db_path),
                str(n),
                str(PER_WRITER),
                str(start_at),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=cli_env,
        )
        for n in range(WRITERS)
    ]
    outputs = [proc.communicate(timeout=300) for proc in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
        assert "locked" not in (out + err).lower()
        assert "busy" not in (out + err).lower()
    spans = [json.loads(out) for out, _ in outputs]
    # The writers really overlapped: at one moment all eight were inside their write loops.
    assert max(s["began"] for s in spans) < min(s["ended"] for s in spans)
    conn = open_db(db_path)
    assert (
        conn.execute("SELECT count(*) FROM entries WHERE namespace = 'shared'").fetchone()[0]
        == WRITERS * PER_WRITER
    )
    for n in range(WRITERS):
        keys = {
            row[0] for row in conn.execute("SELECT key FROM entries WHERE key LIKE ?", (f"w{n}-%",))
        }
        assert keys == {f"w{n}-{i}" for i in range(PER_WRITER)}
    # The keyword index saw every write too.
    assert (
        conn.execute(
            "SELECT count(*) FROM entries_fts WHERE entries_fts MATCH 'writer'"
        ).fetchone()[0]
        == WRITERS * PER_WRITER
    )
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


def test_sigkill_during_a_large_import_keeps_every_committed_batch(
    tmp_path: Path, db_path: Path, cli_env: dict[str, str]
) -> None:
    from agentflowd.memory.store import IMPORT_BATCH

    total = 60_000
    source = tmp_path / "big.jsonl"
    with open(source, "w", encoding="utf-8") as handle:
        for i in range(total):
            handle.write(
                json.dumps(
                    {
                        "namespace": "bulk",
                        "key": f"k{i:06d}",
                        "value": f"value number {i}",
                        "tags": ["bulk"],
                    }
                )
                + "\n"
            )
    proc = subprocess.Popen(
        [sys.executable, "-m", "agentflowd", "memory", "import", str(source), "--db", str(db_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env,
    )
    committed = 0
    deadline = time.monotonic() + 120
    try:
        # Kill as soon as a few batches are in, while the import is still going.
        while time.monotonic() < deadline and proc.poll() is None:
            committed = _count(db_path)
            if committed >= 3 * IMPORT_BATCH:
                break
            time.sleep(0.02)
        assert proc.poll() is None, "the import finished before it could be killed; make it larger"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    conn = open_db(db_path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    rows = conn.execute(
        "SELECT key, value, tags FROM entries WHERE namespace = 'bulk' ORDER BY key"
    ).fetchall()
    conn.close()
    assert len(rows) >= committed
    assert 0 < len(rows) < total
    assert len(rows) % IMPORT_BATCH == 0  # whole batches only: no half-written transaction
    # Every row that made it is exactly the record the file holds, in file order.
    for i, (key, value, tags) in enumerate(rows):
        assert (key, value, json.loads(tags)) == (f"k{i:06d}", f"value number {i}", ["bulk"])


def _count(db_path: Path) -> int:
    if not db_path.exists():
        return 0
    try:
        conn = apsw.Connection(str(db_path), flags=apsw.SQLITE_OPEN_READONLY)
    except apsw.Error:
        return 0
    try:
        conn.setbusytimeout(1000)
        return conn.execute("SELECT count(*) FROM entries").fetchone()[0]
    except apsw.Error:
        return 0  # schema not created yet
    finally:
        conn.close()
