"""Opening the project database: apsw with sqlite-vec loaded, WAL, busy timeout, forward migrations.

Concurrency model: every process of a project opens the same file. WAL lets readers run beside one
writer; writers queue on the write lock. A busy timeout covers most waits inside SQLite, but a few
BUSY cases bypass the busy handler (a deferred transaction that upgrades to a write after another
writer committed, WAL recovery after a crash, switching the journal mode), so every write goes
through `write_transaction`, which takes the lock up front (`BEGIN IMMEDIATE`) and retries BUSY
with jittered backoff until a deadline. "database is locked" therefore never reaches a user: either
the write lands or, after the deadline, a `DatabaseBusyError` says who to blame.
"""

from __future__ import annotations

import contextlib
import importlib.util
import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import apsw

from agentflowd.memory.errors import DatabaseBusyError, MemoryDBError
from agentflowd.memory.schema import LATEST_VERSION, MIGRATIONS

T = TypeVar("T")

# How long SQLite itself waits for a lock before reporting BUSY to us.
BUSY_TIMEOUT_MS = 2_000
# How long write_transaction keeps retrying BUSY before giving up.
WRITE_DEADLINE_S = 120.0

_BUSY = (apsw.BusyError, apsw.LockedError)
# Failures of the machine or the file rather than of our SQL: reported as MemoryDBError (exit 3).
_ENVIRONMENT = (
    apsw.FullError,
    apsw.IOError,
    apsw.CorruptError,
    apsw.NotADBError,
    apsw.ReadOnlyError,
    apsw.CantOpenError,
    apsw.PermissionsError,
    apsw.ProtocolError,
    apsw.NoMemError,
    apsw.ExtensionLoadingError,
)


def vec_extension_path() -> str:
    """Path of sqlite-vec's loadable extension, found without importing `sqlite_vec`.

    Importing the package pulls in numpy.typing and the stdlib sqlite3 (~0.1 s); the CLI does not
    need either just to open the database.
    """
    spec = importlib.util.find_spec("sqlite_vec")
    if spec is None or spec.origin is None:
        raise MemoryDBError("sqlite-vec is not installed (pip install sqlite-vec)")
    return str(Path(spec.origin).parent / "vec0")


def open_db(path: Path, *, migrate: bool = True) -> apsw.Connection:
    """Open (creating if needed) the database at `path`, ready for use by any number of processes.

    Creates parent folders, loads sqlite-vec, switches to WAL with synchronous=NORMAL (a committed
    transaction survives a killed process; only a power cut can lose the last few), sets the busy
    timeout and applies pending migrations. Raises MemoryDBError for a file that is not a usable
    database.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MemoryDBError(f"cannot create the folder for {path}: {exc.strerror or exc}") from exc
    try:
        conn = apsw.Connection(str(path))
    except apsw.Error as exc:
        raise MemoryDBError(f"cannot open memory database {path}: {_reason(exc)}") from exc
    try:
        conn.setbusytimeout(BUSY_TIMEOUT_MS)
        conn.enable_load_extension(True)
        conn.load_extension(vec_extension_path())
        conn.enable_load_extension(False)
        _retry_busy(lambda: _enable_wal(conn))
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        if migrate:
            apply_migrations(conn)
    except apsw.Error as exc:
        conn.close()
        raise MemoryDBError(f"cannot use memory database {path}: {_reason(exc)}") from exc
    except BaseException:
        conn.close()
        raise
    return conn


@contextlib.contextmanager
def environment_errors(path: Path | str | None = None) -> Iterator[None]:
    """Turn SQLite's disk-full, I/O, corruption and permission errors into MemoryDBError."""
    try:
        yield
    except _ENVIRONMENT as exc:
        where = f" {path}" if path else ""
        raise MemoryDBError(f"memory database{where}: {_reason(exc)}") from exc


def _enable_wal(conn: apsw.Connection) -> None:
    mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    if str(mode).lower() != "wal":
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise MemoryDBError(f"the database refused WAL mode (journal_mode={mode})")


