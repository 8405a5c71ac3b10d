"""The language server (pygls 2) for SKILL.md, `.claude/agents/*.md` and `.claude/commands/*.md`.

Claude Code routes every `.md` file to a plugin's server, so each request first checks the path
(a string test, then a few `stat`s for agents/commands folders) and returns nothing for other
markdown without reading or parsing it.

Threads: pygls reads stdin through its own thread pool; everything CPU-heavy (discovery, the
matcher, memory, swarms) goes to `self.work`, a separate executor, so reading messages (and
`$/cancelRequest`) is never starved. Results are sent from the event loop only.

Diagnostics: exactly `validate_document`'s findings. Clients that can pull diagnostics get pull
(document and workspace) and no pushes, so no editor shows every finding twice; the others get
pushes on open, save, and change (debounced).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import signal
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from lsprotocol import types as lsp
from pygls.capabilities import get_capability
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.io_ import StdinAsyncReader, StdoutWriter, run_async
from pygls.lsp.server import LanguageServer
from pygls.protocol import JsonRPCNotification, JsonRPCRequestMessage, default_converter
from pygls.protocol import _dict_to_object as dict_to_object
from pygls.uris import to_fs_path

from agentflowd import __version__
from agentflowd.editing import actions, completion, hover, links, symbols
from agentflowd.editing.facts import ProjectFacts
from agentflowd.editing.positions import LineIndex
from agentflowd.errors import AgentflowError
from agentflowd.ipc import protocol
from agentflowd.ipc.methods import socket_methods
from agentflowd.ipc.server import IpcServer, SocketUnavailable, error_code
from agentflowd.lsp import convert
from agentflowd.lsp.services import Services
from agentflowd.lsp.state import ProjectState
from agentflowd.lsp.watch import watch
from agentflowd.project import find_project_root
from agentflowd.skills.model import Diagnostic, Document, DocumentKind, Span
from agentflowd.skills.parse import infer_kind, load_document, parse_document
from agentflowd.skills.validate import validate_document

log = logging.getLogger("agentflowd.lsp")

DEFAULT_DEBOUNCE = 0.03  # seconds after the last keystroke before diagnostics are published
WORK_THREADS = 2
SWARM_THREADS = 2
SWARM_STOP_WAIT = 10.0  # seconds a stopping swarm gets to end its agents at shutdown
# JSON-RPC error codes for our custom requests (the implementation-defined server range).
ERR_NOT_AVAILABLE = -32001
ERR_NOT_FOUND = -32002
ERR_FAILED = -32003
_RPC_CODES = {protocol.NOT_AVAILABLE: ERR_NOT_AVAILABLE, protocol.NOT_FOUND: ERR_NOT_FOUND}
# Custom requests answered by a `Services` method of the same meaning as the socket's.
SERVICE_REQUESTS = {
    "agentflow/listSkills": "list_skills",
    "agentflow/matchSkill": "match",
    "agentflow/memory/store": "memory_store",
    "agentflow/memory/search": "memory_search",
}


@dataclass(frozen=True)
class ServeOptions:
    project: Path | None = None
    socket: bool = True


@dataclass
class Analysis:
    """One open document, parsed; findings computed on first use and valid for one generation."""

    version: int | None
    text: str
    doc: Document
    index: LineIndex
    generation: int
    _diagnostics: list[Diagnostic] | None = field(default=None, repr=False)

    @property
    def diagnostics(self) -> list[Diagnostic]:
        if self._diagnostics is None:
            self._diagnostics = validate_document(self.doc)
        return self._diagnostics

    def refresh(self, generation: int) -> None:
        """Files on disk changed (links may now resolve): recompute the findings on next use."""
        if generation != self.generation:
            self._diagnostics, self.generation = None, generation


def quick_kind(path: Path) -> DocumentKind:
    """What a file is, rejecting ordinary markdown on its name alone."""
    name = path.name.lower()
    if name == "skill.md":
        return "skill"
    if not name.endswith(".md") or not ({"agents", "commands"} & set(path.parts[:-1])):
        return "other"
    return infer_kind(path)


def _converter() -> Any:
    """pygls' converter, except our `agentflow/*` requests keep their params as plain dicts (pygls
    turns unknown params into namedtuples, renaming keys that are not identifiers)."""
    converter = default_converter()

    def structure(obj: dict[str, Any], cls: type) -> Any:
        if "params" in obj:
            if str(obj.get("method", "")).startswith("agentflow/"):
                obj["params"] = obj["params"] if isinstance(obj["params"], dict) else {}
            else:
                obj["params"] = dict_to_object(obj["params"])
        return cls(**obj)

    converter.register_structure_hook(JsonRPCRequestMessage, structure)
    converter.register_structure_hook(JsonRPCNotification, structure)
    return converter


class AgentflowServer(LanguageServer):
    def __init__(self, options: ServeOptions) -> None:
        super().__init__(
            "agentflowd",
            __version__,
            text_document_sync_kind=lsp.TextDocumentSyncKind.Full,
            converter_factory=_converter,
        )
        self.options = options
        self.debounce = DEFAULT_DEBOUNCE
        self.work = ThreadPoolExecutor(WORK_THREADS, thread_name_prefix="agentflowd-work")
        # Swarms run for minutes: their own threads, so matching and completion never wait.
        self.swarms = ThreadPoolExecutor(SWARM_THREADS, thread_name_prefix="agentflowd-swarm")
        self.state: ProjectState | None = None
        self.services: Services | None = None
        self.ipc: IpcServer | None = None
        self.encoding = "utf-16"
        self.push = True
        self.warm_matcher = False
        self.kinds: dict[str, DocumentKind] = {}
        self.open: dict[str, str] = {}  # unquoted uri (pygls' key) -> the client's own uri
        self.analyses: dict[str, Analysis] = {}
        self.timers: dict[str, asyncio.TimerHandle] = {}
        self.tasks: set[asyncio.Task[Any]] = set()
        self._watch_stop: asyncio.Event | None = None
        self.running_swarms: dict[Any, asyncio.Future[Any]] = {}

    # ----- documents

    def kind_of(self, uri: str) -> DocumentKind:
        kind = self.kinds.get(uri)
        if kind is None:
            path = to_fs_path(uri)
            kind = quick_kind(Path(path)) if path else "other"
            self.kinds[uri] = kind
        return kind

    def analyse(self, uri: str) -> Analysis | None:
        kind = self.kind_of(uri)
        if kind == "other":
            return None
        document = self.workspace.get_text_document(uri)
        try:
            text = document.source
        except (OSError, ValueError):
            return None  # a pulled document that is not open and cannot be read
        generation = self.state.generation if self.state else 0
        cached = self.analyses.get(uri)
        if cached is not None and cached.text is text and cached.version == document.version:
            cached.refresh(generation)
            return cached
        path = to_fs_path(uri)
        doc = parse_document(text, Path(path) if path else None, kind)
        analysis = Analysis(document.version, text, doc, LineIndex(text, self.encoding), generation)  # type: ignore[arg-type]
        if unquote(uri) in self.open:  # a pulled file that is not open is read again next time
            self.analyses[uri] = analysis
        return analysis

    def facts(self) -> ProjectFacts:
        if self.state is None or not self.state.loaded:
            return ProjectFacts()  # never block a keystroke on discovery; it is warming up
        return self.state.facts(
            a.doc.data for uri, a in self.analyses.items() if unquote(uri) in self.open
        )

    def lsp_diagnostics(self, analysis: Analysis) -> list[lsp.Diagnostic]:
        return [convert.diagnostic(analysis.index, d) for d in analysis.diagnostics]

    def publish(self, uri: str) -> None:
        self.timers.pop(uri, None)
        if not self.push or unquote(uri) not in self.open:
            return
        analysis = self.analyse(uri)
        if analysis is None:
            return
        self.text_document_publish_diagnostics(
            lsp.PublishDiagnosticsParams(
                uri=uri, diagnostics=self.lsp_diagnostics(analysis), version=analysis.version
            )
        )

    def schedule(self, uri: str) -> None:
        timer = self.timers.pop(uri, None)
        if timer is not None:
            timer.cancel()
        loop = asyncio.get_running_loop()
        self.timers[uri] = loop.call_later(self.debounce, self.publish, uri)

    # ----- background work

    def spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def in_work(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.work, fn, *args)

    async def start_background(self) -> None:
        assert self.state is not None and self.services is not None
        self._watch_stop = asyncio.Event()
        self.spawn(self._warm_up())
        self.spawn(watch(self.watch_roots, self.files_changed, self._watch_stop))
        if self.options.socket:
            self.ipc = IpcServer(
                self.state.project, socket_methods(self.services, self.work, stop=None)
            )
            try:
                if not await self.ipc.start():
                    log.info("another daemon owns %s; retrying later", self.ipc.socket_path)
                    self.spawn(self.ipc.keep_trying())
            except (OSError, SocketUnavailable) as exc:
                self.window_log_message(
                    lsp.LogMessageParams(
                        type=lsp.MessageType.Warning,
                        message=f"agentflowd: no local socket ({exc}); the CLI will not use "
                        "this server",
                    )
                )

    async def _warm_up(self) -> None:
        assert self.state is not None
        await self.in_work(self.state.catalog)
        # Compile the schema validators once, off the loop, before the first keystroke needs them.
        await self.in_work(validate_document, parse_document("---\nname: x\n---\n", None, "skill"))
        for uri in list(self.open.values()):
            if self.push and self.kind_of(uri) != "other":
                self.publish(uri)  # catalog-dependent answers may have been empty until now
        await self._warm_matcher()

    async def _warm_matcher(self) -> None:
        if self.warm_matcher and self.services is not None:
            try:
                await self.in_work(self.services.warm_matcher)
            except AgentflowError as exc:
                log.warning("matcher not warmed up: %s", exc)

    async def stop_background(self) -> None:
        if self._watch_stop is not None:
            self._watch_stop.set()
        # Swarms stop their agents (and the agents' processes) before the server goes away.
        for stop in list(self.running_swarms):
            stop.request("the language server is shutting down")
        if self.running_swarms:
            await asyncio.wait(list(self.running_swarms.values()), timeout=SWARM_STOP_WAIT)
        for timer in self.timers.values():
            timer.cancel()
        self.timers.clear()
        if self.ipc is not None:
            await self.ipc.close()
        for task in list(self.tasks):
            task.cancel()
        for task in list(self.tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def watch_roots(self) -> set[Path]:
        assert self.state is not None
        roots = self.state.watch_roots()
        for uri in list(self.open.values()):
            if self.kind_of(uri) == "skill":
                path = to_fs_path(uri)
                if path and Path(path).parent.is_dir():
                    roots.add(Path(path).parent)
        return roots

    async def files_changed(self, paths: set[Path]) -> None:
        assert self.state is not None
        await self.in_work(self.state.refresh)
        self.spawn(self._warm_matcher())
        for path in paths:
            self.kinds.pop(convert.uri_for(path), None)
        if self.push:
            for uri in list(self.open.values()):
                if self.kind_of(uri) != "other":
                    self.publish(uri)
        elif get_capability(
            self.client_capabilities, "workspace.diagnostics.refresh_support", False
        ):
            self.workspace_diagnostic_refresh(None)

    # ----- swarms

    async def run_swarm(self, params: dict[str, Any]) -> Any:
        """Run a skill's swarm in the swarm executor, reporting `$/progress` when the client
        gave a token or accepts server-created ones; `$/cancelRequest` or cancelling the
        progress stops the run (it ends as `cancelled`, recorded, with its outputs)."""
        assert self.services is not None
        from agentflowd.swarm.stop import StopSignal

        stop = StopSignal()
        token = params.get("workDoneToken")
        if token is None and get_capability(
            self.client_capabilities, "window.work_done_progress", False
        ):
            token = f"agentflowd-swarm-{uuid.uuid4().hex}"
            try:
                await self.work_done_progress.create_async(token)
            except JsonRpcException:
                token = None  # the client refused: run without progress
        relay = _ProgressRelay(self, token, asyncio.get_running_loop())
        if token is not None:
            self.work_done_progress.begin(
                token,
                lsp.WorkDoneProgressBegin(
                    title=f"swarm {params.get('skill', '')}", cancellable=True, percentage=0
                ),
            )
            self.work_done_progress.tokens[token].add_done_callback(
                lambda f: stop.request("cancelled from the editor") if f.cancelled() else None
            )
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(
            self.swarms, self.services.swarm_run, params, stop, relay.on_event
        )
        self.running_swarms[stop] = future
        future.add_done_callback(lambda _: self.running_swarms.pop(stop, None))
        status = "failed"
        try:
            with _as_rpc_errors():
                result = await asyncio.shield(future)
            status = result.get("status", "finished")
            return result
        except asyncio.CancelledError:
            stop.request("cancelled by the client ($/cancelRequest)")
            status = "cancelled"
            raise
        finally:
            if token is not None:
                self.work_done_progress.end(token, lsp.WorkDoneProgressEnd(message=status))
                self.work_done_progress.tokens.pop(token, None)


def _service_request(service: str) -> Callable[..., Any]:
    """An `agentflow/*` request answered by the `Services` method `service` in the work pool."""

    async def handler(ls: AgentflowServer, params: dict[str, Any]) -> Any:
        assert ls.services is not None
        with _as_rpc_errors():
            return await ls.in_work(getattr(ls.services, service), params)

    return handler


@contextlib.contextmanager
def _as_rpc_errors() -> Iterator[None]:
    """Typed agentflowd errors as JSON-RPC errors; `data.code` is the socket's error code."""
    try:
        yield
    except AgentflowError as exc:
        code, message = error_code(exc)
        if code == protocol.INVALID_PARAMS:
            raise JsonRpcInvalidParams(message, data={"code": code}) from None
        raise JsonRpcException(message, _RPC_CODES.get(code, ERR_FAILED), {"code": code}) from None


