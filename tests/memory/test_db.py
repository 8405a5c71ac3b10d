"""Opening, migrating and writing to the database under contention."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import apsw
import pytest

from agentflowd.memory.db import (
    apply_migrations,
    open_db,
    schema_version,
    vec_extension_path,
    write_transaction,
)
from agentflowd.memory.errors import DatabaseBusyError, MemoryDBError
from agentflowd.memory.schema import LATEST_VERSION, MIGRATIONS
from agentflowd.memory.store import MemoryStore


def test_open_creates_folders_wal_and_latest_schema(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "memory.db"
    conn = open_db(path)
    assert path.exists()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert schema_version(conn) == LATEST_VERSION
    assert conn.execute("SELECT vec_version()").fetchone()[0].startswith("v")
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"runs", "run_events", "entries", "vectors", "ann_state"} <= tables
    conn.close()


def test_swarm_run_tables_have_the_agreed_columns(tmp_path: Path) -> None:
    conn = open_db(tmp_path / "m.db")
    runs = [row[1] for row in conn.execute("PRAGMA table_info(runs)")]
    events = [row[1] for row in conn.execute("PRAGMA table_info(run_events)")]
    assert runs == ["id", "skill", "status", "started_at", "finished_at", "summary", "run_dir"]
    assert events == ["run_id", "seq", "ts", "kind", "data"]
    conn.close()


def test_a_v1_database_is_migrated_and_its_entries_become_pending(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "old.db"
    # Build a genuine version-1 file: v1 schema only, as a release with only v1 wrote it.
    old = apsw.Connection(str(path))
    old.execute("PRAGMA journal_mode=WAL")
    old.execute(MIGRATIONS[1])
    old.execute("PRAGMA user_version=1")
    old.execute(
        "INSERT INTO entries(namespace, key, value, created_at, updated_at) "
        "VALUES ('default', 'deploy', 'deploys happen on Tuesdays', 1.0, 1.0)"
    )
    old.close()

    with MemoryStore(path, embedder=embedder, background="off") as mem:
        assert schema_version(mem.conn) == LATEST_VERSION
        assert mem.get("default", "deploy").embedding == "pending"
        result = mem.search("when do we release to production?", mode="semantic", k=1)
        assert result.embedded_now == 1
        assert [hit.entry.key for hit in result.hits] == ["deploy"]
        # The keyword index written by v1 triggers is intact too.
        assert mem.search("tuesdays", mode="keyword").hits[0].entry.key == "deploy"


def test_a_newer_schema_is_refused_not_downgraded(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    conn = open_db(path)
    conn.execute(f"PRAGMA user_version={LATEST_VERSION + 1}")
    conn.close()
    with pytest.raises(MemoryDBError, match="newer than this agentflowd"):
        open_db(path)


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "memory.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(MemoryDBError, match="not a SQLite database"):
        open_db(path)


def test_migrations_run_once_when_processes_race(tmp_path: Path) -> None:
    path = tmp_path / "race.db"
    errors: list[BaseException] = []

    def opener() -> None:
        try:
            open_db(path).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=opener) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    conn = open_db(path)
    assert schema_version(conn) == LATEST_VERSION
    conn.close()


def test_write_transaction_waits_out_a_long_writer(tmp_path: Path) -> None:
    path = tmp_path / "busy.db"
    holder, writer = open_db(path), open_db(path)
    holder.setbusytimeout(0)
    writer.setbusytimeout(50)  # far shorter than the hold: only the retry loop can succeed
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO runs(id, skill, status, started_at) VALUES ('a', 's', 'ok', 1)")
    release = threading.Timer(0.6, lambda: holder.execute("COMMIT"))
    release.start()
    started = time.monotonic()
    write_transaction(
        writer,
        lambda c: c.execute(
            "INSERT INTO runs(id, skill, status, started_at) VALUES ('b', 's', 'ok', 2)"
        ),
    )
    release.join()
    assert time.monotonic() - started >= 0.5
    assert writer.execute("SELECT count(*) FROM runs").fetchone()[0] == 2
    holder.close()
    writer.close()


def test_write_transaction_gives_up_with_a_typed_error_not_database_is_locked(
    tmp_path: Path,
) -> None:
    path = tmp_path / "stuck.db"
    holder, writer = open_db(path), open_db(path)
    writer.setbusytimeout(10)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(DatabaseBusyError) as caught:
            write_transaction(writer, lambda c: c.execute("DELETE FROM runs"), deadline_s=0.3)
        assert "locked" not in str(caught.value)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        writer.close()


def test_a_failing_body_rolls_back_and_propagates(tmp_path: Path) -> None:
    conn = open_db(tmp_path / "m.db")

    def body(c: apsw.Connection) -> None:
        c.execute("INSERT INTO runs(id, skill, status, started_at) VALUES ('a', 's', 'ok', 1)")
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        write_transaction(conn, body)
    assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 0
    assert not conn.in_transaction
    conn.close()


def test_apply_migrations_is_a_no_op_at_latest(tmp_path: Path) -> None:
    conn = open_db(tmp_path / "m.db")
    assert apply_migrations(conn) == LATEST_VERSION
    conn.close()


def test_the_extension_path_points_at_the_shipped_library() -> None:
    folder = Path(vec_extension_path()).parent
    assert any(p.name.startswith("vec0") for p in folder.iterdir())


def test_a_full_database_is_an_environment_error_and_loses_nothing(
    tmp_path: Path, embedder
) -> None:  # type: ignore[no-untyped-def]
    with MemoryStore(
        tmp_path / "full.db", embedder=embedder, background="off", embed_on_write=False
    ) as mem:
        mem.store("default", "kept", "small value")
        pages = mem.conn.execute("PRAGMA page_count").fetchone()[0]
        # SQLite's own size cap produces the same SQLITE_FULL a full disk does.
        mem.conn.execute(f"PRAGMA max_page_count = {pages + 2}")
        with pytest.raises(MemoryDBError, match="disk full"):
            mem.store("default", "big", "x" * 200_000)
        assert [e.key for e in mem.list()] == ["kept"]
        assert not mem.conn.in_transaction
