"""Search: semantic (vector KNN), keyword (FTS5 BM25) and hybrid (reciprocal rank fusion).

Scores are cosine similarities in [-1, 1] for semantic, -BM25 for keyword (higher is better),
and the fused reciprocal-rank score for hybrid (with each side's score and rank alongside).
Keyword search needs neither numpy nor the model; the semantic side lives in `semantic`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from agentflowd.memory.errors import MemoryUsageError
from agentflowd.memory.model import SEARCH_MODES, Hit, SearchResult
from agentflowd.memory.store import LIVE, filter_sql

if TYPE_CHECKING:
    import apsw

    from agentflowd.memory.semantic import SemanticSearch
    from agentflowd.memory.store import MemoryStore

RRF_K = 60
MAX_K = 1_000
_WORD = re.compile(r"\w+", re.UNICODE)


class SearchEngine:
    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self._semantic: SemanticSearch | None = None

    @property
    def conn(self) -> apsw.Connection:
        return self.store.conn

    def close(self) -> None:
        if self._semantic is not None:
            self._semantic.close()

    @property
    def semantic(self) -> SemanticSearch:
        if self._semantic is None:
            from agentflowd.memory.semantic import SemanticSearch

            self._semantic = SemanticSearch(self.store)
        return self._semantic

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
            semantic = self.semantic.search(
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