def build_server(options: ServeOptions) -> AgentflowServer:
    server = AgentflowServer(options)

    @server.feature(lsp.INITIALIZE)
    def initialize(ls: AgentflowServer, params: lsp.InitializeParams) -> None:
        project = ls.options.project
        if project is None:
            root = None
            if params.workspace_folders:
                root = to_fs_path(params.workspace_folders[0].uri)
            elif params.root_uri:
                root = to_fs_path(params.root_uri)
            elif params.root_path:
                root = params.root_path
            project = find_project_root(Path(root) if root else None)
        ls.state = ProjectState(project)
        ls.services = Services(ls.state, mode="lsp")
        ls.encoding = str(ls.workspace.position_encoding or "utf-16")
        ls.push = get_capability(params.capabilities, "text_document.diagnostic", None) is None
        # Claude Code's prompt hook asks this server (over the socket) to match every prompt:
        # load the model up front there. Editors never pay its memory unless they ask.
        client = (params.client_info.name if params.client_info else "").lower()
        ls.warm_matcher = "claude" in client
        init = params.initialization_options
        if isinstance(init, dict):
            if isinstance(init.get("warmMatcher"), bool):
                ls.warm_matcher = init["warmMatcher"]
            mode = init.get("diagnostics")
            if mode in ("push", "pull"):
                ls.push = mode == "push"
            delay = init.get("diagnosticsDelayMs")
            if isinstance(delay, int | float) and 0 <= delay <= 5000:
                ls.debounce = delay / 1000

    @server.feature(lsp.INITIALIZED)
    async def initialized(ls: AgentflowServer, params: lsp.InitializedParams) -> None:
        await ls.start_background()

    @server.feature(lsp.SHUTDOWN)
    async def shutdown(ls: AgentflowServer, params: Any) -> None:
        await ls.stop_background()

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: AgentflowServer, params: lsp.DidOpenTextDocumentParams) -> None:
        ls.open[unquote(params.text_document.uri)] = params.text_document.uri
        if ls.kind_of(params.text_document.uri) != "other":
            ls.publish(params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: AgentflowServer, params: lsp.DidChangeTextDocumentParams) -> None:
        if ls.push and ls.kind_of(params.text_document.uri) != "other":
            ls.schedule(params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: AgentflowServer, params: lsp.DidSaveTextDocumentParams) -> None:
        if ls.kind_of(params.text_document.uri) != "other":
            ls.publish(params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: AgentflowServer, params: lsp.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.open.pop(unquote(uri), None)
        ls.analyses.pop(uri, None)
        timer = ls.timers.pop(uri, None)
        if timer is not None:
            timer.cancel()
        if ls.push and ls.kind_of(uri) != "other":
            ls.text_document_publish_diagnostics(
                lsp.PublishDiagnosticsParams(uri=uri, diagnostics=[])
            )

    @server.feature(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    async def watched_files(ls: AgentflowServer, params: lsp.DidChangeWatchedFilesParams) -> None:
        changed = {Path(p) for c in params.changes if (p := to_fs_path(c.uri))}
        if changed and ls.state is not None:
            await ls.files_changed(changed)

    @server.feature(
        lsp.TEXT_DOCUMENT_DIAGNOSTIC,
        lsp.DiagnosticOptions(
            identifier="agentflowd", inter_file_dependencies=True, workspace_diagnostics=True
        ),
    )
    def document_diagnostic(ls: AgentflowServer, params: lsp.DocumentDiagnosticParams) -> Any:
        analysis = ls.analyse(params.text_document.uri)
        items = ls.lsp_diagnostics(analysis) if analysis is not None else []
        result_id = _result_id(items)
        if params.previous_result_id == result_id:
            return lsp.RelatedUnchangedDocumentDiagnosticReport(result_id=result_id)
        return lsp.RelatedFullDocumentDiagnosticReport(items=items, result_id=result_id)

    @server.feature(lsp.WORKSPACE_DIAGNOSTIC)
    async def workspace_diagnostic(
        ls: AgentflowServer, params: lsp.WorkspaceDiagnosticParams
    ) -> Any:
        assert ls.state is not None
        previous = {p.uri: p.value for p in params.previous_result_ids}
        catalog = await ls.in_work(ls.state.catalog)
        project = ls.state.project
        reports: list[Any] = []
        on_disk: list[Path] = []
        for path in sorted(catalog.documents):
            uri = convert.uri_for(path)
            if not path.is_relative_to(project):
                continue
            if unquote(uri) in ls.open:
                uri = ls.open[unquote(uri)]
                analysis = ls.analyse(uri)
                if analysis is not None:
                    reports.append(
                        _workspace_report(
                            uri, analysis.version, ls.lsp_diagnostics(analysis), previous
                        )
                    )
            else:
                on_disk.append(path)
        for uri, items in await ls.in_work(_validate_files, on_disk, ls.encoding):
            reports.append(_workspace_report(uri, None, items, previous))
        return lsp.WorkspaceDiagnosticReport(items=reports)

    @server.feature(
        lsp.TEXT_DOCUMENT_COMPLETION,
        lsp.CompletionOptions(
            trigger_characters=list(completion.TRIGGER_CHARACTERS), resolve_provider=False
        ),
    )
    def complete(ls: AgentflowServer, params: lsp.CompletionParams) -> lsp.CompletionList | None:
        analysis = ls.analyse(params.text_document.uri)
        if analysis is None:
            return None
        pos = analysis.index.from_client(params.position.line, params.position.character)
        items = completion.complete(analysis.doc, pos, ls.facts())
        return convert.completion_list(analysis.index, items, ls.client_capabilities)

    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    def on_hover(ls: AgentflowServer, params: lsp.HoverParams) -> lsp.Hover | None:
        analysis = ls.analyse(params.text_document.uri)
        if analysis is None:
            return None
        pos = analysis.index.from_client(params.position.line, params.position.character)
        result = hover.hover(analysis.doc, pos, ls.facts())
        return convert.hover(analysis.index, result, ls.client_capabilities) if result else None

    @server.feature(
        lsp.TEXT_DOCUMENT_CODE_ACTION,
        lsp.CodeActionOptions(
            code_action_kinds=[lsp.CodeActionKind.QuickFix, convert.FIX_ALL_KIND]
        ),
    )
    def code_action(
        ls: AgentflowServer, params: lsp.CodeActionParams
    ) -> list[lsp.CodeAction] | None:
        analysis = ls.analyse(params.text_document.uri)
        if analysis is None:
            return None
        uri = params.text_document.uri
        index = analysis.index
        start = index.from_client(params.range.start.line, params.range.start.character)
        end = index.from_client(params.range.end.line, params.range.end.character)
        only = params.context.only
        out: list[lsp.CodeAction] = []
        if _wanted(only, lsp.CodeActionKind.QuickFix):
            fixes = actions.quick_fixes(analysis.diagnostics, Span(start, end))
            out.extend(convert.quick_fix(index, f, uri) for f in fixes)
        fixable = [d for d in analysis.diagnostics if d.fix is not None]
        if _wanted(only, convert.FIX_ALL_KIND) and len(fixable) > 1:
            out.append(convert.fix_all(index, actions.fix_all(fixable), uri, len(fixable)))
        return out

    @server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    def document_symbol(ls: AgentflowServer, params: lsp.DocumentSymbolParams) -> Any:
        analysis = ls.analyse(params.text_document.uri)
        if analysis is None:
            return None
        found = symbols.document_symbols(analysis.doc)
        return convert.document_symbols(
            analysis.index, found, ls.client_capabilities, params.text_document.uri
        )

    @server.feature(
        lsp.TEXT_DOCUMENT_DOCUMENT_LINK, lsp.DocumentLinkOptions(resolve_provider=False)
    )
    def document_link(
        ls: AgentflowServer, params: lsp.DocumentLinkParams
    ) -> list[lsp.DocumentLink] | None:
        analysis = ls.analyse(params.text_document.uri)
        if analysis is None:
            return None
        return convert.document_links(
            analysis.index, links.document_links(analysis.doc), ls.client_capabilities
        )

    @server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
    def definition(ls: AgentflowServer, params: lsp.DefinitionParams) -> Any:
        analysis = ls.analyse(params.text_document.uri)
        if analysis is None:
            return None
        pos = analysis.index.from_client(params.position.line, params.position.character)
        targets = links.definition(analysis.doc, pos, ls.facts())
        return convert.definitions(analysis.index, targets, ls.client_capabilities) or None

    for method, service in SERVICE_REQUESTS.items():
        server.feature(method)(_service_request(service))

    @server.feature("agentflow/swarm/run")
    async def swarm_run(ls: AgentflowServer, params: dict[str, Any]) -> Any:
        return await ls.run_swarm(params)

    return server


class _ProgressRelay:
    """Swarm events (raised in the run's thread) to `$/progress` reports (sent from the loop)."""

    KINDS = (
        "run.",
        "phase.",
        "agent.started",
        "agent.finished",
        "agent.failed",
        "agent.retried",
        "consensus.",
        "budget.",
    )

    def __init__(self, ls: AgentflowServer, token: Any, loop: asyncio.AbstractEventLoop) -> None:
        self.ls = ls
        self.token = token
        self.loop = loop
        self.total = 0
        self.finished = 0

    def on_event(self, event: Any) -> None:
        if self.token is None or not event.kind.startswith(self.KINDS):
            return
        if event.kind == "run.started":
            self.total = len(event.data.get("agents", ())) or 1
        elif event.kind in ("agent.finished", "agent.failed"):
            self.finished += 1
        percentage = min(99, self.finished * 100 // self.total) if self.total else None
        who = f" {event.agent}" if event.agent else ""
        message = f"{event.kind}{who}"
        self.loop.call_soon_threadsafe(self._report, message, percentage)

    def _report(self, message: str, percentage: int | None) -> None:
        if self.token in self.ls.work_done_progress.tokens:
            self.ls.work_done_progress.report(
                self.token, lsp.WorkDoneProgressReport(message=message, percentage=percentage)
            )


def _wanted(only: list[str] | None, kind: str) -> bool:
    return only is None or any(kind == o or kind.startswith(f"{o}.") for o in only)


def _result_id(items: list[lsp.Diagnostic]) -> str:
    payload = json.dumps(
        [
            (
                d.range.start.line,
                d.range.start.character,
                d.range.end.line,
                d.range.end.character,
                d.code,
                d.message,
                int(d.severity or 0),
            )
            for d in items
        ]
    )
    return hashlib.sha1(payload.encode()).hexdigest()[:16]


def _workspace_report(
    uri: str, version: int | None, items: list[lsp.Diagnostic], previous: dict[str, str]
) -> Any:
    result_id = _result_id(items)
    if previous.get(uri) == result_id:
        return lsp.WorkspaceUnchangedDocumentDiagnosticReport(
            uri=uri, version=version, result_id=result_id
        )
    return lsp.WorkspaceFullDocumentDiagnosticReport(
        uri=uri, version=version, items=items, result_id=result_id
    )


def _validate_files(paths: list[Path], encoding: str) -> list[tuple[str, list[lsp.Diagnostic]]]:
    out = []
    for path in paths:
        doc = load_document(path)
        index = LineIndex(doc.text, encoding)  # type: ignore[arg-type]
        out.append(
            (convert.uri_for(path), [convert.diagnostic(index, d) for d in validate_document(doc)])
        )
    return out


# ----- running


def run(options: ServeOptions, tcp: tuple[str, int] | None = None) -> int:
    """Serve until the client goes away; returns the exit status (1 after `exit` without
    `shutdown`, as LSP asks)."""
    if not log.isEnabledFor(logging.DEBUG):
        # pygls logs a traceback for every error response, expected ones included.
        logging.getLogger("pygls").setLevel(logging.CRITICAL)
    server = build_server(options)
    if tcp is not None:
        try:
            server.start_tcp(*tcp)
        finally:
            _close(server)
        return 0
    code = _run_stdio(server)
    _close(server)
    # A signal can arrive while pygls' reader thread blocks on stdin; nothing must keep the
    # process alive after the client is gone (leaked daemons are what users complain about).
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


def _close(server: AgentflowServer) -> None:
    if server.ipc is not None:
        server.ipc.abandon()  # the client left without `shutdown` (TCP disconnect)
    server.work.shutdown(wait=False, cancel_futures=True)
    server.swarms.shutdown(wait=False, cancel_futures=True)
    if server.services is not None:
        server.services.close()


def _run_stdio(server: AgentflowServer) -> int:
    stop_event = threading.Event()
    server._stop_event = stop_event
    reader = StdinAsyncReader(sys.stdin.buffer, server.thread_pool)
    server.protocol.set_writer(StdoutWriter(sys.stdout.buffer))
    code = 0

    async def main() -> None:
        nonlocal code
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.add_signal_handler(sig, task.cancel)
        try:
            await run_async(
                stop_event=stop_event,
                reader=reader,
                protocol=server.protocol,
                logger=log,
                error_handler=server.report_server_error,
            )
        except SystemExit as exc:  # pygls ends the `exit` notification with sys.exit
            code = exc.code if isinstance(exc.code, int) else 0
        except asyncio.CancelledError:
            code = 0
        finally:
            await server.stop_background()

    try:
        asyncio.run(main())
    except BrokenPipeError:
        log.info("the client closed the connection")
    return code
