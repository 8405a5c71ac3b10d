"""The memory store: entries with namespaces, TTL, tags and metadata; embeddings; search.

Writes are short `BEGIN IMMEDIATE` transactions retried on BUSY (see `db.write_transaction`), so
any number of processes can share one database. Embedding is the slow part (loading the model
costs ~0.3-0.5 s per process, then ~5-10 ms per text), so it never happens inside a transaction:

- `embed_on_write=True` (the default, for long-lived processes with the model loaded) embeds
  before the transaction and writes the entry and its vector together.
- `embed_on_write=False` (the `memory store` CLI, which must answer in well under the model's
  load time) writes the entry marked *pending*; a background worker process embeds it shortly
  after, and any semantic search embeds whatever is still pending in the namespaces it searches
  before querying, so a search never silently misses an entry.

Numpy, the embedder, sqlite-vec queries and Annoy are imported only by the operations that need
them: storing, reading and listing stay cheap.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import apsw

from agentflowd.durations import parse_duration
from agentflowd.memory import redact as redaction
from agentflowd.memory.cache import LRUCache
from agentflowd.memory.db import open_db, schema_version, write_transaction
from agentflowd.memory.errors import EntryNotFoundError, MemoryUsageError
from agentflowd.memory.model import (
    DEFAULT_NAMESPACE,
    Entry,
    SearchResult,
    StoreResult,
)

if TYPE_CHECKING:
    from agentflowd.embed import Embedder
    from agentflowd.memory.search import SearchEngine

# A namespace's vectors are served through Annoy once it holds this many (sqlite-vec scans are
# 25-40 ms there on this class of machine; below, exact search is fast enough and exact).
DEFAULT_ANN_THRESHOLD = 25_000
MAX_VALUE_BYTES = 8 * 1024 * 1024
MAX_KEY_CHARS = 1024
MAX_NAMESPACE_CHARS = 200
# Expired rows removed by each write transaction in passing; `purge` removes the rest.
OPPORTUNISTIC_PURGE = 100
PURGE_CHUNK = 5_000
IMPORT_BATCH = 2_000
# Rows read per embedding round: the embedder sorts them by length, so large rounds pad less.
EMBED_BATCH = 512

Background = Literal["process", "thread", "off"]
_CONTROL = re.compile(r"[\x00-\x1f]")

ENTRY_COLUMNS = (
    "e.id, e.namespace, e.key, e.value, e.is_json, e.metadata, e.tags, e.created_at, "
    "e.updated_at, e.accessed_at, e.access_count, e.expires_at, e.needs_embed, "
    "EXISTS(SELECT 1 FROM vectors v0 WHERE v0.entry_id = e.id)"
)
LIVE = "(e.expires_at IS NULL OR e.expires_at > :now)"

_UPSERT = """
INSERT INTO entries(namespace, key, value, is_json, metadata, tags, created_at, updated_at,
                    expires_at, needs_embed)
VALUES (:namespace, :key, :value, :is_json, :metadata, :tags, :created_at, :updated_at,
        :expires_at, :needs_embed)
ON CONFLICT(namespace, key) DO UPDATE SET
    value = excluded.value,
    is_json = excluded.is_json,
    metadata = excluded.metadata,
    tags = excluded.tags,
    -- An expired entry that was not purged yet is replaced as if it were new.
    created_at = CASE WHEN entries.expires_at IS NOT NULL AND entries.expires_at <= :now
                      THEN excluded.created_at ELSE entries.created_at END,
    access_count = CASE WHEN entries.expires_at IS NOT NULL AND entries.expires_at <= :now
                        THEN 0 ELSE entries.access_count END,
    accessed_at = CASE WHEN entries.expires_at IS NOT NULL AND entries.expires_at <= :now
                       THEN NULL ELSE entries.accessed_at END,
    -- Strictly increasing, so a vector computed for an older value is recognised as stale.
    updated_at = max(excluded.updated_at, entries.updated_at + 0.000001),
    expires_at = excluded.expires_at,
    -- Same value and already embedded: keep the vector. Otherwise the trigger drops it.
    needs_embed = CASE
        WHEN excluded.needs_embed = 0 THEN 0
        WHEN entries.value IS excluded.value AND entries.is_json = excluded.is_json
             AND EXISTS(SELECT 1 FROM vectors WHERE entry_id = entries.id) THEN 0
        ELSE 1 END
