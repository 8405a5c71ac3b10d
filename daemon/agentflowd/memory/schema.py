"""The database schema, as forward migrations keyed by `PRAGMA user_version`.

Never edit a released migration: add the next one. Each is one SQL script run inside the
migration's write transaction, so a half-applied migration cannot exist.

The sqlite-vec `vec0` tables are not created here: their column width is the embedder's dimension,
known only when the first vector is written (see `agentflowd.memory.vectors`).
"""

from __future__ import annotations

# v1: swarm runs, memory entries and their keyword index.
_V1 = """
CREATE TABLE IF NOT EXISTS runs(id TEXT PRIMARY KEY, skill TEXT NOT NULL, status TEXT NOT NULL,
    started_at REAL NOT NULL, finished_at REAL, summary TEXT NOT NULL DEFAULT '{}', run_dir TEXT);
CREATE TABLE IF NOT EXISTS run_events(run_id TEXT NOT NULL, seq INTEGER NOT NULL, ts REAL NOT NULL,
    kind TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY(run_id, seq));

-- AUTOINCREMENT: ids are never reused, so an id names one entry for the life of the database.
CREATE TABLE entries(
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    namespace TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    is_json INTEGER NOT NULL DEFAULT 0,
    metadata TEXT NOT NULL DEFAULT '{}',
    tags TEXT NOT NULL DEFAULT '[]',
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    accessed_at REAL,
    access_count INTEGER NOT NULL DEFAULT 0,
    expires_at REAL,
    UNIQUE(namespace, key)
);
CREATE INDEX entries_expiry ON entries(expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE namespaces(
    name TEXT PRIMARY KEY,
    embed INTEGER NOT NULL DEFAULT 1,
    ann_threshold INTEGER
);

-- External-content FTS5 index over entries, kept in step by triggers in the same transaction.
CREATE VIRTUAL TABLE entries_fts USING fts5(
    key, value, tags, content='entries', content_rowid='id',
    tokenize='porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER entries_fts_insert AFTER INSERT ON entries BEGIN
    INSERT INTO entries_fts(rowid, key, value, tags) VALUES (new.id, new.key, new.value, new.tags);
END;
CREATE TRIGGER entries_fts_delete AFTER DELETE ON entries BEGIN
    INSERT INTO entries_fts(entries_fts, rowid, key, value, tags)
        VALUES ('delete', old.id, old.key, old.value, old.tags);
END;
CREATE TRIGGER entries_fts_update AFTER UPDATE OF key, value, tags ON entries BEGIN
    INSERT INTO entries_fts(entries_fts, rowid, key, value, tags)
        VALUES ('delete', old.id, old.key, old.value, old.tags);
    INSERT INTO entries_fts(rowid, key, value, tags) VALUES (new.id, new.key, new.value, new.tags);
END;
"""

# v2: embeddings. Entries written by a v1 database have none, so they all start pending.
_V2 = """
ALTER TABLE entries ADD COLUMN needs_embed INTEGER NOT NULL DEFAULT 1;
CREATE INDEX entries_pending ON entries(namespace) WHERE needs_embed = 1;

-- The float32 source of truth for every vector. `seq` is new each time an entry is (re-)embedded
-- and never reused, so "seq > an index's high-water mark" is exactly the set of vectors the
-- index has not seen, and a seq the index returns that is gone here is a stale hit.
CREATE TABLE vectors(
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    entry_id INTEGER NOT NULL UNIQUE,
    namespace TEXT NOT NULL,
    embedding BLOB NOT NULL
);
CREATE INDEX vectors_namespace ON vectors(namespace, seq);

-- A vector describes one value: it goes when the entry goes or its value changes. (Triggers
-- rather than a foreign key, so the rule holds whatever a connection's foreign_keys setting.)
CREATE TRIGGER entries_drop_vector AFTER DELETE ON entries BEGIN
    DELETE FROM vectors WHERE entry_id = old.id;
END;
CREATE TRIGGER entries_value_changed AFTER UPDATE OF value, is_json ON entries
    WHEN old.value IS NOT new.value OR old.is_json IS NOT new.is_json BEGIN
    DELETE FROM vectors WHERE entry_id = old.id;
END;

CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);

ALTER TABLE namespaces ADD COLUMN int8 INTEGER NOT NULL DEFAULT 0;
-- Searches across namespaces enumerate this table: v1 only listed configured namespaces.
INSERT OR IGNORE INTO namespaces(name) SELECT DISTINCT namespace FROM entries;

-- One row per namespace that has an Annoy index: which file generation is current and what it holds.
CREATE TABLE ann_state(
    namespace TEXT PRIMARY KEY,
    generation INTEGER NOT NULL,
    hwm INTEGER NOT NULL,
    n_items INTEGER NOT NULL,
    tombstones INTEGER NOT NULL DEFAULT 0,
    model_id TEXT NOT NULL,
    dim INTEGER NOT NULL,
    trees INTEGER NOT NULL,
    built_at REAL NOT NULL
);
"""

# v3: new entries enter the keyword index in one statement per write transaction (see
# `store._index_new_entries`), not through a per-row trigger: FTS5 flushes its pending terms at
# every statement savepoint, so a trigger per inserted row made bulk inserts 3-4x slower.
# Updates and deletes keep their triggers.
_V3 = """
DROP TRIGGER entries_fts_insert;
"""

MIGRATIONS: dict[int, str] = {1: _V1, 2: _V2, 3: _V3}
LATEST_VERSION = max(MIGRATIONS)
