"""Search: semantic (vector KNN), keyword (FTS5 BM25) and hybrid (reciprocal rank fusion).

Semantic search per namespace picks the cheapest exact-enough path:
- filters on tags or metadata: the rows passing the filter are scored exactly in numpy (cost grows
  with the rows that pass, never misses one);
- a namespace with a usable Annoy index: Annoy candidates plus the vectors written after the build,
  all re-scored exactly (see `ann`); a stale index is still used (its delta and tombstones keep it
  correct) while a rebuild is requested in the background;
- a large namespace without a usable index: the int8 vec0 scan re-scored in float32, if filled;
- otherwise the float32 vec0 scan (every small namespace in one query).
Scores are cosine similarities in [-1, 1] for semantic, -BM25 for keyword (higher is better),
and the fused reciprocal-rank score for hybrid (with each side's score and rank alongside).
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from agentflowd.memory import ann
from agentflowd.memory import vectors as vec
from agentflowd.memory.errors import MemoryUsageError
from agentflowd.memory.model import SEARCH_MODES, Hit, SearchResult
from agentflowd.memory.store import LIVE, filter_sql

if TYPE_CHECKING:
    import apsw

    from agentflowd.memory.store import MemoryStore

RRF_K = 60
MAX_K = 1_000
# Past this many expired-but-unpurged rows a search purges first rather than over-fetching.
PURGE_BEFORE_SEARCH = 256
_WORD = re.compile(r"\w+", re.UNICODE)


class SearchEngine:
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
        query: str,
        *,
        mode: str,
        k: int,
        namespace: str | None,
        tags: Sequence[str],
        metadata: Mapping[str, Any] | None,
    ) -> SearchResult:
        if mode not in SEARCH_MODES:
            raise MemoryUsageError(f"unknown search mode {mode!r} (use {', '.join(SEARCH_MODES)})")
        if not 1 <= k <= MAX_K:
            raise MemoryUsageError(f"-k must be between 1 and {MAX_K}")
        if not query.strip():
            raise MemoryUsageError("the search query is empty")
        where, params = filter_sql(namespace=namespace, tags=tags, metadata=metadata)
        filtered = bool(tags or metadata)
        paths: dict[str, str] = {}
        embedded = 0
        semantic: list[tuple[int, float]] = []
        keyword: list[tuple[int, float]] = []
        depth = k if mode != "hybrid" else max(3 * k, 30)
        if mode in ("semantic", "hybrid"):
            embedded = self.store.embed_pending([namespace] if namespace is not None else None)
            query_vector = self.store.embedder.embed([query])[0]
            semantic = self.semantic(
                query_vector, depth, namespace=namespace, filtered=filtered,
                where=where, params=params, paths=paths,
            )  # fmt: skip
        if mode in ("keyword", "hybrid"):
            keyword = self.keyword(query, depth, where=where, params=params)
        if mode == "semantic":
            ranked = [(entry_id, score, {"cosine": score}) for entry_id, score in semantic]
        elif mode == "keyword":
            ranked = [(entry_id, score, {"bm25": -score}) for entry_id, score in keyword]
        else:
            ranked = fuse(semantic, keyword)
        ranked = ranked[:k]
        entries = self.store.entries_by_id([entry_id for entry_id, _, _ in ranked])
        hits = tuple(
            Hit(entries[entry_id], score, detail)
            for entry_id, score, detail in ranked
            if entry_id in entries
        )
        return SearchResult(mode=mode, hits=hits, paths=paths, embedded_now=embedded)

    # -- keyword -------------------------------------------------------------------------------

    def keyword(
        self, query: str, k: int, *, where: list[str], params: dict[str, Any]
    ) -> list[tuple[int, float]]:
        """(entry id, -BM25) best first. Words are OR-ed: BM25 ranks rows matching more of them higher."""
        words = _WORD.findall(query.lower())
        if not words:
            return []
        match = " OR ".join('"' + w.replace('"', '""') + '"' for w in dict.fromkeys(words))
        sql = (
            "SELECT e.id, bm25(entries_fts, 2.0, 1.0, 1.0) AS rank FROM entries_fts "
            "JOIN entries e ON e.id = entries_fts.rowid "
            f"WHERE entries_fts MATCH :match AND {' AND '.join([LIVE, *where])} "
            f"ORDER BY rank LIMIT {int(k)}"
        )
        rows = self.conn.execute(sql, {**params, "match": match, "now": time.time()})
        return [(entry_id, -float(rank)) for entry_id, rank in rows]

    # -- semantic ------------------------------------------------------------------------------

    def semantic(
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
        scored: list[tuple[int, float]] = []
        plain: list[str] = []
        for name in names:
            hits = self._accelerated(name, query, fetch, now, paths)
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
        self, namespace: str, query: np.ndarray, fetch: int, now: float, paths: dict[str, str]
    ) -> list[tuple[int, float]] | None:
        """Results through Annoy or int8 for a large namespace; None means use the f32 scan."""
        space = vec.current_space(self.conn)
        state = ann.read_state(self.conn, namespace)
        if state is not None and space is not None:
            index = self._index(state)
            if index is not None:
                try:
                    hits, stale = self._annoy(index, query, fetch, now)
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
        if count >= self.store.threshold_for(namespace):
            self.store.request_maintenance()
        int8 = self.conn.execute(
            "SELECT int8 FROM namespaces WHERE name = ?", (namespace,)
        ).fetchone()
        if int8 and int8[0] and vec.int8_scale(self.conn) is not None:
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
        self, index: ann.LoadedIndex, query: np.ndarray, fetch: int, now: float
    ) -> tuple[list[tuple[int, float]], bool]:
        state = index.state
        search_k = ann.search_k_for(state.n_items)
        n = min(state.n_items, 3 * fetch + state.tombstones)
        while True:
            seqs = index.candidates(query, n, search_k)
            hits = self._rescore_live(query, seqs, now)
            if len(hits) >= fetch or n >= state.n_items:
                break
            n = min(state.n_items, n * 4)
            search_k = max(search_k, n * state.trees)
        delta = self._delta_live(state, query, now)
        merged = vec.top_k(
            np.asarray([s for s, _ in hits + delta], dtype=np.int64),
            np.asarray([v for _, v in hits + delta], dtype=np.float32),
            fetch,
        )
        budget = max(ann.REBUILD_MIN_ROWS, ann.REBUILD_SHARE * state.n_items)
        stale = state.tombstones > budget or len(delta) > budget
        return merged, stale

    def _rescore_live(
        self, query: np.ndarray, seqs: np.ndarray, now: float
    ) -> list[tuple[int, float]]:
        wanted = [int(s) for s in seqs]
        if not wanted:
            return []
        marks = ",".join("?" * len(wanted))
        rows = self.conn.execute(
            f"SELECT v.seq, v.embedding FROM vectors v JOIN entries e ON e.id = v.entry_id "
            f"WHERE v.seq IN ({marks}) AND (e.expires_at IS NULL OR e.expires_at > ?)",
            [*wanted, now],
        ).fetchall()
        return _score_rows(rows, query)

    def _delta_live(
        self, state: ann.AnnState, query: np.ndarray, now: float
    ) -> list[tuple[int, float]]:
        rows = self.conn.execute(
            "SELECT v.seq, v.embedding FROM vectors v JOIN entries e ON e.id = v.entry_id "
            "WHERE v.namespace = ? AND v.seq > ? AND (e.expires_at IS NULL OR e.expires_at > ?)",
            (state.namespace, state.hwm, now),
        ).fetchall()
        return _score_rows(rows, query)

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


def fuse(
    semantic: list[tuple[int, float]], keyword: list[tuple[int, float]]
) -> list[tuple[int, float, dict[str, Any]]]:
    """Reciprocal rank fusion: score = sum over lists of 1 / (60 + rank)."""
    detail: dict[int, dict[str, Any]] = {}
    fused: dict[int, float] = {}
    for name, ranked, label in (("semantic", semantic, "cosine"), ("keyword", keyword, "bm25")):
        for rank, (entry_id, score) in enumerate(ranked, start=1):
            fused[entry_id] = fused.get(entry_id, 0.0) + 1.0 / (RRF_K + rank)
            info = detail.setdefault(entry_id, {})
            info[f"{name}_rank"] = rank
            info[label] = score if label == "cosine" else -score
    order = sorted(fused, key=lambda entry_id: -fused[entry_id])
    return [(entry_id, fused[entry_id], detail[entry_id]) for entry_id in order]
