"""Entries: namespaces, TTL, tags and metadata filters, JSON values, the read cache."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from agentflowd.durations import DurationError
from agentflowd.memory.errors import EntryNotFoundError, MemoryUsageError
from agentflowd.memory.store import MemoryStore


def test_store_get_roundtrip_with_tags_and_metadata(store: MemoryStore) -> None:
    result = store.store(
        "default",
        "deploy",
        "deploys happen on Tuesdays",
        tags=["ops", "release", "ops"],
        metadata={"team": "infra"},
    )
    assert result.created
    entry = store.get("default", "deploy")
    assert entry.value == "deploys happen on Tuesdays"
    assert entry.tags == ("ops", "release")
    assert entry.metadata == {"team": "infra"}
    assert entry.embedding == "ready"
    assert entry.expires_at is None


def test_json_values_roundtrip_as_documents(store: MemoryStore) -> None:
    store.store("cfg", "limits", {"cpu": 2, "regions": ["eu", "us"]})
    entry = store.get("cfg", "limits")
    assert entry.is_json
    assert entry.value == {"cpu": 2, "regions": ["eu", "us"]}
    store.store("cfg", "plain", "{not json, just text}")
    assert store.get("cfg", "plain").value == "{not json, just text}"


def test_namespaces_are_separate(store: MemoryStore) -> None:
    store.store("a", "k", "in a")
    store.store("b", "k", "in b")
    assert store.get("a", "k").value == "in a"
    assert store.get("b", "k").value == "in b"
    store.delete("a", "k")
    with pytest.raises(EntryNotFoundError):
        store.get("a", "k")
    assert store.get("b", "k").value == "in b"
    assert [e.namespace for e in store.list()] == ["b"]


def test_replacing_keeps_created_at_and_reembeds_only_when_value_changes(
    store: MemoryStore,
) -> None:
    first = store.store("default", "k", "the first value").entry
    seq1 = store.conn.execute("SELECT seq FROM vectors").fetchone()[0]
    again = store.store("default", "k", "the first value", tags=["t"])
    assert not again.created
    assert again.entry.created_at == first.created_at
    assert again.entry.updated_at > first.updated_at
    assert store.conn.execute("SELECT seq FROM vectors").fetchone()[0] == seq1  # same text: kept
    store.store("default", "k", "a different value")
    rows = store.conn.execute("SELECT seq FROM vectors").fetchall()
    assert len(rows) == 1 and rows[0][0] > seq1
    # The old vector left the vec0 index with its row.
    assert store.conn.execute("SELECT count(*) FROM vec_f32").fetchone()[0] == 1


def test_ttl_expiry_hides_then_purge_removes(store: MemoryStore) -> None:
    store.store("default", "short", "gone soon", ttl="200ms")
    store.store("default", "long", "stays", ttl="1h")
    assert store.get("default", "short").expires_at is not None
    time.sleep(0.3)
    with pytest.raises(EntryNotFoundError):
        store.get("default", "short")
    assert [e.key for e in store.list()] == ["long"]
    assert [h.entry.key for h in store.search("gone soon", mode="keyword").hits] == []
    assert [h.entry.key for h in store.search("gone soon", mode="semantic").hits] == ["long"]
    assert store.purge() == 1
    assert store.conn.execute("SELECT count(*) FROM entries").fetchone()[0] == 1
    assert store.conn.execute("SELECT count(*) FROM vectors").fetchone()[0] == 1


def test_expired_rows_are_purged_opportunistically_by_writes(store: MemoryStore) -> None:
    store.store("default", "short", "gone soon", ttl="100ms")
    time.sleep(0.2)
    store.store("default", "other", "any write")
    keys = [row[0] for row in store.conn.execute("SELECT key FROM entries")]
    assert keys == ["other"]


def test_storing_over_an_expired_unpurged_key_starts_a_fresh_entry(store: MemoryStore) -> None:
    from agentflowd.memory.store import OPPORTUNISTIC_PURGE

    # More expired rows than one write purges in passing, expiring before the target, so the
    # target is still in the table (expired) when it is stored again: the upsert must treat it
    # as new.
    filler = [
        store.prepare("default", f"f{i}", "x", ttl="100ms") for i in range(OPPORTUNISTIC_PURGE + 20)
    ]
    store.store_many(filler)
    store.store("default", "k", "old", ttl="150ms")
    store.get("default", "k")
    store.flush_accesses()
    time.sleep(0.3)
    result = store.store("default", "k", "new")
    assert result.created
    assert result.entry.value == "new"
    assert result.entry.access_count == 0
    assert result.entry.expires_at is None


def test_bad_ttl_is_a_usage_error(store: MemoryStore) -> None:
    with pytest.raises(DurationError):
        store.store("default", "k", "v", ttl="5 fortnights")


@pytest.mark.parametrize(
    ("namespace", "key"),
    [("", "k"), ("default", ""), ("a\nb", "k"), ("default", "bad\x00key"), ("x" * 201, "k")],
)
def test_bad_names_are_usage_errors(store: MemoryStore, namespace: str, key: str) -> None:
    with pytest.raises(MemoryUsageError):
        store.store(namespace, key, "v")


def test_list_filters_by_prefix_tags_metadata_and_limit(store: MemoryStore) -> None:
    store.store(
        "n",
        "auth/decision",
        "use OAuth",
        tags=["auth", "adr"],
        metadata={"owner": "ana", "level": 2},
    )
    store.store(
        "n", "auth/todo", "rotate keys", tags=["auth"], metadata={"owner": "bo", "level": 1}
    )
    store.store(
        "n",
        "db/decision",
        "use Postgres",
        tags=["adr"],
        metadata={"owner": "ana", "nested": {"x": True}},
    )
    assert [e.key for e in store.list(prefix="auth/")] == ["auth/decision", "auth/todo"]
    assert [e.key for e in store.list(tags=["adr"])] == ["auth/decision", "db/decision"]
    assert [e.key for e in store.list(tags=["adr", "auth"])] == ["auth/decision"]
    assert [e.key for e in store.list(metadata={"owner": "ana"})] == [
        "auth/decision",
        "db/decision",
    ]
    assert [e.key for e in store.list(metadata={"level": 1})] == ["auth/todo"]
    assert [e.key for e in store.list(metadata={"nested.x": True})] == ["db/decision"]
    assert [e.key for e in store.list(limit=1)] == ["auth/decision"]
    with pytest.raises(MemoryUsageError):
        store.list(limit=0)


def test_search_filters_by_tags_and_metadata(store: MemoryStore) -> None:
    store.store("n", "a", "deploys happen on Tuesdays", tags=["ops"], metadata={"env": "prod"})
    store.store(
        "n",
        "b",
        "production releases go out every Tuesday",
        tags=["ops"],
        metadata={"env": "staging"},
    )
    store.store("n", "c", "releases to production need two approvals", tags=["policy"])
    for mode in ("semantic", "keyword", "hybrid"):
        hits = store.search("release to production", mode=mode, tags=["ops"]).hits
        assert {h.entry.key for h in hits} <= {"a", "b"}, mode
        hits = store.search("release production Tuesday", mode=mode, metadata={"env": "prod"}).hits
        assert [h.entry.key for h in hits] == ["a"], mode


def test_cache_sees_writes_from_another_connection(db_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    with (
        MemoryStore(db_path, embedder=embedder, background="off", embed_on_write=False) as one,
        MemoryStore(db_path, embedder=embedder, background="off", embed_on_write=False) as two,
    ):
        one.store("default", "k", "v1")
        assert two.get("default", "k").value == "v1"  # now cached in `two`
        one.store("default", "k", "v2")
        assert two.get("default", "k").value == "v2"
        one.delete("default", "k")
        with pytest.raises(EntryNotFoundError):
            two.get("default", "k")


def test_reads_are_counted(store: MemoryStore) -> None:
    store.store("default", "k", "v")
    for _ in range(3):
        store.get("default", "k")
    store.flush_accesses()
    row = store.conn.execute("SELECT access_count, accessed_at FROM entries").fetchone()
    assert row[0] == 3 and row[1] is not None


def test_embedding_can_be_disabled_per_namespace(store: MemoryStore) -> None:
    store.configure_namespace("scratch", embed=False)
    store.store("scratch", "k", "deploys happen on Tuesdays")
    assert store.get("scratch", "k").embedding == "disabled"
    assert store.conn.execute("SELECT count(*) FROM vectors").fetchone()[0] == 0
    assert store.search("release to production", mode="semantic").hits == ()
    assert store.search("tuesdays", mode="keyword").hits[0].entry.key == "k"
    store.configure_namespace("scratch", embed=True)
    assert store.get("scratch", "k").embedding == "pending"
    assert store.search("release to production", mode="semantic").hits[0].entry.key == "k"


def test_secrets_are_redacted_unless_asked_not_to(store: MemoryStore) -> None:
    result = store.store(
        "default",
        "creds",
        "token ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        metadata={"note": "password=hunter2hunter2"},
    )
    assert [r.to_json() for r in result.redactions] == [
        {"kind": "assigned-secret", "count": 1},
        {"kind": "github-token", "count": 1},
    ]
    entry = store.get("default", "creds")
    assert "ghp_" not in entry.value and "hunter2" not in entry.metadata["note"]
    raw = store.store("default", "raw", "ghp_abcdefghijklmnopqrstuvwxyz0123456789", redact=False)
    assert raw.redactions == () and raw.entry.value.startswith("ghp_")


def test_pending_entries_are_embedded_before_a_semantic_search(db_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    with MemoryStore(db_path, embedder=embedder, background="off", embed_on_write=False) as mem:
        mem.store("default", "deploy", "deploys happen on Tuesdays")
        assert mem.get("default", "deploy").embedding == "pending"
        result = mem.search("when do we release to production?", mode="semantic", k=1)
        assert result.embedded_now == 1
        assert result.hits[0].entry.key == "deploy"
        assert mem.get("default", "deploy").embedding == "ready"


def test_export_then_import_roundtrips(store: MemoryStore, tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    from collections import Counter

    from agentflowd.memory.importer import parse_records

    store.store("a", "k1", "text value", tags=["t"], metadata={"m": 1}, ttl="1h")
    store.store("b", "k2", {"json": [1, 2]})
    records = list(store.export())
    import json

    lines = [json.dumps(r) for r in records]
    with MemoryStore(tmp_path / "copy.db", embedder=embedder, background="off") as copy:
        prepared = list(
            parse_records(
                copy, lines, source="t", default_namespace="default", redact=True, found=Counter()
            )
        )
        assert copy.import_records(prepared) == (2, 0)
        assert list(copy.export()) == [
            {**r, "updated_at": c["updated_at"]}
            for r, c in zip(records, copy.export(), strict=True)
        ]
        assert copy.get("a", "k1").expires_at == records[0]["expires_at"]
        assert copy.get("b", "k2").value == {"json": [1, 2]}


def test_a_thread_worker_embeds_in_the_background(db_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    with MemoryStore(db_path, embedder=embedder, background="thread", embed_on_write=False) as mem:
        mem.store("default", "deploy", "deploys happen on Tuesdays")
        deadline = time.monotonic() + 30
        while mem.pending_count() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert mem.pending_count() == 0
        assert mem.get("default", "deploy").embedding == "ready"


def test_one_store_shared_by_threads(store: MemoryStore) -> None:
    import threading

    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(40):
                store.store(f"t{n % 2}", f"k{n}-{i}", f"thread {n} value {i}")
                store.get(f"t{n % 2}", f"k{n}-{i}")
                store.list(namespace=f"t{n % 2}", limit=5)
                store.search(f"value {i}", mode="keyword", k=3)
                store.namespace_config(f"t{n % 2}")
                store.pending_count()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(store.list(limit=None)) == 160


def test_keyword_index_stays_consistent_through_every_write_path(store: MemoryStore) -> None:
    store.store("n", "a", "alpha one")
    store.store("n", "a", "alpha two")  # replaced: re-indexed by trigger
    store.store_many([store.prepare("n", f"b{i}", f"bulk {i}") for i in range(50)])
    store.store_many([store.prepare("n", f"b{i}", f"bulk changed {i}") for i in range(0, 50, 2)])
    store.delete("n", "b1")
    store.store("n", "gone", "expires", ttl="50ms")
    time.sleep(0.1)
    store.purge()
    # FTS5's own check compares the index with the content table row by row.
    store.conn.execute("INSERT INTO entries_fts(entries_fts, rank) VALUES ('integrity-check', 1)")
    assert len(store.search("changed", mode="keyword", k=100).hits) == 25
    assert [h.entry.key for h in store.search("two", mode="keyword").hits] == ["a"]
    assert store.search("one", mode="keyword").hits == ()
