"""Background maintenance of one memory database: embed pending entries, keep indexes fresh.

`memory store` must answer in far less time than loading the embedding model takes, so it writes
the entry marked pending and starts this worker, detached, if none is running for the database.
The worker embeds everything pending in batches, fills int8 tables and (re)builds Annoy indexes for
namespaces past their threshold, then exits. One worker per database at a time (advisory lock);
after releasing the lock it looks once more, so an entry committed while it was finishing is
either seen by it or by the next spawn. Run by hand with `python -m agentflowd.memory.worker DB`.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentflowd.memory.locks import try_lock
from agentflowd.memory.store import DEFAULT_ANN_THRESHOLD, MemoryStore
from agentflowd.project import cap_log

if TYPE_CHECKING:
    from agentflowd.embed import Embedder

WORKER_ENV = "AGENTFLOWD_MEMORY_WORKER"  # "0" disables background workers (tests, CI)

_spawned: list[int] = []


def lock_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".worker.lock")


def log_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".worker.log")


def worker_lock(db_path: Path) -> contextlib.AbstractContextManager[bool]:
    """Hold the database's worker lock if it is free; yields whether we got it."""
    return try_lock(lock_path(db_path))


def worker_running(db_path: Path) -> bool:
    with worker_lock(db_path) as free:
        return not free


def spawn_worker(db_path: Path) -> bool:
    """Start a detached worker for `db_path` unless one runs or workers are disabled."""
    if os.environ.get(WORKER_ENV, "").strip() == "0":
        return False
    _reap()
    if worker_running(db_path):
        return False
    argv = [sys.executable, "-m", "agentflowd.memory.worker", str(db_path)]
    if hasattr(os, "posix_spawn"):
        # posix_spawn, not Popen: no Popen object to outlive (and warn about) in the caller.
        null = os.devnull
        actions = [
            (os.POSIX_SPAWN_OPEN, 0, null, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, null, os.O_WRONLY, 0),
            (os.POSIX_SPAWN_OPEN, 2, null, os.O_WRONLY, 0),
        ]
        _spawned.append(
            os.posix_spawn(
                sys.executable, argv, dict(os.environ), file_actions=actions, setsid=True
            )
        )
    else:
        import subprocess

        flags = getattr(subprocess, "DETACHED_PROCESS", 0) | getattr(
            subprocess, "CREATE_NEW_PROCESS_GROUP", 0
        )
        subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            creationflags=flags,
            close_fds=True,
        )
    return True


def _reap() -> None:
    # A long-lived caller reaps workers it started earlier, so they do not linger as zombies.
    for pid in list(_spawned):
        with contextlib.suppress(ChildProcessError):
            done, _ = os.waitpid(pid, os.WNOHANG)
            if not done:
                continue
        _spawned.remove(pid)


def run_maintenance(
    db_path: Path, *, embedder: Embedder | None = None, ann_threshold: int | None = None
) -> dict[str, Any] | None:
    """Maintain until nothing is left; None if another worker holds the lock."""
    totals: dict[str, Any] = {"purged": 0, "embedded": 0, "built": [], "int8": []}
    store: MemoryStore | None = None
    try:
        while True:
            with worker_lock(db_path) as mine:
                if not mine:
                    return totals if store is not None else None
                if store is None:
                    store = MemoryStore(
                        db_path,
                        embedder=embedder,
                        background="off",
                        ann_threshold=ann_threshold or DEFAULT_ANN_THRESHOLD,
                    )
                report = maintain(store)
            for key in ("purged", "embedded"):
                totals[key] += report[key]
            totals["built"] += report["built"]
            totals["int8"] += report["int8"]
            if store.pending_count() == 0:
                return totals
    finally:
        if store is not None:
            store.close()


def maintain(store: MemoryStore) -> dict[str, Any]:
    """One maintenance pass: purge expired rows, embed pending ones, refresh int8 and Annoy."""
    purged = store.purge()
    embedded = store.embed_pending()
    built, int8 = refresh_indexes(store)
    return {"purged": purged, "embedded": embedded, "built": built, "int8": int8}


def refresh_indexes(store: MemoryStore) -> tuple[list[str], list[str]]:
    """Build or drop Annoy indexes and fill int8 tables as namespace sizes require."""
    from agentflowd.memory import ann
    from agentflowd.memory import vectors as vec
    from agentflowd.memory.db import write_transaction

    conn = store.conn
    space = vec.current_space(conn)
    if space is None:
        return [], []
    counts = dict(conn.execute("SELECT namespace, count(*) FROM vectors GROUP BY namespace"))
    indexed = {row[0] for row in conn.execute("SELECT namespace FROM ann_state")}
    has_int8 = vec.int8_namespaces(conn)
    built: list[str] = []
    int8: list[str] = []
    for namespace in sorted(set(counts) | indexed):
        n = counts.get(namespace, 0)
        if n >= vec.INT8_MIN_ROWS and namespace not in has_int8:
            write_transaction(conn, lambda c, ns=namespace: vec.enable_int8(c, ns))
            int8.append(namespace)
        state = ann.read_state(conn, namespace)
        if n < store.threshold_for(namespace):
            if state is not None:
                ann.drop(conn, store.path, namespace)
            continue
        if not ann.annoy_installed():
            continue
        if state is not None and ann.stale_reason(conn, state, space) is None:
            try:
                ann.load(store.path, state).close()
                continue
            except ann.CorruptIndexError:
                pass
        if ann.build(conn, store.path, namespace, space) is not None:
            built.append(namespace)
    return built, int8


def _log(db_path: Path, message: str) -> None:
    path = log_path(db_path)
    cap_log(path)
    with contextlib.suppress(OSError), open(path, "a", encoding="utf-8") as handle:
        handle.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} pid {os.getpid()} {message}\n")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m agentflowd.memory.worker DB_PATH", file=sys.stderr)
        return 2
    db_path = Path(args[0])
    with contextlib.suppress(OSError, AttributeError):
        os.nice(10)  # background work: stay out of the way of interactive commands
    try:
        report = run_maintenance(db_path)
    except Exception:
        import traceback

        _log(db_path, "failed:\n" + traceback.format_exc())
        return 1
    if report is not None and (report["embedded"] or report["built"] or report["purged"]):
        _log(db_path, f"done: {report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