def schema_version(conn: apsw.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def apply_migrations(conn: apsw.Connection) -> int:
    """Bring the schema to LATEST_VERSION; returns the version found before migrating.

    Runs inside one write transaction and re-reads the version under the lock, so processes that
    open a fresh database at the same moment migrate it exactly once.
    """
    found = schema_version(conn)
    if found == LATEST_VERSION:
        return found
    if found > LATEST_VERSION:
        raise MemoryDBError(
            f"the memory database has schema version {found}, newer than this agentflowd "
            f"understands ({LATEST_VERSION}); upgrade agentflowd"
        )

    def migrate(c: apsw.Connection) -> int:
        current = schema_version(c)
        for version in range(current + 1, LATEST_VERSION + 1):
            c.execute(MIGRATIONS[version])
        c.execute(f"PRAGMA user_version={LATEST_VERSION}")
        return current

    return write_transaction(conn, migrate)


def write_transaction(
    conn: apsw.Connection,
    body: Callable[[apsw.Connection], T],
    *,
    deadline_s: float = WRITE_DEADLINE_S,
) -> T:
    """Run `body(conn)` inside `BEGIN IMMEDIATE ... COMMIT`, retrying the whole body on BUSY.

    `body` may run more than once, so it must only touch the database (or be otherwise
    repeatable). Any other exception rolls back and propagates unchanged.
    """
    if conn.in_transaction:
        # Nested call inside an open transaction: the outer one owns commit and retry.
        return body(conn)
    give_up = time.monotonic() + deadline_s
    attempt = 0
    while True:
        try:
            conn.execute("BEGIN IMMEDIATE")
        except _BUSY as exc:
            attempt = _backoff(attempt, give_up, exc)
            continue
        try:
            result = body(conn)
            _commit(conn, give_up)
            return result
        except _BUSY as exc:
            _rollback(conn)
            attempt = _backoff(attempt, give_up, exc)
        except _ENVIRONMENT as exc:
            _rollback(conn)
            raise MemoryDBError(
                f"memory database: {_reason(exc)} (the write was not committed)"
            ) from exc
        except BaseException:
            _rollback(conn)
            raise


def _commit(conn: apsw.Connection, give_up: float) -> None:
    attempt = 0
    while True:
        try:
            conn.execute("COMMIT")
            return
        except _BUSY as exc:
            # A BUSY commit leaves the transaction open; retrying the COMMIT is the documented fix.
            attempt = _backoff(attempt, give_up, exc)


def _rollback(conn: apsw.Connection) -> None:
    if conn.in_transaction:
        # A failed rollback means SQLite already rolled back (e.g. after an I/O error).
        with contextlib.suppress(apsw.Error):
            conn.execute("ROLLBACK")


def _retry_busy(action: Callable[[], T], *, deadline_s: float = WRITE_DEADLINE_S) -> T:
    give_up = time.monotonic() + deadline_s
    attempt = 0
    while True:
        try:
            return action()
        except _BUSY as exc:
            attempt = _backoff(attempt, give_up, exc)


def _backoff(attempt: int, give_up: float, exc: BaseException) -> int:
    if time.monotonic() >= give_up:
        raise DatabaseBusyError(
            "the memory database stayed busy (another agentflowd process holds its write lock); "
            "try again"
        ) from exc
    # Jittered exponential backoff, capped: contention here is many short transactions.
    time.sleep(random.uniform(0.0, min(0.05, 0.001 * (2**attempt))))
    return attempt + 1


def _reason(exc: apsw.Error) -> str:
    if isinstance(exc, apsw.NotADBError):
        return "the file is not a SQLite database"
    if isinstance(exc, apsw.CorruptError):
        return "the database file is corrupt"
    if isinstance(exc, apsw.CantOpenError):
        return "cannot open the file (missing folder or no permission)"
    if isinstance(exc, apsw.ReadOnlyError):
        return "the database is read-only"
    if isinstance(exc, apsw.FullError):
        return "disk full"
    text = str(exc)
    # apsw prefixes messages with the exception class name ("BusyError: ..."); keep the text only.
    return text.split(": ", 1)[1] if ": " in text else text
