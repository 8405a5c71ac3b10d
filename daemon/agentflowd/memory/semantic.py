"""Semantic search: vector KNN over one or all namespaces, always returning exact cosines.

Per namespace it picks the cheapest path that is exact or close to it:
- filters on tags or metadata: the rows passing the filter are scored exactly in numpy (cost grows
  with the rows that pass; never misses one);
- a namespace with a usable Annoy index: Annoy candidates plus the vectors written after the build,
  all re-scored exactly from their float32 blobs (see `ann`); a stale index is still used (its
  delta and tombstones keep it correct) while a rebuild is requested in the background;
- a large namespace without a usable index: the int8 vec0 scan re-scored in float32, if filled;
- otherwise the float32 vec0 scan (every small namespace in one query).
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

import numpy as np

from agentflowd.memory import ann
from agentflowd.memory import vectors as vec
from agentflowd.memory.store import LIVE

if TYPE_CHECKING:
    import apsw

    from agentflowd.memory.store import MemoryStore

# Past this many expired-but-unpurged rows a search purges first rather than over-fetching.
PURGE_BEFORE_SEARCH = 256


class SemanticSearch:
    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self._indexes: dict[str, ann.LoadedIndex] = {}

    @property
    def conn(self) -> apsw.Connection:
        return self.store.conn

    def close(self) -> None:
        for index in self._indexes.values():
            index.close()
        self._indexes.clear()

    def search(
        self,
        query: np.ndarray,
        k: int,
        *,
        namespace: str | None,
        filtered: bool = False,
        where: list[str] | None = None,
        params: dict[str, Any] | None = None,
        paths: dict[str, str] | None = None,
    ) -> list[tuple[int, float]]:
        """(entry id, cosine) best first, live entries only."""
        paths = paths if paths is not None else {}
        query = np.ascontiguousarray(query, dtype=np.float32)
        if vec.current_space(self.conn) is None:
            return []
        now = time.time()
        if filtered:
            paths[namespace or "*"] = "filtered-exact"
            return self._filtered_exact(query, k, where or [], params or {}, now)
        expired = self._expired_unpurged(now)
        if expired > PURGE_BEFORE_SEARCH:
            self.store.purge()
            expired = self._expired_unpurged(time.time())
        fetch = k + expired
        if namespace is not None:
            names = [namespace]
        else:
            names = [row[0] for row in self.conn.execute("SELECT name FROM namespaces")]
        int8 = vec.int8_namespaces(self.conn)
        scored: list[tuple[int, float]] = []
        plain: list[str] = []
        for name in names:
            hits = self._accelerated(name, name in int8, query, fetch, paths)
            if hits is None:
                plain.append(name)
            else:
                scored.extend(hits)
        if plain:
            # Every namespace: no partition constraint at all.
            scope = None if namespace is None and len(plain) == len(names) else plain
            for name in plain:
                paths.setdefault(name, "exact-f32")
            scored.extend(vec.knn_exact(self.conn, query, fetch, namespaces=scope))
        return self._live_entries(scored, k, now)

    def _accelerated(
        self,
        namespace: str,
        int8: bool,
        query: np.ndarray,
        fetch: int,
        paths: dict[str, str],
    ) -> list[tuple[int, float]] | None:
        """Results through Annoy or int8 for a large namespace; None means use the f32 scan."""
        state = ann.read_state(self.conn, namespace)
        if state is not None:
            index = self._index(state)
            if index is not None:
                try:
                    hits, stale = self._annoy(index, query, fetch)
                except ann.CorruptIndexError:
                    self._forget(namespace)
                else:
                    paths[namespace] = "annoy+delta"
                    if stale:
                        self.store.request_maintenance()
                    return hits
            self.store.request_maintenance()
        count = self.conn.execute(
            "SELECT count(*) FROM vectors WHERE namespace = ?", (namespace,)
        ).fetchone()[0]
        if count >= self.store.threshold_for(namespace) and ann.annoy_installed():
            self.store.request_maintenance()
        if int8 and vec.int8_scale(self.conn) is not None:
            paths[namespace] = "exact-int8"
            return vec.knn_exact(self.conn, query, fetch, namespaces=[namespace], use_int8=True)
        return None

    def _index(self, state: ann.AnnState) -> ann.LoadedIndex | None:
        loaded = self._indexes.get(state.namespace)
        if loaded is not None and loaded.state.generation == state.generation:
            # Same files; the counters (tombstones) move between builds.
            loaded.state = state
            return loaded
        self._forget(state.namespace)
        for _ in range(2):
            try:
                loaded = ann.load(self.store.path, state)
            except ann.CorruptIndexError:
                # A builder may have just replaced this generation: look again before giving up.
                fresh = ann.read_state(self.conn, state.namespace)
                if fresh is None or fresh.generation == state.generation:
                    return None
                state = fresh
                continue
            self._indexes[state.namespace] = loaded
            return loaded
        return None

    def _forget(self, namespace: str) -> None:
        old = self._indexes.pop(namespace, None)
        if old is not None:
            old.close()

    def _annoy(
        self, index: ann.LoadedIndex, query: np.ndarray, fetch: int
    ) -> tuple[list[tuple[int, float]], bool]:
        state = index.state
        search_k = ann.search_k_for(state.n_items)
        # Tombstones are spread over the whole index: expect their share among the candidates,
        # not all of them. Falling short is caught below and retried with more.
        alive = max(0.05, 1.0 - state.tombstones / max(1, state.n_items))
        n = min(state.n_items, math.ceil(3 * fetch / alive) + 10)
        while True:
            found, scores = self._score(query, index.candidates(query, n, search_k))
            # Deleted or re-embedded rows are gone from `vectors`; expired ones are dropped when
            # mapping to entries (the caller's `fetch` already allows for them).
            if len(found) >= fetch or n >= state.n_items:
                break
            n = min(state.n_items, n * 4)
            search_k = max(search_k, n * state.trees)
        delta_seqs, delta_scores = self._score_delta(state, query, fetch)
        merged = vec.top_k(
            np.concatenate([found, delta_seqs]), np.concatenate([scores, delta_scores]), fetch
        )
        budget = max(ann.REBUILD_MIN_ROWS, ann.REBUILD_SHARE * state.n_items)
        stale = state.tombstones > budget or (
            len(delta_seqs) >= fetch and ann.delta_count(self.conn, state) > budget
        )
        return merged, stale

    def _score(self, query: np.ndarray, seqs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        found, matrix = vec.fetch_vectors(self.conn, seqs)
        if not len(found):
            return found, np.zeros(0, dtype=np.float32)
        return found, matrix @ query

    def _score_delta(
        self, state: ann.AnnState, query: np.ndarray, fetch: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Best `fetch` of the vectors written after the build (seq above its high-water mark),
        scored exactly inside SQLite by sqlite-vec, so the blobs never reach Python."""
        rows = self.conn.execute(
            "SELECT seq, 1.0 - vec_distance_cosine(embedding, ?) AS score FROM vectors "
            "WHERE namespace = ? AND seq > ? ORDER BY score DESC LIMIT ?",
            (query.tobytes(), state.namespace, state.hwm, fetch),
        ).fetchall()
        return (
            np.asarray([row[0] for row in rows], dtype=np.int64),
            np.asarray([row[1] for row in rows], dtype=np.float32),
        )

    def _filtered_exact(
        self, query: np.ndarray, k: int, where: list[str], params: dict[str, Any], now: float
    ) -> list[tuple[int, float]]:
        sql = (
            "SELECT e.id, v.embedding FROM vectors v JOIN entries e ON e.id = v.entry_id "
            f"WHERE {' AND '.join([LIVE, *where])}"
        )
        rows = self.conn.execute(sql, {**params, "now": now}).fetchall()
        return _score_rows(rows, query, k)

    def _expired_unpurged(self, now: float) -> int:
        return self.conn.execute(
            "SELECT count(*) FROM entries WHERE expires_at IS NOT NULL AND expires_at <= ?", (now,)
        ).fetchone()[0]

    def _live_entries(
        self, scored: list[tuple[int, float]], k: int, now: float
    ) -> list[tuple[int, float]]:
        """Map vector seqs to live entry ids, keep the best k."""
        scored.sort(key=lambda pair: -pair[1])
        best: dict[int, float] = {}
        for seq, score in scored:
            best.setdefault(seq, score)
        seqs = list(best)
        out: list[tuple[int, float]] = []
        for start in range(0, len(seqs), 500):
            chunk = seqs[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = dict(
                self.conn.execute(
                    f"SELECT v.seq, v.entry_id FROM vectors v JOIN entries e ON e.id = v.entry_id "
                    f"WHERE v.seq IN ({marks}) AND (e.expires_at IS NULL OR e.expires_at > ?)",
                    [*chunk, now],
                ).fetchall()
            )
            out.extend((rows[seq], best[seq]) for seq in chunk if seq in rows)
        out.sort(key=lambda pair: -pair[1])
        return out[:k]


def _score_rows(
    rows: list[tuple[int, bytes]], query: np.ndarray, k: int | None = None
) -> list[tuple[int, float]]:
    if not rows:
        return []
    ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
    matrix = np.frombuffer(b"".join(row[1] for row in rows), dtype=np.float32).reshape(
        len(rows), -1
    )
    return vec.top_k(ids, matrix @ query, k)
