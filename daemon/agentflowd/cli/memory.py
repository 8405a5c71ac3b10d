"""`agentflowd memory`: the project's persistent memory from the command line.

Hooks and agents call these often, so each command imports only what it needs: `store`, `get`,
`list` and `delete` never load numpy or the embedding model (a stored entry is embedded by a
background worker, or by the next search); `search` loads the model because it must embed the query.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from agentflowd.errors import UsageError

if TYPE_CHECKING:
    from agentflowd.memory.store import MemoryStore

F = TypeVar("F", bound=Callable[..., Any])

# Same as agentflowd.memory.model.DEFAULT_NAMESPACE (not imported here: start-up cost).
DEFAULT_NAMESPACE = "default"
# A search through the daemon may first embed many pending entries.
DAEMON_TIMEOUT_S = 120.0
# How long `maintain` waits for a background worker that holds the database's worker lock.
MAINTAIN_WAIT_S = 600.0


def common_options(func: F) -> F:
    """--json, --project and --db on every subcommand."""
    func = click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")(func)
    func = click.option(
        "--project",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Project folder (default: found from the current folder).",
    )(func)
    func = click.option(
        "--db",
        "db_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Database file (default: $AGENTFLOWD_MEMORY_DB or <project>/.agentflow/memory.db).",
    )(func)
    return func


namespace_option = click.option(
    "--namespace", "-n", default=DEFAULT_NAMESPACE, show_default=True, help="Namespace."
)


def _resolve(db_path: Path | None, project: Path | None) -> Path:
    from agentflowd.memory.paths import resolve_db_path

    if project is not None and not project.is_dir():
        raise UsageError(f"no such project folder: {project}")
    return resolve_db_path(db=db_path, project=project)


@contextlib.contextmanager
def _open(db_path: Path | None, project: Path | None, **kwargs: Any) -> Iterator[MemoryStore]:
    """The store for this command; SQLite environment failures become one-line errors (exit 3)."""
    from agentflowd.memory.db import environment_errors
    from agentflowd.memory.store import MemoryStore

    path = _resolve(db_path, project)
    with environment_errors(path), MemoryStore(path, **kwargs) as mem:
        yield mem


def _via_daemon(
    project: Path | None, db_path: Path | None, method: str, params: dict[str, Any]
) -> dict[str, Any] | None:
    """The answer of the project's daemon, or None to do the work in this process.

    A running daemon has the model loaded: searching through it skips the ~0.3 s model load, and
    entries stored through it are embedded at once. Only the project's default database is
    served there, so an explicit --db or $AGENTFLOWD_MEMORY_DB always works in-process.
    """
    from agentflowd.memory.paths import DB_ENV

    if db_path is not None or os.environ.get(DB_ENV, "").strip():
        return None
    from agentflowd.ipc.paths import socket_path
    from agentflowd.project import find_project_root

    root = find_project_root(project)
    if not socket_path(root).exists():
        return None
    from agentflowd.ipc import client

    try:
        doc = client.call(root, method, params, timeout=DAEMON_TIMEOUT_S)
    except (client.DaemonUnavailable, client.DaemonNotAvailable):
        return None
    if not isinstance(doc, dict):
        return None
    return {**doc, "served_by": "daemon"}


def _preload_embedder() -> None:
    """Start loading the model in a thread: its ~0.2-0.3 s of session setup runs outside the GIL
    while this thread imports the store and opens the database. `get_embedder()` later waits for it.
    """
    import threading

    from agentflowd.embed import prefer_quick_start

    prefer_quick_start()

    def load() -> None:
        from agentflowd.embed import get_embedder

        # A failure here is raised again, with its message, by the main thread's own call.
        with contextlib.suppress(Exception):
            get_embedder()

    threading.Thread(target=load, name="embedder-preload", daemon=True).start()


def _emit(as_json: bool, document: Any, text: str | None = None) -> None:
    if as_json:
        click.echo(json.dumps(document, ensure_ascii=False, indent=None))
    elif text is not None:
        click.echo(text)


def _parse_json_object(raw: str | None, what: str) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{what} is not valid JSON: {exc.msg} (at char {exc.pos})") from None
    if not isinstance(value, dict):
        raise UsageError(f"{what} must be a JSON object")
    return value


def _split_tags(raw: tuple[str, ...]) -> list[str]:
    return [tag.strip() for item in raw for tag in item.split(",") if tag.strip()]


def _meta_filters(raw: tuple[str, ...]) -> dict[str, Any]:
    filters: dict[str, Any] = {}
    for item in raw:
        field, sep, value = item.partition("=")
        if not sep or not field:
            raise UsageError(f"--meta takes FIELD=VALUE, got {item!r}")
        try:
            filters[field] = json.loads(value)
        except json.JSONDecodeError:
            filters[field] = value  # bare words compare as strings
    return filters


def _preview(value: Any, width: int = 70) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _redaction_note(redactions: list[dict[str, Any]]) -> None:
    if redactions:
        found = ", ".join(f"{r['count']} {r['kind']}" for r in redactions)
        click.echo(f"agentflowd: redacted before storing: {found}", err=True)


@click.group(name="memory")
def command() -> None:
    """Persistent project memory: store, get, search (one SQLite database per project)."""


@command.command()
@click.argument("key")
@click.argument("value")
@namespace_option
@click.option("--ttl", default=None, help="Expire after this long: 30s, 24h, 7d.")
@click.option("--tags", "tags", multiple=True, help="Comma-separated tags (repeatable).")
@click.option("--metadata", default=None, help="A JSON object stored with the entry.")
@click.option("--value-json", is_flag=True, help="VALUE is a JSON document, not text.")
@click.option("--no-redact", is_flag=True, help="Store secrets as given (not recommended).")
@common_options
def store(
    key: str,
    value: str,
    namespace: str,
    ttl: str | None,
    tags: tuple[str, ...],
    metadata: str | None,
    value_json: bool,
    no_redact: bool,
    as_json: bool,
    project: Path | None,
    db_path: Path | None,
) -> None:
    """Store VALUE under KEY (VALUE `-` reads stdin). Replaces an existing entry."""
    if value == "-":
        value = sys.stdin.read()
        if value.endswith("\n"):
            value = value[:-1]
    payload: Any = value
    if value_json:
        try:
            payload = json.loads(value)
        except json.JSONDecodeError as exc:
            raise UsageError(f"VALUE is not valid JSON: {exc.msg} (at char {exc.pos})") from None
    meta = _parse_json_object(metadata, "--metadata")
    tag_list = _split_tags(tags)
    params = {
        "namespace": namespace,
        "key": key,
        "value": payload,
        "is_json": value_json,
        "ttl": ttl,
        "tags": tag_list,
        "metadata": meta,
        "redact": not no_redact,
    }
    doc = _via_daemon(project, db_path, "memory.store", params)
    if doc is None:
        with _open(db_path, project, embed_on_write=False) as mem:
            result = mem.store(
                namespace,
                key,
                payload,
                is_json=value_json,
                ttl=ttl,
                tags=tag_list,
                metadata=meta,
                redact=not no_redact,
            )
        doc = {**result.to_json(), "served_by": "process"}
    _redaction_note(doc["redactions"])
    verb = "created" if doc["created"] else "replaced"
    _emit(as_json, doc, f"{verb} {namespace}/{key} (embedding {doc['entry']['embedding']})")


@command.command()
@click.argument("key")
@namespace_option
@common_options
def get(
    key: str, namespace: str, as_json: bool, project: Path | None, db_path: Path | None
) -> None:
    """Print the value stored under KEY."""
    with _open(db_path, project) as mem:
        entry = mem.get(namespace, key)
    if as_json:
        _emit(True, entry.to_json())
    elif entry.is_json:
        click.echo(json.dumps(entry.value, ensure_ascii=False, indent=2))
    else:
        click.echo(entry.value)


@command.command()
@click.argument("key")
@namespace_option
@common_options
def delete(
    key: str, namespace: str, as_json: bool, project: Path | None, db_path: Path | None
) -> None:
    """Delete the entry under KEY."""
    with _open(db_path, project) as mem:
        mem.delete(namespace, key)
    _emit(
        as_json, {"deleted": True, "namespace": namespace, "key": key}, f"deleted {namespace}/{key}"
    )


@command.command(name="list")
@click.option("--namespace", "-n", default=None, help="Only this namespace (default: all).")
@click.option("--prefix", default=None, help="Only keys starting with this.")
@click.option("--tag", "tags", multiple=True, help="Only entries with this tag (repeatable).")
@click.option("--limit", default=100, show_default=True, type=int)
@common_options
def list_entries(
    namespace: str | None,
    prefix: str | None,
    tags: tuple[str, ...],
    limit: int,
    as_json: bool,
    project: Path | None,
    db_path: Path | None,
) -> None:
    """List live entries, ordered by namespace and key."""
    with _open(db_path, project) as mem:
        entries = mem.list(namespace=namespace, prefix=prefix, tags=_split_tags(tags), limit=limit)
    if as_json:
        _emit(True, {"count": len(entries), "entries": [e.to_json() for e in entries]})
        return
    for entry in entries:
        click.echo(f"{entry.namespace}/{entry.key}\t{_preview(entry.value)}")


@command.command()
@click.argument("query")
@click.option(
    "--mode",
    type=click.Choice(["semantic", "keyword", "hybrid"]),
    default="hybrid",
    show_default=True,
)
@click.option("-k", "k", default=10, show_default=True, type=int, help="How many results.")
@click.option("--namespace", "-n", default=None, help="Only this namespace (default: all).")
@click.option("--tag", "tags", multiple=True, help="Only entries with this tag (repeatable).")
@click.option("--meta", "meta", multiple=True, help="Only entries whose metadata FIELD=VALUE.")
@common_options
def search(
    query: str,
    mode: str,
    k: int,
    namespace: str | None,
    tags: tuple[str, ...],
    meta: tuple[str, ...],
    as_json: bool,
    project: Path | None,
    db_path: Path | None,
) -> None:
    """Find entries by meaning (semantic), by words (keyword) or both (hybrid)."""
    params = {
        "query": query,
        "mode": mode,
        "k": k,
        "namespace": namespace,
        "tags": _split_tags(tags),
        "metadata": _meta_filters(meta),
    }
    doc = _via_daemon(project, db_path, "memory.search", params)
    if doc is None:
        if mode != "keyword":
            _preload_embedder()
        with _open(db_path, project) as mem:
            result = mem.search(
                query,
                mode=mode,
                k=k,
                namespace=namespace,
                tags=params["tags"],
                metadata=params["metadata"],
            )
        doc = {**result.to_json(), "served_by": "process"}
    if as_json:
        _emit(True, doc)
        return
    if not doc["hits"]:
        click.echo("no matches")
    for hit in doc["hits"]:
        entry = hit["entry"]
        click.echo(
            f"{hit['score']:7.3f}  {entry['namespace']}/{entry['key']}\t{_preview(entry['value'])}"
        )


@command.command()
@common_options
def stats(as_json: bool, project: Path | None, db_path: Path | None) -> None:
    """Entries, embeddings and indexes per namespace."""
    with _open(db_path, project) as mem:
        doc = mem.stats()
    if as_json:
        _emit(True, doc)
        return
    click.echo(
        f"database {doc['db']} (schema v{doc['schema_version']}, {doc['db_bytes'] + doc['wal_bytes']} bytes)"
    )
    click.echo(
        f"embedding model {doc['embedding_model'] or '(none yet)'}; annoy {'available' if doc['annoy_available'] else 'not installed'}"
    )
    for ns in doc["namespaces"]:
        index = ns["annoy"]
        where = (
            f"annoy gen {index['generation']} ({index['items']} items, +{index['added_since_build']} since)"
            if index
            else "exact search"
        )
        click.echo(
            f"  {ns['namespace']}: {ns['entries']} entries, {ns['vectors']} vectors, "
            f"{ns['pending_embeddings']} pending, {ns['expired_unpurged']} expired; {where}"
        )


@command.command()
@common_options
def purge(as_json: bool, project: Path | None, db_path: Path | None) -> None:
    """Delete every expired entry now."""
    with _open(db_path, project) as mem:
        removed = mem.purge()
    _emit(as_json, {"purged": removed}, f"purged {removed} expired entries")


@command.command()
@click.option("--format", "fmt", type=click.Choice(["jsonl"]), default="jsonl", show_default=True)
@click.option("--namespace", "-n", default=None, help="Only this namespace (default: all).")
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="Write to this file instead of stdout.",
)  # fmt: skip
@common_options
def export(
    fmt: str,
    namespace: str | None,
    output: Path | None,
    as_json: bool,
    project: Path | None,
    db_path: Path | None,
) -> None:
    """Write every live entry as JSON lines (the format `import` reads)."""
    with _open(db_path, project) as mem:
        records = list(mem.export(namespace=namespace))
    if output is not None:
        tmp = output.with_name(output.name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as handle:
            for record in records:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        tmp.replace(output)
        _emit(
            as_json,
            {"exported": len(records), "file": str(output)},
            f"exported {len(records)} entries to {output}",
        )
    elif as_json:
        _emit(True, {"count": len(records), "entries": records})
    else:
        for record in records:
            click.echo(json.dumps(record, ensure_ascii=False))


@command.command(name="import")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@click.option("--namespace", "-n", default=None, help="Namespace for records that name none.")
@click.option("--no-redact", is_flag=True, help="Store secrets as given (not recommended).")
@common_options
def import_entries(
    file: Path,
    namespace: str | None,
    no_redact: bool,
    as_json: bool,
    project: Path | None,
    db_path: Path | None,
) -> None:
    """Import JSON lines (FILE `-` reads stdin). Every line is checked before anything is written.

    Entries are committed in batches, so an interrupted import keeps every finished batch.
    """
    from collections import Counter

    from agentflowd.memory.importer import parse_records
    from agentflowd.memory.model import ImportResult
    from agentflowd.memory.redact import summarise

    found: Counter[str] = Counter()
    options = {"default_namespace": namespace or DEFAULT_NAMESPACE, "redact": not no_redact}
    with _open(db_path, project, embed_on_write=False) as mem:
        if str(file) == "-":
            lines = sys.stdin.read().splitlines()
            prepared = list(parse_records(mem, lines, source="stdin", found=found, **options))
            count, skipped = mem.import_records(prepared)
        else:
            if not file.is_file():
                raise UsageError(f"no such file: {file}")
            # Pass one validates every line; pass two streams the writes.
            with open(file, encoding="utf-8") as handle:
                for _ in parse_records(mem, handle, source=str(file), found=Counter(), **options):
                    pass
            with open(file, encoding="utf-8") as handle:
                records = parse_records(mem, handle, source=str(file), found=found, **options)
                count, skipped = mem.import_records(records)
    doc = ImportResult(count, skipped, summarise(found)).to_json()
    _redaction_note(doc["redactions"])
    note = f" ({skipped} already expired, skipped)" if skipped else ""
    _emit(as_json, doc, f"imported {count} entries{note}")


@command.command()
@click.argument("namespace")
@click.option("--embed/--no-embed", default=None, help="Embed this namespace's entries or not.")
@click.option("--ann-threshold", type=int, default=None, help="Rows before Annoy is used.")
@common_options
def namespace(
    namespace: str,
    embed: bool | None,
    ann_threshold: int | None,
    as_json: bool,
    project: Path | None,
    db_path: Path | None,
) -> None:
    """Show or change a namespace's settings."""
    with _open(db_path, project) as mem:
        if embed is None and ann_threshold is None:
            config = mem.namespace_config(namespace)
        else:
            config = mem.configure_namespace(namespace, embed=embed, ann_threshold=ann_threshold)
        threshold = mem.threshold_for(namespace)
    doc = {**config.to_json(), "ann_threshold_effective": threshold}
    _emit(
        as_json,
        doc,
        f"{namespace}: embeddings {'on' if config.embed else 'off'}, annoy past {threshold} rows",
    )


@command.command()
@common_options
def maintain(as_json: bool, project: Path | None, db_path: Path | None) -> None:
    """Embed pending entries and build due indexes now, in the foreground."""
    import time

    from agentflowd.memory.db import environment_errors
    from agentflowd.memory.errors import DatabaseBusyError
    from agentflowd.memory.worker import run_maintenance

    path = _resolve(db_path, project)
    give_up = time.monotonic() + MAINTAIN_WAIT_S
    with environment_errors(path):
        # A background worker holding the lock does the same job: wait for it, then run once
        # more so whatever it did not cover is done before this command returns.
        while (report := run_maintenance(path)) is None:
            if time.monotonic() > give_up:
                raise DatabaseBusyError(
                    f"a background worker has been maintaining {path} for over "
                    f"{MAINTAIN_WAIT_S:.0f} s; try again later"
                )
            time.sleep(0.1)
    _emit(
        as_json,
        report,
        f"embedded {report['embedded']}, purged {report['purged']}, "
        f"built indexes for {', '.join(report['built']) or 'no namespace'}",
    )
