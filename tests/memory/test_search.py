"""Search by meaning, by words and both; scores; model changes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from agentflowd.memory.errors import MemoryUsageError
from agentflowd.memory.store import MemoryStore

FACTS = {
    "deploy-day": "deploys happen on Tuesdays",
    "db": "the primary database is Postgres 16 on a managed cluster",
    "style": "Python code is formatted with ruff and uses type hints everywhere",
    "lunch": "the team orders pizza on Fridays",
    "oncall": "pager duty rotates weekly between four engineers",
}


@pytest.fixture
def facts(store: MemoryStore) -> MemoryStore:
    for key, value in FACTS.items():
        store.store("project", key, value)
    return store


def test_semantic_search_finds_by_meaning(facts: MemoryStore) -> None:
    result = facts.search("when do we release to production?", mode="semantic", k=3)
    assert result.hits[0].entry.key == "deploy-day"
    assert result.hits[0].score > result.hits[1].score
    assert result.paths == {"project": "exact-f32"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("which SQL engine do we run?", "db"),
        ("how is the code linted?", "style"),
        ("what is the on-call rotation?", "oncall"),
    ],
)
def test_semantic_search_more_paraphrases(facts: MemoryStore, query: str, expected: str) -> None:
    assert facts.search(query, mode="semantic", k=1).hits[0].entry.key == expected


def test_semantic_scores_are_true_cosines(facts: MemoryStore, embedder) -> None:  # type: ignore[no-untyped-def]
    query = "when do we release to production?"
    hit = facts.search(query, mode="semantic", k=1).hits[0]
    vectors = embedder.embed([query, FACTS["deploy-day"]])
    assert hit.score == pytest.approx(float(vectors[0] @ vectors[1]), abs=1e-4)
    assert hit.detail == {"cosine": hit.score}


def test_keyword_search_ranks_by_bm25(facts: MemoryStore) -> None:
    hits = facts.search("Postgres cluster", mode="keyword").hits
    assert [h.entry.key for h in hits] == ["db"]
    assert hits[0].score > 0 and "bm25" in hits[0].detail
    assert facts.search("tuesday", mode="keyword").hits[0].entry.key == "deploy-day"  # stemmed


def test_keyword_search_tolerates_punctuation_and_fts_syntax(facts: MemoryStore) -> None:
    for query in ['"unbalanced', "NEAR(", "a AND OR b", "pizza?!", "col:value*"]:
        facts.search(query, mode="keyword")  # must not raise an FTS syntax error


def test_hybrid_fuses_both_rankings(facts: MemoryStore) -> None:
    facts.store("project", "release-notes", "release notes are written in the wiki")
    result = facts.search("when do we release to production?", mode="hybrid", k=5)
    keys = [h.entry.key for h in result.hits]
    assert keys[0] in {"deploy-day", "release-notes"}
    assert {"deploy-day", "release-notes"} <= set(keys[:2])
    top = result.hits[0]
    assert {"semantic_rank", "cosine"} <= set(top.detail)
    assert [h.score for h in result.hits] == sorted((h.score for h in result.hits), reverse=True)


def test_namespace_scoping(facts: MemoryStore) -> None:
    facts.store("other", "deploy", "releases ship on Tuesday mornings")
    only = facts.search("when do we release?", mode="semantic", namespace="other")
    assert [h.entry.key for h in only.hits] == ["deploy"]
    everywhere = facts.search("when do we release?", mode="semantic", k=2)
    assert {h.entry.namespace for h in everywhere.hits} == {"project", "other"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mode": "fuzzy"}, "unknown search mode"),
        ({"k": 0}, "-k must be"),
        ({"k": 5000}, "-k must be"),
    ],
)
def test_bad_search_arguments(facts: MemoryStore, kwargs: dict, message: str) -> None:
    with pytest.raises(MemoryUsageError, match=message):
        facts.search("x", **{"mode": "semantic", **kwargs})


def test_empty_query_is_rejected(facts: MemoryStore) -> None:
    with pytest.raises(MemoryUsageError):
        facts.search("   ")


class _Projected:
    """The real embedder's vectors cut to 128 dims: a genuinely different vector space."""

    model_id = "minilm-first-128"
    dim = 128

    def __init__(self, inner) -> None:  # type: ignore[no-untyped-def]
        self.inner = inner

    def embed(self, texts):  # type: ignore[no-untyped-def]
        cut = self.inner.embed(texts)[:, :128]
        return (cut / np.linalg.norm(cut, axis=1, keepdims=True)).astype(np.float32)


def test_a_model_change_reembeds_everything(db_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    with MemoryStore(db_path, embedder=embedder, background="off") as mem:
        for key, value in FACTS.items():
            mem.store("project", key, value)
    with MemoryStore(db_path, embedder=_Projected(embedder), background="off") as mem:
        result = mem.search("deploys happen on Tuesdays", mode="semantic", k=1)
        assert result.embedded_now == len(FACTS)
        assert result.hits[0].entry.key == "deploy-day"
        assert result.hits[0].score == pytest.approx(1.0, abs=1e-4)
        dims = {len(row[0]) // 4 for row in mem.conn.execute("SELECT embedding FROM vectors")}
        assert dims == {128}
        assert mem.stats()["embedding_model"] == "minilm-first-128"
