"""The memory store's value types."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from agentflowd.memory.redact import Redaction

EmbeddingStatus = Literal["ready", "pending", "disabled"]
SearchMode = Literal["semantic", "keyword", "hybrid"]
SEARCH_MODES: tuple[str, ...] = ("semantic", "keyword", "hybrid")
DEFAULT_NAMESPACE = "default"
# The fields of a `memory export` line, which `memory import` reads back.
RECORD_FIELDS: tuple[str, ...] = (
    "namespace", "key", "value", "value_type", "metadata", "tags",
    "created_at", "updated_at", "expires_at",
)  # fmt: skip


@dataclass(frozen=True)
class Entry:
    namespace: str
    key: str
    value: Any  # str for text values, the decoded document for JSON values
    is_json: bool
    metadata: dict[str, Any]
    tags: tuple[str, ...]
    created_at: float
    updated_at: float
    accessed_at: float | None
    access_count: int
    expires_at: float | None
    embedding: EmbeddingStatus

    def to_json(self) -> dict[str, Any]:
        return {
            "namespace": self.namespace,
            "key": self.key,
            "value": self.value,
            "value_type": "json" if self.is_json else "text",
            "metadata": self.metadata,
            "tags": list(self.tags),
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "accessed_at": self.accessed_at,
            "access_count": self.access_count,
            "expires_at": self.expires_at,
            "embedding": self.embedding,
        }

    def to_record(self) -> dict[str, Any]:
        """The entry as a `memory export` line."""
        doc = self.to_json()
        return {field: doc[field] for field in RECORD_FIELDS}


@dataclass(frozen=True)
class StoreResult:
    entry: Entry
    created: bool
    redactions: tuple[Redaction, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "stored": True,
            "created": self.created,
            "redactions": [r.to_json() for r in self.redactions],
            "entry": self.entry.to_json(),
        }


@dataclass(frozen=True)
class Hit:
    entry: Entry
    score: float
    # Per-method detail: cosine for semantic, BM25 for keyword, both ranks for hybrid.
    detail: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"score": self.score, **self.detail, "entry": self.entry.to_json()}


@dataclass(frozen=True)
class SearchResult:
    mode: str
    hits: tuple[Hit, ...]
    # How the semantic side ran per namespace ("exact-f32", "exact-int8", "annoy+delta", "filtered-exact").
    paths: dict[str, str] = field(default_factory=dict)
    embedded_now: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "count": len(self.hits),
            "embedded_pending": self.embedded_now,
            "paths": self.paths,
            "hits": [h.to_json() for h in self.hits],
        }


@dataclass(frozen=True)
class ImportResult:
    imported: int
    skipped_expired: int
    redactions: tuple[Redaction, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "imported": self.imported,
            "skipped_expired": self.skipped_expired,
            "redactions": [r.to_json() for r in self.redactions],
        }
