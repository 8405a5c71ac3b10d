"""On-disk cache of skill-text embeddings, so a warm match never re-embeds the catalog.

One msgpack file under the project's `.agentflow/cache/`. Entries are keyed by a SHA-256 of the
model id, the entry kind and the exact text, so an edited description or a new model simply
misses. The cache is an optimisation only: an unreadable, corrupt or foreign file is ignored and
rebuilt, and a read-only project still matches (it just does not cache).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path

import msgpack
import numpy as np

from agentflowd.project import state_dir

FORMAT = 1
FILE_NAME = "match-embeddings.msgpack"


def cache_path(project: Path) -> Path:
    return state_dir(project) / "cache" / FILE_NAME


def _key(model_id: str, kind: str, text: str) -> bytes:
    return hashlib.sha256(f"{model_id}\0{kind}\0{text}".encode()).digest()


class EmbeddingCache:
    """Sentence vectors ("vec") and token matrices ("tok") for texts, for one model."""

    def __init__(self, path: Path | None, model_id: str, dim: int) -> None:
        self.path = path
        self.model_id = model_id
        self.dim = dim
        self.load_error: str | None = None
        self.write_error: str | None = None
        self._vec: dict[bytes, bytes] = {}
        self._tok: dict[bytes, tuple[list[str], bytes]] = {}
        self._touched: set[bytes] = set()
        self._dirty = False
        if path is not None:
            self._load(path)

    def _load(self, path: Path) -> None:
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return
        except OSError as exc:
            self.load_error = f"cannot read {path}: {exc.strerror or exc}"
            return
        try:
            data = msgpack.unpackb(raw, raw=False, strict_map_key=False)
            if not isinstance(data, dict) or data.get("format") != FORMAT:
                raise ValueError("unknown format")
            if data.get("model_id") != self.model_id or data.get("dim") != self.dim:
                return  # another model's vectors: start over, they are useless here
            vec_size = self.dim * 4
            for k, v in data["vec"].items():
                if isinstance(k, bytes) and isinstance(v, bytes) and len(v) == vec_size:
                    self._vec[k] = v
            for k, (tokens, blob) in data["tok"].items():
                if (
                    isinstance(k, bytes)
                    and isinstance(blob, bytes)
                    and isinstance(tokens, list)
                    and len(blob) == len(tokens) * self.dim * 2
                ):
                    self._tok[k] = ([str(t) for t in tokens], blob)
        except Exception as exc:  # any malformed content means: ignore the file, rebuild it
            self._vec.clear()
            self._tok.clear()
            self.load_error = f"ignored unreadable cache {path}: {type(exc).__name__}"
            self._dirty = True

    def get_vector(self, text: str) -> np.ndarray | None:
        key = _key(self.model_id, "vec", text)
        blob = self._vec.get(key)
        if blob is None:
            return None
        self._touched.add(key)
        return np.frombuffer(blob, dtype=np.float32)

    def put_vector(self, text: str, vector: np.ndarray) -> None:
        key = _key(self.model_id, "vec", text)
        self._vec[key] = np.asarray(vector, dtype=np.float32).tobytes()
        self._touched.add(key)
        self._dirty = True

    def get_tokens(self, text: str) -> tuple[tuple[str, ...], np.ndarray] | None:
        key = _key(self.model_id, "tok", text)
        entry = self._tok.get(key)
        if entry is None:
            return None
        self._touched.add(key)
        tokens, blob = entry
        states = np.frombuffer(blob, dtype=np.float16).reshape(len(tokens), self.dim)
        return tuple(tokens), states.astype(np.float32)

    def put_tokens(self, text: str, tokens: tuple[str, ...], states: np.ndarray) -> None:
        key = _key(self.model_id, "tok", text)
        # float16 halves the file; token vectors are unit length, so the rounding is ~1e-3.
        self._tok[key] = (list(tokens), np.asarray(states, dtype=np.float16).tobytes())
        self._touched.add(key)
        self._dirty = True

    def save(self) -> None:
        """Write the entries used since loading (stale ones drop out), if anything changed."""
        if self.path is None or not self._dirty:
            return
        data = {
            "format": FORMAT,
            "model_id": self.model_id,
            "dim": self.dim,
            "vec": {k: v for k, v in self._vec.items() if k in self._touched},
            "tok": {k: list(v) for k, v in self._tok.items() if k in self._touched},
        }
        tmp: str | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".match-", suffix=".tmp", dir=self.path.parent)
            with os.fdopen(fd, "wb") as fh:
                fh.write(msgpack.packb(data, use_bin_type=True))
            Path(tmp).replace(self.path)
            tmp = None
            self._dirty = False
        except OSError as exc:
            # A read-only or full project still matches; it just pays for embedding next time.
            self.write_error = f"cannot write {self.path}: {exc.strerror or exc}"
        finally:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    Path(tmp).unlink()
