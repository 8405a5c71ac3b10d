"""Annoy as an accelerator: recall against exact search, rows added after the build, damage."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from agentflowd.memory import ann
from agentflowd.memory.store import MemoryStore
from agentflowd.memory.worker import refresh_indexes

from .sentences import sentences

NS = "big"
BASE, ADDED, CHANGED, DELETED = 500, 80, 15, 25
THRESHOLD = 200


@pytest.fixture(scope="module")
def corpus() -> list[str]:
    return sentences(BASE + ADDED + CHANGED + 60, seed=7)


@pytest.fixture
def indexed(tmp_path: Path, memo_embedder, corpus: list[str]) -> Iterator[MemoryStore]:  # type: ignore[no-untyped-def]
    """A namespace past the threshold with a built index, then changed after the build."""
    with MemoryStore(
        tmp_path / "m.db", embedder=memo_embedder, background="off", ann_threshold=THRESHOLD
    ) as mem:
        mem.store_many([mem.prepare(NS, f"k{i}", text) for i, text in enumerate(corpus[:BASE])])
        mem.embed_pending()
        built, _ = refresh_indexes(mem)
        assert built == [NS]
        yield mem


def _after_build_changes(mem: MemoryStore, corpus: list[str]) -> None:
    start = BASE
    mem.store_many([mem.prepare(NS, f"new{i}", corpus[start + i]) for i in range(ADDED)])
    start += ADDED
    mem.store_many([mem.prepare(NS, f"k{i}", corpus[start + i]) for i in range(CHANGED)])
    for i in range(CHANGED, CHANGED + DELETED):
        mem.delete(NS, f"k{i}")
    mem.embed_pending()


def _exact(mem: MemoryStore, query: np.ndarray, k: int) -> list[str]:
    rows = mem.conn.execute(
        "SELECT e.key, v.embedding FROM vectors v JOIN entries e ON e.id = v.entry_id WHERE e.namespace = ?",
        (NS,),
    ).fetchall()
    matrix = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(len(rows), -1)
    order = np.argsort(-(matrix @ query))[:k]
    return [rows[i][0] for i in order]


def test_annoy_recall_matches_exact_including_rows_added_after_the_build(
    indexed: MemoryStore, corpus: list[str], memo_embedder
) -> None:  # type: ignore[no-untyped-def]
    state_before = ann.read_state(indexed.conn, NS)
    _after_build_changes(indexed, corpus)
    state = ann.read_state(indexed.conn, NS)
    assert state.generation == state_before.generation  # no rebuild: the delta path is exercised
    assert state.tombstones == CHANGED + DELETED
    queries = (
        corpus[-60:-30] + corpus[BASE : BASE + 10]
    )  # unseen sentences + some added after the build
    vectors = memo_embedder.embed(queries)
    recalls = []
    for text, vector in zip(queries, vectors, strict=True):
        result = indexed.search(text, mode="semantic", k=10, namespace=NS)
        assert result.paths == {NS: "annoy+delta"}
        got = [h.entry.key for h in result.hits]
        truth = _exact(indexed, vector, 10)
        recalls.append(len(set(got) & set(truth)) / 10)
    assert np.mean(recalls) >= 0.95, recalls
    # Rows stored after the build are found (they are only in the delta), and top-ranked for themselves.
    for i in range(10):
        hit = indexed.search(corpus[BASE + i], mode="semantic", k=1, namespace=NS).hits[0]
        assert hit.entry.key == f"new{i}"
        assert hit.score == pytest.approx(1.0, abs=1e-4)


def test_deleted_changed_and_expired_rows_never_come_back(
    indexed: MemoryStore, corpus: list[str]
) -> None:
    _after_build_changes(indexed, corpus)
    import time

    indexed.store_many(
        [indexed.prepare(NS, f"k{i}", corpus[i], ttl="100ms") for i in range(60, 70)]
    )
    indexed.embed_pending()
    time.sleep(0.2)
    for i in list(range(CHANGED, CHANGED + DELETED)) + list(range(60, 70)):
        hits = indexed.search(corpus[i], mode="semantic", k=10, namespace=NS).hits
        assert f"k{i}" not in {h.entry.key for h in hits}
    for i in range(CHANGED):  # a changed row is found by its new text, not its old one
        hit = indexed.search(corpus[BASE + ADDED + i], mode="semantic", k=1, namespace=NS).hits[0]
        assert hit.entry.key == f"k{i}"


@pytest.mark.parametrize("damage", ["garbage", "truncate", "delete", "ids"])
def test_a_damaged_index_is_never_fatal_and_gets_rebuilt(
    indexed: MemoryStore, corpus: list[str], damage: str
) -> None:
    state = ann.read_state(indexed.conn, NS)
    folder = ann.index_dir(indexed.path)
    annfile = next(folder.glob(f"*.{state.generation}.ann"))
    if damage == "garbage":
        size = annfile.stat().st_size
        annfile.write_bytes(
            np.random.default_rng(0).integers(0, 256, size, dtype=np.uint8).tobytes()
        )
    elif damage == "truncate":
        with open(annfile, "r+b") as handle:
            handle.truncate(annfile.stat().st_size // 2)
    elif damage == "delete":
        annfile.unlink()
    else:
        ids = annfile.with_suffix(".ids")
        ids.write_bytes(ids.read_bytes()[::-1])
    with MemoryStore(
        indexed.path, embedder=indexed.embedder, background="off", ann_threshold=THRESHOLD
    ) as fresh:
        result = fresh.search(corpus[3], mode="semantic", k=5, namespace=NS)
        assert result.paths == {NS: "exact-f32"}
        assert result.hits[0].entry.key == "k3"
        built, _ = refresh_indexes(fresh)
        assert built == [NS]
        assert ann.read_state(fresh.conn, NS).generation == state.generation + 1
        again = fresh.search(corpus[3], mode="semantic", k=5, namespace=NS)
        assert again.paths == {NS: "annoy+delta"}
        assert [h.entry.key for h in again.hits] == [h.entry.key for h in result.hits]
    assert sorted(p.name.split(".")[1] for p in folder.glob("*.ann")) == [str(state.generation + 1)]


def test_a_rebuild_swaps_generations_under_an_open_reader(
    indexed: MemoryStore, corpus: list[str]
) -> None:
    before = indexed.search(corpus[100], mode="semantic", k=3, namespace=NS)
    _after_build_changes(indexed, corpus)
    with MemoryStore(
        indexed.path, embedder=indexed.embedder, background="off", ann_threshold=THRESHOLD
    ) as other:
        assert refresh_indexes(other)[0] == []  # fresh enough: the delta is small
        ann.build(other.conn, other.path, NS, other_space(other))
    after = indexed.search(corpus[100], mode="semantic", k=3, namespace=NS)
    assert after.paths == {NS: "annoy+delta"}
    assert after.hits[0].entry.key == before.hits[0].entry.key == "k100"
    assert ann.read_state(indexed.conn, NS).tombstones == 0


def other_space(mem: MemoryStore):  # type: ignore[no-untyped-def]
    from agentflowd.memory import vectors

    return vectors.current_space(mem.conn)


def test_a_namespace_below_the_threshold_loses_its_index(indexed: MemoryStore) -> None:
    indexed.configure_namespace(NS, ann_threshold=10_000)
    refresh_indexes(indexed)
    assert ann.read_state(indexed.conn, NS) is None
    assert not list(ann.index_dir(indexed.path).glob("*.ann"))
    result = indexed.search("the deploy pipeline", mode="semantic", namespace=NS)
    assert result.paths == {NS: "exact-f32"}


def test_int8_path_rescoring_matches_float32(
    tmp_path: Path, memo_embedder, corpus: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from agentflowd.memory import vectors

    monkeypatch.setattr(vectors, "INT8_MIN_ROWS", 100)
    with MemoryStore(tmp_path / "i8.db", embedder=memo_embedder, background="off") as mem:
        mem.store_many([mem.prepare(NS, f"k{i}", text) for i, text in enumerate(corpus[:300])])
        mem.embed_pending()
        _, int8 = refresh_indexes(mem)
        assert int8 == [NS]
        mem.store(NS, "late", corpus[400])  # written after the int8 fill: must be quantised too
        for text in [*corpus[300:310], corpus[400]]:
            result = mem.search(text, mode="semantic", k=10, namespace=NS)
            assert result.paths == {NS: "exact-int8"}
            vector = memo_embedder.embed([text])[0]
            exact = vectors.knn_exact(mem.conn, vector, 10, namespaces=[NS])
            assert [round(h.score, 4) for h in result.hits][:5] == [round(s, 4) for _, s in exact][
                :5
            ]
