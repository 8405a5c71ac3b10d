"""Annoy indexes: an accelerator over the `vectors` table, never a source of truth.

One index per large namespace, built from a consistent read of the database. Its files live in a
folder beside the database, named by namespace hash and generation:

    <nskey>.<gen>.ann    the Annoy forest (mmapped on load)
    <nskey>.<gen>.ids    int64 `vectors.seq` of each Annoy item (Annoy ids must be dense)
    <nskey>.<gen>.json   what the build holds: high-water mark, item count, model, and a stamp of
                         the .ann file; written last, so its presence marks a complete generation

Files are written under temporary names, fsynced and renamed into place; `ann_state` in the
database then points at the new generation and older generations are unlinked. A reader trusts a
generation only if all three files exist, agree with `ann_state`, and the .ann file's size, mtime
and inode are the ones the builder recorded: Annoy does not validate its file and crashes the
process on a damaged one, so any file changed since its build is rebuilt rather than opened.

Searching: Annoy proposes candidates (with an explicit `search_k`: on real MiniLM vectors the
default of n_trees * n finds about a quarter of the true top 10), every candidate is re-scored
exactly from its float32 blob, and vectors written after the build (seq > high-water mark) are
scored exactly too. Deleted, expired and re-embedded rows simply fail the join with the live rows.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import apsw
import numpy as np

from agentflowd.memory import vectors as vec
from agentflowd.memory.db import write_transaction
from agentflowd.memory.locks import try_lock

# 20 trees, not Annoy's usual 10: at 100k MiniLM-like vectors, 20 trees reach recall@10 0.97
# with 15k nodes in ~2 ms where 10 trees need 20k nodes (~2.8 ms), for +40% build time and +7%
# file size (scripts/bench_memory.py; /work notes measured the same trend up to 50 trees).
DEFAULT_TREES = 20
# Tree nodes inspected per query: half the index, within bounds. Annoy's default (n_trees * k)
# finds only about a quarter of the true top 10 on real text vectors.
SEARCH_K_FRACTION = 0.5
SEARCH_K_MIN = 2_000
SEARCH_K_MAX = 15_000
# Rebuild when this share of the index is stale (new rows or tombstones), with a floor.
REBUILD_SHARE = 0.05
REBUILD_MIN_ROWS = 1_000
FORMAT = 1


@dataclass(frozen=True)
class AnnState:
    namespace: str
    generation: int
    hwm: int
    n_items: int
    tombstones: int
    model_id: str
    dim: int
    trees: int
    built_at: float


@functools.cache
def annoy_installed() -> bool:
    """Annoy is compiled from source on install; without it every namespace is searched exactly."""
    import importlib.util

    return importlib.util.find_spec("annoy") is not None


def index_dir(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".ann")


def ns_key(namespace: str) -> str:
    return hashlib.sha256(namespace.encode("utf-8")).hexdigest()[:16]


def _paths(db_path: Path, namespace: str, generation: int) -> dict[str, Path]:
    base = index_dir(db_path) / f"{ns_key(namespace)}.{generation}"
    return {ext: base.with_name(f"{base.name}.{ext}") for ext in ("ann", "ids", "json")}


def read_state(conn: apsw.Connection, namespace: str) -> AnnState | None:
    row = conn.execute(
        "SELECT namespace, generation, hwm, n_items, tombstones, model_id, dim, trees, built_at "
        "FROM ann_state WHERE namespace = ?",
        (namespace,),
    ).fetchone()
    return AnnState(*row) if row else None


def search_k_for(n_items: int) -> int:
    # Not capped at n_items: search_k counts tree nodes, and on a small index a few thousand
    # nodes cost well under a millisecond while making the search close to exhaustive.
    return int(max(SEARCH_K_MIN, min(SEARCH_K_MAX, SEARCH_K_FRACTION * n_items)))


def delta_count(conn: apsw.Connection, state: AnnState) -> int:
    return conn.execute(
        "SELECT count(*) FROM vectors WHERE namespace = ? AND seq > ?", (state.namespace, state.hwm)
    ).fetchone()[0]


def stale_reason(conn: apsw.Connection, state: AnnState, space: vec.VectorSpace) -> str | None:
    """Why the index should be rebuilt, or None while it is fresh enough to use alone."""
    if state.model_id != space.model_id or state.dim != space.dim:
        return "the embedding model changed"
    budget = max(REBUILD_MIN_ROWS, REBUILD_SHARE * state.n_items)
    if state.tombstones > budget:
        return f"{state.tombstones} rows deleted or changed since the build"
    added = delta_count(conn, state)
    if added > budget:
        return f"{added} rows added since the build"
    return None


class LoadedIndex:
    """An opened generation: the mmapped forest and its item -> seq map."""

    def __init__(self, state: AnnState, index: object, ids: np.ndarray) -> None:
        self.state = state
        self._index = index
        self.ids = ids

    def candidates(self, query: np.ndarray, n: int, search_k: int) -> np.ndarray:
        items = self._index.get_nns_by_vector(query.tolist(), n, search_k=search_k)  # type: ignore[attr-defined]
        items = np.asarray(items, dtype=np.int64)
        # An item number outside the map means the file does not match its ids: unusable.
        if len(items) and (items.min() < 0 or items.max() >= len(self.ids)):
            raise CorruptIndexError("the Annoy index returned items it does not have")
        return self.ids[items]

    def close(self) -> None:
        self._index.unload()  # type: ignore[attr-defined]


class CorruptIndexError(Exception):
    """The index files are missing, incomplete, changed since the build or unreadable."""


def load(db_path: Path, state: AnnState) -> LoadedIndex:
    """Open the generation `state` points at, or raise CorruptIndexError saying why not."""
    try:
        from annoy import AnnoyIndex
    except ImportError as exc:
        raise CorruptIndexError("annoy is not installed") from exc
    paths = _paths(db_path, state.namespace, state.generation)
    try:
        meta = json.loads(paths["json"].read_text(encoding="utf-8"))
        info = paths["ann"].stat()
        ids = np.fromfile(paths["ids"], dtype=np.int64)
    except FileNotFoundError as exc:
        raise CorruptIndexError(f"index file missing: {exc.filename}") from exc
    except (OSError, ValueError) as exc:
        raise CorruptIndexError(f"index files unreadable: {exc}") from exc
    expected = {
        "format": FORMAT,
        "namespace": state.namespace,
        "generation": state.generation,
        "hwm": state.hwm,
        "n_items": state.n_items,
        "model_id": state.model_id,
        "dim": state.dim,
        "trees": state.trees,
        "ann_size": info.st_size,
        "ann_mtime_ns": info.st_mtime_ns,
        "ann_inode": info.st_ino,
    }
    for field, value in expected.items():
        if meta.get(field) != value:
            raise CorruptIndexError(f"index {paths['ann'].name}: {field} does not match its build")
    if len(ids) != state.n_items or hashlib.sha256(ids.tobytes()).hexdigest() != meta.get(
        "ids_sha256"
    ):
        raise CorruptIndexError(f"index {paths['ids'].name} does not match its build")
    index = AnnoyIndex(state.dim, "angular")
    try:
        index.load(str(paths["ann"]), prefault=False)
    except OSError as exc:
        raise CorruptIndexError(f"Annoy cannot load {paths['ann'].name}: {exc}") from exc
    if index.get_n_items() != state.n_items or index.get_n_trees() != state.trees:
        index.unload()
        raise CorruptIndexError(f"index {paths['ann'].name} holds a different forest than recorded")
    return LoadedIndex(state, index, ids)


def build_lock(db_path: Path, namespace: str) -> contextlib.AbstractContextManager[bool]:
    """Hold the per-namespace build lock if free; yields False when another process builds."""
    return try_lock(index_dir(db_path) / f"{ns_key(namespace)}.lock")


def build(
    conn: apsw.Connection,
    db_path: Path,
    namespace: str,
    space: vec.VectorSpace,
    *,
    trees: int = DEFAULT_TREES,
    jobs: int = 1,
) -> AnnState | None:
    """Build and install a new generation for `namespace`; None if another process is building.

    Reads the vectors in one statement (a consistent WAL snapshot: writers keep going), so the
    high-water mark is the largest seq the index holds and every later vector has a larger seq.
    """
    from annoy import AnnoyIndex

    with build_lock(db_path, namespace) as mine:
        if not mine:
            return None
        previous = read_state(conn, namespace)
        seqs, matrix = vec.load_namespace(conn, namespace)
        if not len(seqs):
            return None
        generation = (previous.generation if previous else 0) + 1
        paths = _paths(db_path, namespace, generation)
        index = AnnoyIndex(space.dim, "angular")
        for item, vector in enumerate(matrix):
            index.add_item(item, vector)
        index.build(trees, n_jobs=jobs)
        tmp = {ext: p.with_name(p.name + f".tmp{os.getpid()}") for ext, p in paths.items()}
        try:
            index.save(str(tmp["ann"]))
            index.unload()
            _fsync(tmp["ann"])
            tmp["ids"].write_bytes(seqs.astype(np.int64).tobytes())
            _fsync(tmp["ids"])
            tmp["ann"].replace(paths["ann"])
            tmp["ids"].replace(paths["ids"])
            info = paths["ann"].stat()
            state = AnnState(
                namespace=namespace,
                generation=generation,
                hwm=int(seqs[-1]),
                n_items=len(seqs),
                tombstones=0,
                model_id=space.model_id,
                dim=space.dim,
                trees=trees,
                built_at=time.time(),
            )
            meta = {
                "format": FORMAT,
                "namespace": namespace,
                "generation": generation,
                "hwm": state.hwm,
                "n_items": state.n_items,
                "model_id": space.model_id,
                "dim": space.dim,
                "trees": trees,
                "ann_size": info.st_size,
                "ann_mtime_ns": info.st_mtime_ns,
                "ann_inode": info.st_ino,
                "ids_sha256": hashlib.sha256(seqs.astype(np.int64).tobytes()).hexdigest(),
                "built_at": state.built_at,
            }
            tmp["json"].write_text(json.dumps(meta), encoding="utf-8")
            _fsync(tmp["json"])
            tmp["json"].replace(paths["json"])
            _fsync_dir(paths["json"].parent)
        finally:
            for path in tmp.values():
                path.unlink(missing_ok=True)

        def install(c: apsw.Connection) -> AnnState:
            # Rows of the snapshot deleted while we built are tombstones of the new generation.
            live = c.execute(
                "SELECT count(*) FROM vectors WHERE namespace = ? AND seq <= ?",
                (namespace, state.hwm),
            ).fetchone()[0]
            installed = AnnState(**{**state.__dict__, "tombstones": state.n_items - live})
            c.execute(
                "INSERT OR REPLACE INTO ann_state(namespace, generation, hwm, n_items, tombstones, "
                "model_id, dim, trees, built_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    namespace,
                    generation,
                    installed.hwm,
                    installed.n_items,
                    installed.tombstones,
                    installed.model_id,
                    installed.dim,
                    installed.trees,
                    installed.built_at,
                ),
            )
            return installed

        installed = write_transaction(conn, install)
        remove_generations(db_path, namespace, keep=generation)
        return installed


def drop(conn: apsw.Connection, db_path: Path, namespace: str) -> None:
    """Forget the namespace's index (it went below the threshold or the model changed)."""
    write_transaction(
        conn, lambda c: c.execute("DELETE FROM ann_state WHERE namespace = ?", (namespace,))
    )
    remove_generations(db_path, namespace, keep=None)


def remove_generations(db_path: Path, namespace: str, *, keep: int | None) -> None:
    """Unlink the namespace's index files except generation `keep` (open mmaps stay valid)."""
    folder = index_dir(db_path)
    if not folder.is_dir():
        return
    prefix = ns_key(namespace) + "."
    for path in folder.iterdir():
        if not path.name.startswith(prefix) or path.suffix == ".lock":
            continue
        parts = path.name.split(".")
        if (
            keep is not None
            and len(parts) >= 2
            and parts[1] == str(keep)
            and ".tmp" not in path.name
        ):
            continue
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def index_size(db_path: Path, state: AnnState) -> int:
    total = 0
    for path in _paths(db_path, state.namespace, state.generation).values():
        with contextlib.suppress(OSError):
            total += path.stat().st_size
    return total


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not supported on every platform/filesystem
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
