"""Embeddings in SQLite: the float32 source of truth, the sqlite-vec tables, exact KNN.

Layout (all keyed by `vectors.seq`, new on every (re-)embedding and never reused):
- `vectors`: the float32 blob of every embedded entry. Exact re-scoring, Annoy builds and the
  "rows newer than the index" scan read it: plain-table lookups take microseconds, while point
  lookups through vec0 take about a millisecond each.
- `vec_f32`: vec0, `float[dim]` with cosine distance, partitioned by namespace: the exact KNN.
- `vec_i8`: vec0, `int8[dim]` with L2 distance, filled only for namespaces large enough for it to
  pay (see `INT8_MIN_ROWS`): 4x smaller and about 2x faster to scan than float32; its candidates
  are re-scored from the float32 blobs, so scores stay exact and recall stays near 1.
  The quantisation scale is calibrated once per model from real vectors (127 / max |x|): a fixed
  [-1, 1] range wastes most of the int8 range on MiniLM vectors and loses recall.

sqlite-vec's int8 cosine path is 2.6x slower than its int8 L2 path, and for unit vectors L2 ranks
the same as cosine, so the int8 table uses L2.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import apsw
import numpy as np

# A namespace gets an int8 table once it holds this many vectors (below it vec0 f32 is ~10 ms).
INT8_MIN_ROWS = 10_000
# The int8 KNN fetches this many times k candidates before exact re-scoring.
INT8_OVERFETCH = 4


@dataclass(frozen=True)
class VectorSpace:
    model_id: str
    dim: int


def current_space(conn: apsw.Connection) -> VectorSpace | None:
    rows = dict(
        conn.execute("SELECT key, value FROM meta WHERE key IN ('embed_model', 'embed_dim')")
    )
    if "embed_model" not in rows:
        return None
    return VectorSpace(rows["embed_model"], int(rows["embed_dim"]))


def ensure_space(conn: apsw.Connection, space: VectorSpace) -> bool:
    """Make the vec0 tables fit `space`; True when existing vectors had to be dropped.

    Must run inside a write transaction. A different model (or dimension) makes every stored
    vector meaningless: they are dropped, the Annoy state cleared, and every entry of an embedding
    namespace marked pending so it is embedded again with the new model.
    """
    found = current_space(conn)
    if found == space:
        return False
    dropped = found is not None
    if dropped:
        conn.execute("DROP TRIGGER IF EXISTS vectors_drop_vec")
        conn.execute("DROP TABLE IF EXISTS vec_f32")
        conn.execute("DROP TABLE IF EXISTS vec_i8")
        conn.execute("DELETE FROM vectors")
        conn.execute("DELETE FROM ann_state")
        conn.execute("DELETE FROM meta WHERE key = 'int8_scale'")
        conn.execute("UPDATE namespaces SET int8 = 0")
        conn.execute(
            "UPDATE entries SET needs_embed = 1 WHERE namespace NOT IN "
            "(SELECT name FROM namespaces WHERE embed = 0)"
        )
    conn.execute(
        f"CREATE VIRTUAL TABLE vec_f32 USING vec0(namespace TEXT PARTITION KEY, "
        f"embedding float[{int(space.dim)}] distance_metric=cosine)"
    )
    conn.execute(
        f"CREATE VIRTUAL TABLE vec_i8 USING vec0(namespace TEXT PARTITION KEY, "
        f"embedding int8[{int(space.dim)}])"
    )
    # Deleting a vector (entry deleted, value changed) removes its index rows and, when the
    # namespace's Annoy index holds it, counts it as a tombstone there.
    conn.execute(
        """CREATE TRIGGER vectors_drop_vec AFTER DELETE ON vectors BEGIN
            DELETE FROM vec_f32 WHERE rowid = old.seq;
            DELETE FROM vec_i8 WHERE rowid = old.seq;
            UPDATE ann_state SET tombstones = tombstones + 1
                WHERE namespace = old.namespace AND old.seq <= hwm;
        END"""
    )
    conn.execute(
        "INSERT OR REPLACE INTO meta(key, value) VALUES ('embed_model', ?), ('embed_dim', ?)",
        (space.model_id, str(space.dim)),
    )
    return dropped


def int8_scale(conn: apsw.Connection) -> float | None:
    row = conn.execute("SELECT value FROM meta WHERE key = 'int8_scale'").fetchone()
    return float(row[0]) if row else None


def quantize(matrix: np.ndarray, scale: float) -> np.ndarray:
    return np.clip(np.rint(matrix * scale), -127, 127).astype(np.int8)


def int8_namespaces(conn: apsw.Connection) -> set[str]:
    return {row[0] for row in conn.execute("SELECT name FROM namespaces WHERE int8 = 1")}


@dataclass(frozen=True)
class PendingVector:
    entry_id: int
    namespace: str
    updated_at: float


def write_vectors(conn: apsw.Connection, rows: Sequence[PendingVector], matrix: np.ndarray) -> int:
    """Store one embedding per row; returns how many were written.

    Must run inside a write transaction. A row whose entry was deleted, changed (updated_at moved)
    or already embedded since it was read is skipped: its vector would describe another value.
    """
    if not rows:
        return 0
    matrix = np.ascontiguousarray(matrix, dtype=np.float32)
    int8_ns = int8_namespaces(conn)
    scale = int8_scale(conn) if int8_ns else None
    written = 0
    for row, vector in zip(rows, matrix, strict=True):
        current = conn.execute(
            "SELECT updated_at, needs_embed FROM entries WHERE id = ?", (row.entry_id,)
        ).fetchone()
        if current is None or current[0] != row.updated_at or not current[1]:
            continue
        conn.execute("DELETE FROM vectors WHERE entry_id = ?", (row.entry_id,))
        blob = vector.tobytes()
        conn.execute(
            "INSERT INTO vectors(entry_id, namespace, embedding) VALUES (?, ?, ?)",
            (row.entry_id, row.namespace, blob),
        )
        seq = conn.last_insert_rowid()
        conn.execute(
            "INSERT INTO vec_f32(rowid, namespace, embedding) VALUES (?, ?, ?)",
            (seq, row.namespace, blob),
        )
        if scale is not None and row.namespace in int8_ns:
            conn.execute(
                "INSERT INTO vec_i8(rowid, namespace, embedding) VALUES (?, ?, vec_int8(?))",
                (seq, row.namespace, quantize(vector, scale).tobytes()),
            )
        conn.execute("UPDATE entries SET needs_embed = 0 WHERE id = ?", (row.entry_id,))
        written += 1
    return written


def enable_int8(conn: apsw.Connection, namespace: str) -> int:
    """Fill `vec_i8` for `namespace` from its float32 blobs (calibrating the scale if first).

    Must run inside a write transaction; returns the number of rows quantised.
    """
    seqs, matrix = load_namespace(conn, namespace)
    if not len(seqs):
        return 0
    scale = int8_scale(conn)
    if scale is None:
        peak = float(np.abs(matrix).max())
        scale = 127.0 / peak if peak > 0 else 127.0
        conn.execute(
            "INSERT OR REPLACE INTO meta(key, value) VALUES ('int8_scale', ?)", (repr(scale),)
        )
    conn.execute("DELETE FROM vec_i8 WHERE namespace = ?", (namespace,))
    quantised = quantize(matrix, scale)
    conn.executemany(
        "INSERT INTO vec_i8(rowid, namespace, embedding) VALUES (?, ?, vec_int8(?))",
        ((int(seq), namespace, q.tobytes()) for seq, q in zip(seqs, quantised, strict=True)),
    )
    conn.execute(
        "INSERT INTO namespaces(name, int8) VALUES (?, 1) ON CONFLICT(name) DO UPDATE SET int8 = 1",
        (namespace,),
    )
    return len(seqs)


def load_namespace(
    conn: apsw.Connection, namespace: str, *, after_seq: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """(seqs, matrix) of every vector in `namespace` with seq > after_seq, in seq order."""
    seqs: list[int] = []
    blobs: list[bytes] = []
    for seq, blob in conn.execute(
        "SELECT seq, embedding FROM vectors WHERE namespace = ? AND seq > ? ORDER BY seq",
        (namespace, after_seq),
    ):
        seqs.append(seq)
        blobs.append(blob)
    return _stack(seqs, blobs)


def fetch_vectors(conn: apsw.Connection, seqs: Iterable[int]) -> tuple[np.ndarray, np.ndarray]:
    """(seqs, matrix) for the given seqs that still exist (missing ones are dropped)."""
    wanted = list(dict.fromkeys(int(s) for s in seqs))
    found: list[int] = []
    blobs: list[bytes] = []
    for chunk_start in range(0, len(wanted), 500):
        chunk = wanted[chunk_start : chunk_start + 500]
        marks = ",".join("?" * len(chunk))
        for seq, blob in conn.execute(
            f"SELECT seq, embedding FROM vectors WHERE seq IN ({marks})", chunk
        ):
            found.append(seq)
            blobs.append(blob)
    return _stack(found, blobs)


def _stack(seqs: list[int], blobs: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    if not seqs:
        return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
    dim = len(blobs[0]) // 4
    matrix = np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(seqs), dim)
    return np.asarray(seqs, dtype=np.int64), matrix


def knn_exact(
    conn: apsw.Connection,
    query: np.ndarray,
    k: int,
    *,
    namespaces: Sequence[str] | None,
    use_int8: bool = False,
) -> list[tuple[int, float]]:
    """Exact top-k (seq, cosine similarity) through sqlite-vec, best first.

    `namespaces=None` searches every namespace. With `use_int8` (one namespace whose int8 table is
    filled) the int8 scan proposes INT8_OVERFETCH * k candidates, re-scored exactly in float32.
    """
    query = np.ascontiguousarray(query, dtype=np.float32)
    if use_int8:
        if namespaces is None or len(namespaces) != 1:
            raise ValueError("the int8 path searches exactly one namespace")
        scale = int8_scale(conn)
        if scale is None:
            raise ValueError("no int8 scale calibrated")
        candidates = [
            row[0]
            for row in conn.execute(
                "SELECT rowid FROM vec_i8 WHERE embedding MATCH vec_int8(?) AND k = ? "
                "AND namespace = ?",
                (quantize(query, scale).tobytes(), max(k * INT8_OVERFETCH, k + 40), namespaces[0]),
            )
        ]
        return rescore(conn, query, candidates, k)
    sql = "SELECT rowid, distance FROM vec_f32 WHERE embedding MATCH ? AND k = ?"
    params: list[object] = [query.tobytes(), k]
    if namespaces is not None:
        if not namespaces:
            return []
        sql += f" AND namespace IN ({','.join('?' * len(namespaces))})"
        params.extend(namespaces)
    return [(int(seq), 1.0 - float(dist)) for seq, dist in conn.execute(sql, params)]


def rescore(
    conn: apsw.Connection, query: np.ndarray, seqs: Iterable[int], k: int | None = None
) -> list[tuple[int, float]]:
    """Exact cosine of `query` against the stored float32 vectors of `seqs`, best first."""
    found, matrix = fetch_vectors(conn, seqs)
    if not len(found):
        return []
    return top_k(found, matrix @ query, k)


def top_k(seqs: np.ndarray, scores: np.ndarray, k: int | None) -> list[tuple[int, float]]:
    if k is not None and k < len(scores):
        pick = np.argpartition(-scores, k - 1)[:k]
    else:
        pick = np.arange(len(scores))
    pick = pick[np.argsort(-scores[pick], kind="stable")]
    return [(int(seqs[i]), float(scores[i])) for i in pick]