"""


@dataclass(frozen=True)
class NewEntry:
    """A validated, redacted entry ready to be written."""

    namespace: str
    key: str
    value: str  # stored text: the value itself, or its JSON encoding
    is_json: bool
    metadata: str  # JSON object text
    tags: str  # JSON array text
    expires_at: float | None
    created_at: float | None = None  # None: now


@dataclass(frozen=True)
class NamespaceConfig:
    name: str
    embed: bool
    ann_threshold: int | None

    def to_json(self) -> dict[str, Any]:
        return {"namespace": self.name, "embed": self.embed, "ann_threshold": self.ann_threshold}


class MemoryStore:
    """One open project database. Not shared across threads without its own lock (it has one)."""

    def __init__(
        self,
        path: Path,
        *,
        embedder: Embedder | None = None,
        embed_on_write: bool = True,
        ann_threshold: int = DEFAULT_ANN_THRESHOLD,
        background: Background = "process",
        cache_size: int = 512,
    ) -> None:
        self.path = Path(path)
        self.conn = open_db(self.path)
        self.embed_on_write = embed_on_write
        self.ann_threshold = ann_threshold
        self.background = background
        self._embedder = embedder
        self._lock = threading.RLock()
        self._cache: LRUCache[tuple[str, str], Entry] = LRUCache(cache_size)
        self._data_version = self._read_data_version()
        self._accesses: dict[int, tuple[int, float]] = {}
        self._last_access_flush = time.monotonic()
        self._search: SearchEngine | None = None
        self._maintenance_requested = False

    # -- lifecycle -----------------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            self.flush_accesses()
            if self._search is not None:
                self._search.close()
            self.conn.close()

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            from agentflowd.embed import get_embedder

            self._embedder = get_embedder()
        return self._embedder

    # -- writes --------------------------------------------------------------------------------

    def store(
        self,
        namespace: str,
        key: str,
        value: Any,
        *,
        is_json: bool | None = None,
        ttl: str | float | None = None,
        tags: Iterable[str] = (),
        metadata: Mapping[str, Any] | None = None,
        redact: bool = True,
    ) -> StoreResult:
        """Create or replace one entry. Secrets are redacted unless `redact=False`."""
        found: Counter[str] = Counter()
        item = self.prepare(
            namespace, key, value, is_json=is_json, ttl=ttl, tags=tags, metadata=metadata,
            redact=redact, found=found,
        )  # fmt: skip
        vector = None
        embeds = self.namespace_config(item.namespace).embed
        if embeds and self.embed_on_write:
            vector = self.embedder.embed([item.value])
        now = time.time()

        def write(c: apsw.Connection) -> tuple[int, float, float]:
            _purge_some(c, now)
            last_id = _last_id(c)
            row = c.execute(
                _UPSERT + " RETURNING id, created_at, updated_at",
                _params(item, now, needs_embed=embeds),
            ).fetchone()
            _index_new_entries(c, last_id)
            c.execute("INSERT OR IGNORE INTO namespaces(name) VALUES (?)", (item.namespace,))
            if vector is not None:
                from agentflowd.memory import vectors as vec

                vec.ensure_space(c, vec.VectorSpace(self.embedder.model_id, self.embedder.dim))
                vec.write_vectors(c, [vec.PendingVector(row[0], item.namespace, row[2])], vector)
            return row

        with self._lock:
            entry_id, created_at, _ = write_transaction(self.conn, write)
            self._cache.discard((item.namespace, item.key))
            entry = self._entry_by_id(entry_id)
        if embeds and vector is None:
            self.request_maintenance()
        return StoreResult(entry, created=created_at == now, redactions=redaction.summarise(found))

    def store_many(self, items: Sequence[NewEntry]) -> int:
        """Write prepared entries in one transaction (as pending where their namespace embeds)."""
        if not items:
            return 0
        now = time.time()
        namespaces = {item.namespace for item in items}
        embeds = {ns: self.namespace_config(ns).embed for ns in namespaces}

        def write(c: apsw.Connection) -> int:
            _purge_some(c, now)
            last_id = _last_id(c)
            c.executemany(
                _UPSERT, (_params(item, now, needs_embed=embeds[item.namespace]) for item in items)
            )
            _index_new_entries(c, last_id)
            c.executemany(
                "INSERT OR IGNORE INTO namespaces(name) VALUES (?)", ((ns,) for ns in namespaces)
            )
            return len(items)

        with self._lock:
            written = write_transaction(self.conn, write)
            self._cache.clear()
        return written

    def delete(self, namespace: str, key: str) -> None:
        _check_namespace(namespace)
        now = time.time()

        def remove(c: apsw.Connection) -> int:
            _purge_some(c, now)
            c.execute(
                f"DELETE FROM entries AS e WHERE namespace = :ns AND key = :key AND {LIVE}",
                {"ns": namespace, "key": key, "now": now},
            )
            return c.changes()

        with self._lock:
            removed = write_transaction(self.conn, remove)
            self._cache.discard((namespace, key))
        if not removed:
            raise EntryNotFoundError(f"no entry {key!r} in namespace {namespace!r}")

    def purge(self) -> int:
        """Delete every expired entry; returns how many. Works in chunks to keep locks short."""
        total = 0
        while True:
            now = time.time()
            with self._lock:
                removed = write_transaction(
                    self.conn, lambda c, now=now: _purge_some(c, now, PURGE_CHUNK)
                )
            total += removed
            if removed < PURGE_CHUNK:
                break
        with self._lock:
            self._cache.clear()
        return total

    def configure_namespace(
        self, namespace: str, *, embed: bool | None = None, ann_threshold: int | None = None
    ) -> NamespaceConfig:
        """Turn embeddings on/off for a namespace or set its Annoy threshold."""
        _check_namespace(namespace)
        if ann_threshold is not None and ann_threshold < 1:
            raise MemoryUsageError("the Annoy threshold must be a positive number of rows")

        def update(c: apsw.Connection) -> None:
            c.execute("INSERT OR IGNORE INTO namespaces(name) VALUES (?)", (namespace,))
            if ann_threshold is not None:
                c.execute(
                    "UPDATE namespaces SET ann_threshold = ? WHERE name = ?",
                    (ann_threshold, namespace),
                )
            if embed is True:
                c.execute("UPDATE namespaces SET embed = 1 WHERE name = ?", (namespace,))
                c.execute(
                    "UPDATE entries SET needs_embed = 1 WHERE namespace = ? AND id NOT IN "
                    "(SELECT entry_id FROM vectors WHERE namespace = ?)",
                    (namespace, namespace),
                )
            elif embed is False:
                c.execute("UPDATE namespaces SET embed = 0, int8 = 0 WHERE name = ?", (namespace,))
                c.execute("DELETE FROM vectors WHERE namespace = ?", (namespace,))
                c.execute("UPDATE entries SET needs_embed = 0 WHERE namespace = ?", (namespace,))
                c.execute("DELETE FROM ann_state WHERE namespace = ?", (namespace,))

        with self._lock:
            write_transaction(self.conn, update)
            self._cache.clear()
        if embed is False:
            from agentflowd.memory import ann

            ann.remove_generations(self.path, namespace, keep=None)
        return self.namespace_config(namespace)

    def namespace_config(self, namespace: str) -> NamespaceConfig:
        _check_namespace(namespace)
        with self._lock:
            row = self.conn.execute(
                "SELECT embed, ann_threshold FROM namespaces WHERE name = ?", (namespace,)
            ).fetchone()
        if row is None:
            return NamespaceConfig(namespace, True, None)
        return NamespaceConfig(namespace, bool(row[0]), row[1])

    def threshold_for(self, namespace: str) -> int:
        return self.namespace_config(namespace).ann_threshold or self.ann_threshold

    # -- reads ---------------------------------------------------------------------------------

    def get(self, namespace: str, key: str) -> Entry:
        _check_namespace(namespace)
        now = time.time()
        with self._lock:
            self._drop_cache_if_changed_elsewhere()
            entry = self._cache.get((namespace, key))
            if entry is None:
                row = self.conn.execute(
                    f"SELECT {ENTRY_COLUMNS} FROM entries e "
                    f"WHERE e.namespace = :ns AND e.key = :key AND {LIVE}",
                    {"ns": namespace, "key": key, "now": now},
                ).fetchone()
                if row is None:
                    raise EntryNotFoundError(f"no entry {key!r} in namespace {namespace!r}")
                entry = _row_to_entry(row)
                self._cache.put((namespace, key), entry)
                entry_id = row[0]
            else:
                if entry.expires_at is not None and entry.expires_at <= now:
                    self._cache.discard((namespace, key))
                    raise EntryNotFoundError(f"no entry {key!r} in namespace {namespace!r}")
                entry_id = self._entry_id(namespace, key)
            self._record_access(entry_id, now)
        return entry

    def list(
        self,
        *,
        namespace: str | None = None,
        prefix: str | None = None,
        tags: Sequence[str] = (),
        metadata: Mapping[str, Any] | None = None,
        limit: int | None = 100,
    ) -> list[Entry]:
        if limit is not None and limit < 1:
            raise MemoryUsageError("--limit must be at least 1")
        where, params = filter_sql(namespace=namespace, tags=tags, metadata=metadata)
        if prefix:
            where.append("substr(e.key, 1, :plen) = :prefix")
            params.update(plen=len(prefix), prefix=prefix)
        params["now"] = time.time()
        sql = f"SELECT {ENTRY_COLUMNS} FROM entries e WHERE {' AND '.join([LIVE, *where])} "
        sql += "ORDER BY e.namespace, e.key"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self._lock:
            return [_row_to_entry(row) for row in self.conn.execute(sql, params)]

    def export(self, *, namespace: str | None = None) -> Iterator[dict[str, Any]]:
        """Every live entry as a JSON-ready record (the `import` format)."""
        for entry in self.list(namespace=namespace, limit=None):
            yield entry.to_record()

    def import_records(
        self, records: Iterable[NewEntry], *, batch_size: int = IMPORT_BATCH
    ) -> tuple[int, int]:
        """Write prepared records in committed batches; returns (imported, skipped as expired).

        Each batch is its own transaction: an interrupted import keeps every finished batch.
        """
        imported = skipped = 0
        batch: list[NewEntry] = []
        for record in records:
            if record.expires_at is not None and record.expires_at <= time.time():
                skipped += 1
                continue
            batch.append(record)
            if len(batch) >= batch_size:
                imported += self.store_many(batch)
                batch = []
        imported += self.store_many(batch)
        if imported:
            self.request_maintenance()
        return imported, skipped

    def prepare(
        self,
        namespace: str,
        key: str,
        value: Any,
        *,
        is_json: bool | None = None,
        ttl: str | float | None = None,
        expires_at: float | None = None,
        created_at: float | None = None,
        tags: Iterable[str] = (),
        metadata: Mapping[str, Any] | None = None,
        redact: bool = True,
        found: Counter[str] | None = None,
    ) -> NewEntry:
        """Validate and redact one entry; the kinds of secrets redacted are counted in `found`."""
        _check_namespace(namespace)
        _check_key(key)
        if is_json is None:
            is_json = not isinstance(value, str)
        if not is_json and not isinstance(value, str):
            raise MemoryUsageError("a text value must be a string")
        meta = dict(metadata or {})
        if not all(isinstance(k, str) for k in meta):
            raise MemoryUsageError("metadata keys must be strings")
        if redact:
            if is_json:
                value, hits = redaction.redact_json(value)
            else:
                value, hits = redaction.redact_text(value)
            meta, meta_hits = redaction.redact_json(meta)
            if found is not None:
                found.update(hits + meta_hits)
        if is_json:
            try:
                text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
            except (TypeError, ValueError) as exc:
                raise MemoryUsageError(f"the value is not JSON-serialisable: {exc}") from exc
        else:
            text = value
        if len(text.encode("utf-8")) > MAX_VALUE_BYTES:
            raise MemoryUsageError(
                f"the value is larger than {MAX_VALUE_BYTES // (1024 * 1024)} MiB"
            )
        try:
            meta_text = json.dumps(meta, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise MemoryUsageError(f"metadata is not JSON-serialisable: {exc}") from exc
        if ttl is not None:
            expires_at = time.time() + parse_duration(ttl)
        return NewEntry(
            namespace=namespace,
            key=key,
            value=text,
            is_json=bool(is_json),
            metadata=meta_text,
            tags=json.dumps(normalise_tags(tags), ensure_ascii=False),
            expires_at=expires_at,
            created_at=created_at,
        )

    # -- embeddings and search -----------------------------------------------------------------

    def pending_count(self, namespaces: Sequence[str] | None = None) -> int:
        """Live entries still waiting for their embedding."""
        sql = "SELECT count(*) FROM entries e WHERE e.needs_embed = 1 "
        sql += "AND (e.expires_at IS NULL OR e.expires_at > ?)"
        params: list[Any] = [time.time()]
        if namespaces is not None:
            sql += f" AND e.namespace IN ({','.join('?' * len(namespaces))})"
            params.extend(namespaces)
        with self._lock:
            return self.conn.execute(sql, params).fetchone()[0]

    def embed_pending(
        self, namespaces: Sequence[str] | None = None, *, batch: int = EMBED_BATCH
    ) -> int:
        """Embed every live pending entry (of `namespaces`, or all); returns how many were written."""
        from agentflowd.memory import vectors as vec

        space = vec.VectorSpace(self.embedder.model_id, self.embedder.dim)
        with self._lock:
            current = vec.current_space(self.conn)
        if current != space:
            # A new model (or the first vector ever): set up the tables before reading pending
            # rows, since switching models marks every entry pending.
            with self._lock:
                write_transaction(self.conn, lambda c: vec.ensure_space(c, space))
        total = 0
        # Rows changed by another process while we embedded them are skipped by write_vectors
        # (their vector would describe the old value); a second pass picks them up again.
        for _ in range(3):
            written, skipped = self._embed_pass(namespaces, space, batch)
            total += written
            if not skipped:
                break
        return total

    def _embed_pass(
        self, namespaces: Sequence[str] | None, space: Any, batch: int
    ) -> tuple[int, int]:
        from agentflowd.memory import vectors as vec

        written = skipped = 0
        after_id = 0
        while True:
            sql = (
                "SELECT e.id, e.namespace, e.value, e.updated_at FROM entries e "
                "WHERE e.needs_embed = 1 AND e.id > ? AND (e.expires_at IS NULL OR e.expires_at > ?)"
            )
            params: list[Any] = [after_id, time.time()]
            if namespaces is not None:
                sql += f" AND e.namespace IN ({','.join('?' * len(namespaces))})"
                params.extend(namespaces)
            sql += f" ORDER BY e.id LIMIT {int(batch)}"
            with self._lock:
                rows = self.conn.execute(sql, params).fetchall()
            if not rows:
                return written, skipped
            after_id = rows[-1][0]
            matrix = self.embedder.embed([row[2] for row in rows])
            pending = [vec.PendingVector(row[0], row[1], row[3]) for row in rows]

            def write(
                c: apsw.Connection, pending: list[Any] = pending, matrix: Any = matrix
            ) -> int:
                vec.ensure_space(c, space)
                return vec.write_vectors(c, pending, matrix)

            with self._lock:
                done = write_transaction(self.conn, write)
                self._cache.clear()
            written += done
            skipped += len(rows) - done

    def search(
        self,
        query: str,
        *,
        mode: str = "hybrid",
        k: int = 10,
        namespace: str | None = None,
        tags: Sequence[str] = (),
        metadata: Mapping[str, Any] | None = None,
    ) -> SearchResult:
        from agentflowd.memory.search import SearchEngine

        with self._lock:
            if self._search is None:
                self._search = SearchEngine(self)
            return self._search.search(
                query, mode=mode, k=k, namespace=namespace, tags=tags, metadata=metadata
            )

    # -- maintenance ---------------------------------------------------------------------------

    def request_maintenance(self) -> None:
        """Ask for pending embeddings and due index builds to run in the background."""
        if self.background == "off":
            return
        if self.background == "process":
            # The worker's own lock makes this a no-op while one is already running.
            from agentflowd.memory.worker import spawn_worker

            spawn_worker(self.path)
            return
        with self._lock:
            if self._maintenance_requested:
                return
            self._maintenance_requested = True
        threading.Thread(target=self._maintain_in_thread, daemon=True).start()

    def _maintain_in_thread(self) -> None:
        from agentflowd.memory.worker import run_maintenance

        try:
            run_maintenance(self.path, embedder=self._embedder, ann_threshold=self.ann_threshold)
        finally:
            self._maintenance_requested = False

    # -- stats ---------------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        from agentflowd.memory import ann

        now = time.time()
        with self._lock:
            c = self.conn
            rows = c.execute(
                "SELECT namespace, count(*), "
                "sum(expires_at IS NOT NULL AND expires_at <= ?), "
                "sum(needs_embed = 1 AND (expires_at IS NULL OR expires_at > ?)) "
                "FROM entries GROUP BY namespace ORDER BY namespace",
                (now, now),
            ).fetchall()
            vector_counts = dict(
                c.execute("SELECT namespace, count(*) FROM vectors GROUP BY namespace").fetchall()
            )
            space = c.execute(
                "SELECT key, value FROM meta WHERE key IN ('embed_model', 'embed_dim')"
            ).fetchall()
            settings = {
                name: (bool(embed), threshold, bool(int8))
                for name, embed, threshold, int8 in c.execute(
                    "SELECT name, embed, ann_threshold, int8 FROM namespaces"
                )
            }
            namespaces = []
            for name, count, expired, pending in rows:
                embed, threshold, int8 = settings.get(name, (True, None, False))
                state = ann.read_state(c, name)
                index = None
                if state is not None:
                    index = {
                        "generation": state.generation,
                        "items": state.n_items,
                        "added_since_build": ann.delta_count(c, state),
                        "removed_since_build": state.tombstones,
                        "built_at": state.built_at,
                        "bytes": ann.index_size(self.path, state),
                        "trees": state.trees,
                    }
                namespaces.append(
                    {
                        "namespace": name,
                        "entries": count - (expired or 0),
                        "expired_unpurged": expired or 0,
                        "vectors": vector_counts.get(name, 0),
                        "pending_embeddings": pending or 0,
                        "embed": embed,
                        "int8": int8,
                        "ann_threshold": threshold or self.ann_threshold,
                        "annoy": index,
                    }
                )
        db_bytes = _size(self.path)
        wal_bytes = _size(self.path.with_name(self.path.name + "-wal"))
        with self._lock:
            version = schema_version(self.conn)
        return {
            "db": str(self.path),
            "schema_version": version,
            "db_bytes": db_bytes,
            "wal_bytes": wal_bytes,
            "embedding_model": dict(space).get("embed_model"),
            "embedding_dim": int(dict(space)["embed_dim"]) if space else None,
            "annoy_available": ann.annoy_installed(),
            "entries": sum(ns["entries"] for ns in namespaces),
            "pending_embeddings": sum(ns["pending_embeddings"] for ns in namespaces),
            "namespaces": namespaces,
        }

    # -- internals -----------------------------------------------------------------------------

    def entries_by_id(self, ids: Sequence[int]) -> dict[int, Entry]:
        """Live entries for `ids` (missing or expired ones are absent)."""
        found: dict[int, Entry] = {}
        now = time.time()
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            marks = ",".join("?" * len(chunk))
            sql = (
                f"SELECT {ENTRY_COLUMNS} FROM entries e WHERE e.id IN ({marks}) "
                "AND (e.expires_at IS NULL OR e.expires_at > ?)"
            )
            for row in self.conn.execute(sql, [*chunk, now]):
                found[row[0]] = _row_to_entry(row)
        return found

    def _entry_by_id(self, entry_id: int) -> Entry:
        row = self.conn.execute(
            f"SELECT {ENTRY_COLUMNS} FROM entries e WHERE e.id = ?", (entry_id,)
        ).fetchone()
        return _row_to_entry(row)

    def _entry_id(self, namespace: str, key: str) -> int:
        row = self.conn.execute(
            "SELECT id FROM entries WHERE namespace = ? AND key = ?", (namespace, key)
        ).fetchone()
        return row[0] if row else -1

    def _read_data_version(self) -> int:
        return int(self.conn.execute("PRAGMA data_version").fetchone()[0])

    def _drop_cache_if_changed_elsewhere(self) -> None:
        # data_version moves when another connection commits: our cache may be stale.
        version = self._read_data_version()
        if version != self._data_version:
            self._cache.clear()
            self._data_version = version

    def _record_access(self, entry_id: int, now: float) -> None:
        count, _ = self._accesses.get(entry_id, (0, now))
        self._accesses[entry_id] = (count + 1, now)
        if len(self._accesses) >= 256 or time.monotonic() - self._last_access_flush > 2.0:
            self.flush_accesses()

    def flush_accesses(self) -> None:
        """Write buffered access counts (reads are counted in batches, not one write each)."""
        if not self._accesses:
            return
        pending = list(self._accesses.items())

        def write(c: apsw.Connection) -> None:
            c.executemany(
                "UPDATE entries SET access_count = access_count + ?, "
                "accessed_at = max(coalesce(accessed_at, 0), ?) WHERE id = ?",
                ((count, ts, entry_id) for entry_id, (count, ts) in pending),
            )

        with self._lock:
            write_transaction(self.conn, write)
            self._accesses.clear()
            self._last_access_flush = time.monotonic()


# -- helpers -----------------------------------------------------------------------------------


def _params(item: NewEntry, now: float, *, needs_embed: bool) -> dict[str, Any]:
    return {
        "namespace": item.namespace,
        "key": item.key,
        "value": item.value,
        "is_json": int(item.is_json),
        "metadata": item.metadata,
        "tags": item.tags,
        "created_at": item.created_at if item.created_at is not None else now,
        "updated_at": now,
        "expires_at": item.expires_at,
        "needs_embed": int(needs_embed),
        "now": now,
    }


def _last_id(c: apsw.Connection) -> int:
    return c.execute("SELECT coalesce(max(id), 0) FROM entries").fetchone()[0]


def _index_new_entries(c: apsw.Connection, after_id: int) -> None:
    """Add the entries inserted by this transaction to the keyword index, in one statement.

    AUTOINCREMENT ids only grow, so the new rows are exactly those above the largest id seen
    before the insert. (Replaced entries are re-indexed by the update trigger.)
    """
    c.execute(
        "INSERT INTO entries_fts(rowid, key, value, tags) "
        "SELECT id, key, value, tags FROM entries WHERE id > ?",
        (after_id,),
    )


def _purge_some(c: apsw.Connection, now: float, limit: int = OPPORTUNISTIC_PURGE) -> int:
    """Delete up to `limit` expired entries; returns how many."""
    c.execute(
        "DELETE FROM entries WHERE id IN (SELECT id FROM entries "
        "WHERE expires_at IS NOT NULL AND expires_at <= ? LIMIT ?)",
        (now, limit),
    )
    return c.changes()


def _row_to_entry(row: Sequence[Any]) -> Entry:
    (_id, namespace, key, value, is_json, metadata, tags, created_at, updated_at, accessed_at,
     access_count, expires_at, needs_embed, has_vector) = row  # fmt: skip
    if needs_embed:
        status = "pending"
    elif has_vector:
        status = "ready"
    else:
        status = "disabled"
    return Entry(
        namespace=namespace,
        key=key,
        value=json.loads(value) if is_json else value,
        is_json=bool(is_json),
        metadata=json.loads(metadata),
        tags=tuple(json.loads(tags)),
        created_at=created_at,
        updated_at=updated_at,
        accessed_at=accessed_at,
        access_count=access_count,
        expires_at=expires_at,
        embedding=status,
    )


def normalise_tags(tags: Iterable[str]) -> list[str]:
    clean: set[str] = set()
    for tag in tags:
        if not isinstance(tag, str):
            raise MemoryUsageError(f"a tag must be a string, got {tag!r}")
        tag = tag.strip()
        if not tag:
            continue
        if "," in tag or _CONTROL.search(tag) or len(tag) > 100:
            raise MemoryUsageError(
                f"bad tag {tag!r}: no commas or control characters, at most 100 chars"
            )
        clean.add(tag)
    return sorted(clean)


def filter_sql(
    *,
    namespace: str | None,
    tags: Sequence[str] = (),
    metadata: Mapping[str, Any] | None = None,
) -> tuple[list[str], dict[str, Any]]:
    """WHERE clauses (over alias `e`) and named parameters for the common filters."""
    where: list[str] = []
    params: dict[str, Any] = {}
    if namespace is not None:
        _check_namespace(namespace)
        where.append("e.namespace = :ns")
        params["ns"] = namespace
    for i, tag in enumerate(normalise_tags(tags)):
        where.append(f"EXISTS (SELECT 1 FROM json_each(e.tags) WHERE json_each.value = :tag{i})")
        params[f"tag{i}"] = tag
    for i, (field, wanted) in enumerate((metadata or {}).items()):
        parts = field.split(".")
        if not field or not all(parts):
            raise MemoryUsageError(f"bad metadata field {field!r}")
        params[f"mpath{i}"] = "$" + "".join("." + json.dumps(part) for part in parts)
        path = f":mpath{i}"
        if wanted is None:
            where.append(f"json_type(e.metadata, {path}) = 'null'")
        elif isinstance(wanted, bool):
            where.append(f"json_type(e.metadata, {path}) = '{'true' if wanted else 'false'}'")
        elif isinstance(wanted, int | float):
            if isinstance(wanted, float) and not math.isfinite(wanted):
                raise MemoryUsageError(f"bad metadata value for {field!r}")
            where.append(
                f"json_type(e.metadata, {path}) IN ('integer', 'real') "
                f"AND json_extract(e.metadata, {path}) = :mval{i}"
            )
            params[f"mval{i}"] = wanted
        elif isinstance(wanted, str):
            where.append(
                f"json_type(e.metadata, {path}) = 'text' AND json_extract(e.metadata, {path}) = :mval{i}"
            )
            params[f"mval{i}"] = wanted
        else:
            where.append(f"json_extract(e.metadata, {path}) = json(:mval{i})")
            params[f"mval{i}"] = json.dumps(wanted, separators=(",", ":"))
    return where, params


def _check_namespace(namespace: str) -> None:
    if not isinstance(namespace, str) or not namespace.strip():
        raise MemoryUsageError("the namespace must be a non-empty string")
    if len(namespace) > MAX_NAMESPACE_CHARS or _CONTROL.search(namespace):
        raise MemoryUsageError(
            f"bad namespace {namespace[:40]!r}: at most {MAX_NAMESPACE_CHARS} chars, no control characters"
        )


def _check_key(key: str) -> None:
    if not isinstance(key, str) or not key:
        raise MemoryUsageError("the key must be a non-empty string")
    if len(key) > MAX_KEY_CHARS or _CONTROL.search(key):
        raise MemoryUsageError(
            f"bad key {key[:40]!r}: at most {MAX_KEY_CHARS} chars, no control characters"
        )


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


__all__ = [
    "DEFAULT_ANN_THRESHOLD",
    "DEFAULT_NAMESPACE",
    "MemoryStore",
    "NamespaceConfig",
    "NewEntry",
    "filter_sql",
    "normalise_tags",
]
