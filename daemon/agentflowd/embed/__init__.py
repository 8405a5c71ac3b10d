"""The one sentence embedder of agentflowd (skill matching and the memory store share it).

Importing this package is cheap: numpy, onnxruntime and tokenizers load on the first
`get_embedder()` call, so CLI modules can import it at module level without paying for the model.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from agentflowd.errors import AgentflowError, ConfigError

if TYPE_CHECKING:
    import numpy as np

MODEL_ID = "all-MiniLM-L6-v2"
DIM = 384
THREADS_ENV = "AGENTFLOWD_EMBED_THREADS"


class Embedder(Protocol):
    model_id: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dim) float32, rows L2-normalised; batches internally."""
        ...


class TokenEmbedder(Embedder, Protocol):
    """An embedder that also exposes per-token contextual vectors (the skill matcher uses them)."""

    def embed_tokens(self, texts: Sequence[str]) -> TokenEmbeddings: ...


@dataclass(frozen=True)
class TokenEmbeddings:
    vectors: np.ndarray  # (n, dim) float32, L2-normalised sentence vectors
    tokens: tuple[tuple[str, ...], ...]  # per text: its word pieces, special tokens left out
    states: tuple[np.ndarray, ...]  # per text: (len(tokens), dim) L2-normalised token vectors


class EmbedderUnavailable(AgentflowError):
    """The model or tokenizer files are missing or unreadable (a broken install)."""


_lock = threading.Lock()
_instance: TokenEmbedder | None = None
_quick_start = False


def prefer_quick_start() -> None:
    """Ask for a model that loads fast rather than one that runs fast (call before first use).

    For short-lived processes that embed a handful of texts (a CLI search, a hook): graph
    optimisation costs more at load than it saves on a few sentences. Long-lived processes and
    bulk embedding keep the optimised graph.
    """
    global _quick_start
    _quick_start = True


def get_embedder() -> TokenEmbedder:
    """The process-wide embedder, loaded once on first use (thread-safe)."""
    global _instance
    if _instance is None:
        with _lock:
            if _instance is None:
                from agentflowd.embed.minilm import OnnxMiniLM

                _instance = OnnxMiniLM(threads=_threads_from_env(), optimize=not _quick_start)
    return _instance


def _threads_from_env() -> int:
    raw = os.environ.get(THREADS_ENV, "").strip()
    if not raw:
        return 1
    try:
        threads = int(raw)
    except ValueError:
        raise ConfigError(f"{THREADS_ENV} must be a positive integer, got {raw!r}") from None
    if threads < 1:
        raise ConfigError(f"{THREADS_ENV} must be a positive integer, got {raw!r}")
    return threads


__all__ = [
    "DIM",
    "MODEL_ID",
    "Embedder",
    "EmbedderUnavailable",
    "TokenEmbedder",
    "TokenEmbeddings",
    "get_embedder",
]
