"""Reading `memory export` / `memory import` JSON lines into prepared entries."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from agentflowd.errors import UsageError
from agentflowd.memory.errors import MemoryUsageError
from agentflowd.memory.model import RECORD_FIELDS

if TYPE_CHECKING:
    from agentflowd.memory.store import MemoryStore, NewEntry

# What `memory export` writes, plus a relative `ttl` for hand-written lines.
_FIELDS = {*RECORD_FIELDS, "ttl"}


def parse_records(
    store: MemoryStore,
    lines: Iterable[str],
    *,
    source: str,
    default_namespace: str,
    redact: bool,
    found: Counter[str],
) -> Iterator[NewEntry]:
    """Validate and prepare each non-blank line; errors name the source and line number."""
    try:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            where = f"{source}:{number}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise MemoryUsageError(f"{where}: not valid JSON ({exc.msg})") from None
            if not isinstance(record, dict):
                raise MemoryUsageError(f"{where}: each line must be a JSON object")
            try:
                yield _prepare(store, record, default_namespace, redact, found)
            except UsageError as exc:
                raise MemoryUsageError(f"{where}: {exc}") from None
    except UnicodeDecodeError:
        raise MemoryUsageError(f"{source}: not UTF-8 text") from None


def _prepare(
    store: MemoryStore,
    record: dict[str, Any],
    default_namespace: str,
    redact: bool,
    found: Counter[str],
) -> NewEntry:
    unknown = set(record) - _FIELDS
    if unknown:
        raise MemoryUsageError(f"unknown field(s): {', '.join(sorted(unknown))}")
    if "key" not in record or "value" not in record:
        raise MemoryUsageError("a record needs at least 'key' and 'value'")
    value = record["value"]
    value_type = record.get("value_type", "text" if isinstance(value, str) else "json")
    if value_type not in ("text", "json"):
        raise MemoryUsageError(f"value_type must be 'text' or 'json', got {value_type!r}")
    tags = record.get("tags", [])
    if not isinstance(tags, list):
        raise MemoryUsageError("'tags' must be a list of strings")
    metadata = record.get("metadata", {})
    if not isinstance(metadata, dict):
        raise MemoryUsageError("'metadata' must be a JSON object")
    for field in ("created_at", "expires_at"):
        stamp = record.get(field)
        if stamp is not None and (isinstance(stamp, bool) or not isinstance(stamp, int | float)):
            raise MemoryUsageError(f"'{field}' must be a Unix time in seconds")
    return store.prepare(
        record.get("namespace", default_namespace),
        record["key"],
        value,
        is_json=value_type == "json",
        ttl=record.get("ttl"),
        expires_at=record.get("expires_at"),
        created_at=record.get("created_at"),
        tags=tags,
        metadata=metadata,
        redact=redact,
        found=found,
    )
