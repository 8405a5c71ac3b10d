"""The real server over stdio, driven with the captured capabilities of real editors.

One server per editor for the whole module (a start costs about a second). VS Code 1.65 gets
pushed diagnostics in UTF-16; Neovim 0.11 pulls them and negotiates UTF-8; Emacs 29 negotiates
UTF-32. Every range is checked against Python's own codecs, not the server's converter.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import LanguageClient

from agentflowd.ipc import client as ipc
from agentflowd.skills.parse import parse_document, split_lines
from agentflowd.skills.validate import validate_document
from tests.lsp.helpers import (
    SERVER_COMMAND,
    SKILL_TEXT,
    alive,
    capabilities,
    client_units,
    make_project,
    server_env,
)

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

EDITORS = ["visual-studio-code", "neovim", "emacs"]


@dataclass
class Session:
    client: LanguageClient
    project: Path
    editor: str
    encoding: str
    pull: bool
    skill_uri: str
    version: int = 1

    def set_text(self, text: str) -> None:
        self.version += 1
        self.client.text_document_did_change(
            lsp.DidChangeTextDocumentParams(
                text_document=lsp.VersionedTextDocumentIdentifier(
                    uri=self.skill_uri, version=self.version
                ),
                content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )


async def until(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=EDITORS)
async def session(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Session]:
    root = tmp_path_factory.mktemp("lsp")
    project = make_project(root)
    home = root / "home"
    home.mkdir()
    client = pytest_lsp.make_test_lsp_client()
    await client.start_io(*SERVER_COMMAND, env=server_env(home), cwd=str(root))
    caps = capabilities(request.param)
    result = await client.initialize_session(
        lsp.InitializeParams(
            capabilities=caps,
            root_uri=project.as_uri(),
            workspace_folders=[lsp.WorkspaceFolder(uri=project.as_uri(), name="proj")],
        )
    )
    encoding = str(result.capabilities.position_encoding or "utf-16")
    pull = caps.text_document is not None and caps.text_document.diagnostic is not None
    skill_uri = (project / ".claude" / "skills" / "demo" / "SKILL.md").as_uri()
    client.text_document_did_open(
        lsp.DidOpenTextDocumentParams(
            lsp.TextDocumentItem(uri=skill_uri, language_id="markdown", version=1, text=SKILL_TEXT)
        )
    )
    yield Session(client, project, request.param, encoding, pull, skill_uri)
    pid = ipc.call(project, "ping", {})["pid"]
    await client.shutdown_session()
    await client.stop()
    await until(lambda: not alive(pid), timeout=5)
    assert not (project / ".agentflow" / "daemon.sock").exists()


async def diagnostics(s: Session, uri: str) -> list[lsp.Diagnostic] | None:
    if s.pull:
        report = await s.client.text_document_diagnostic_async(
            lsp.DocumentDiagnosticParams(text_document=lsp.TextDocumentIdentifier(uri=uri))
        )
        return list(report.items)
    return s.client.diagnostics.get(uri)


async def settle(s: Session, uri: str, want: set[tuple[Any, ...]]) -> list[lsp.Diagnostic]:
    """The document's diagnostics once they equal `want`, or the last ones after 10 s."""
    items: list[lsp.Diagnostic] = []
    for _ in range(200):
        items = await diagnostics(s, uri) or []
        if got(items) == want:
            break
        await asyncio.sleep(0.05)
    return items


def expected(text: str, path: Path, encoding: str) -> set[tuple[Any, ...]]:
    lines = split_lines(text)
    out = set()
    for d in validate_document(parse_document(text, path)):
        start, end = d.span.start, d.span.end
        out.add(
            (
                d.code,
                int(d.severity),
                (start.line, client_units(lines[start.line], start.character, encoding)),
                (end.line, client_units(lines[end.line], end.character, encoding)),
            )
        )
    return out


def got(items: list[lsp.Diagnostic]) -> set[tuple[Any, ...]]:
    return {
        (
            d.code,
            int(d.severity or 0),
            (d.range.start.line, d.range.start.character),
            (d.range.end.line, d.range.end.character),
        )
        for d in items
    }


async def test_negotiates_the_editors_position_encoding(session: Session) -> None:
    wanted = {"visual-studio-code": "utf-16", "neovim": "utf-8", "emacs": "utf-32"}
    assert session.encoding == wanted[session.editor]
    socket = session.project / ".agentflow" / "daemon.sock"
    await until(socket.exists)  # the socket opens once the client sent `initialized`
    assert ipc.call(session.project, "ping", {})["mode"] == "lsp"


async def test_diagnostics_are_the_validators_findings_in_client_units(session: Session) -> None:
    path = session.project / ".claude" / "skills" / "demo" / "SKILL.md"
    session.set_text(SKILL_TEXT)
    want = expected(SKILL_TEXT, path, session.encoding)
    assert {w[0] for w in want} >= {"AF022", "AF050"}  # bad enums, the missing scripts/run.sh
    items = await settle(session, session.skill_uri, want)
    assert got(items) == want
    assert all(d.source == "agentflowd" for d in items)

    fixed = SKILL_TEXT.replace("hihg", "high").replace("majorty", "majority")
    session.set_text(fixed)
    want = expected(fixed, path, session.encoding)
    assert "AF022" not in {w[0] for w in want}
    assert got(await settle(session, session.skill_uri, want)) == want


async def test_other_markdown_is_ignored(session: Session) -> None:
    uri = (session.project / "README.md").as_uri()
    session.client.text_document_did_open(
        lsp.DidOpenTextDocumentParams(
            lsp.TextDocumentItem(uri=uri, language_id="markdown", version=1, text="---\nnmae: x\n")
        )
    )
    hover = await session.client.text_document_hover_async(
        lsp.HoverParams(lsp.TextDocumentIdentifier(uri), lsp.Position(1, 1))
    )
    items = await session.client.text_document_completion_async(
        lsp.CompletionParams(lsp.TextDocumentIdentifier(uri), lsp.Position(1, 0))
    )
    assert hover is None and items is None
    if session.pull:
        assert await diagnostics(session, uri) == []
    else:
        # Messages are handled in order: had the server published for README, it would be here.
        assert uri not in session.client.diagnostics


async def test_completion_hover_symbols_links_definition_and_fixes(session: Session) -> None:
    client, uri = session.client, session.skill_uri
    session.set_text(SKILL_TEXT)
    doc = lsp.TextDocumentIdentifier(uri)
    lines = split_lines(SKILL_TEXT)

    async def labels_at(line: int, column: int) -> dict[str, lsp.CompletionItem]:
        result = await client.text_document_completion_async(
            lsp.CompletionParams(
                doc,
                lsp.Position(line, client_units(lines[line], column, session.encoding)),
                context=lsp.CompletionContext(
                    lsp.CompletionTriggerKind.TriggerCharacter, trigger_character=" "
                ),
            )
        )
        return {i.label: i for i in result.items}

    topology = await labels_at(6, 12)
    assert {"mesh", "star", "ring", "hierarchy"} <= set(topology)
    # Agent types come from .claude/agents once the catalog is loaded (it warms up in the background).
    agent_types: dict[str, lsp.CompletionItem] = {}
    for _ in range(100):
        agent_types = await labels_at(9, 10)
        if "security-auditor" in agent_types:
            break
        await asyncio.sleep(0.05)
    assert {"security-auditor", "reviewer", "coder"} <= set(agent_types)

    link_line = 14
    link_col = lines[link_line].index("references/") + len("ref")
    files = await labels_at(link_line, link_col)
    edit = files["references/guide.md"].text_edit
    assert edit.range.start.character == client_units(
        lines[link_line], lines[link_line].index("references/"), session.encoding
    )

    hover = await client.text_document_hover_async(lsp.HoverParams(doc, lsp.Position(7, 4)))
    text = hover.contents if isinstance(hover.contents, str) else hover.contents.value
    assert "coordination.consensus" in text and "majority" in text

    symbols = await client.text_document_document_symbol_async(lsp.DocumentSymbolParams(doc))
    names = [s.name for s in symbols]
    assert names[:3] == ["name", "description", "metadata"] and "Demo 😀" in names

    links = await client.text_document_document_link_async(lsp.DocumentLinkParams(doc))
    [guide] = [link for link in links if link.target.endswith("guide.md")]
    start = lines[link_line].index("references/")
    assert guide.range.start.character == client_units(lines[link_line], start, session.encoding)

    targets = await client.text_document_definition_async(
        lsp.DefinitionParams(doc, lsp.Position(link_line, guide.range.start.character + 1))
    )
    [target] = targets
    assert target.target_uri.endswith("guide.md")  # all three editors accept location links

    effort = lines[4].index("hihg")
    actions = await client.text_document_code_action_async(
        lsp.CodeActionParams(
            doc,
            lsp.Range(lsp.Position(4, effort), lsp.Position(4, effort)),
            lsp.CodeActionContext(diagnostics=[]),
        )
    )
    by_title = {a.title: a for a in actions}
    fix = by_title["Change to `high`"]
    [edit] = fix.edit.changes[uri]
    assert edit.new_text == "high"
    assert edit.range.start == lsp.Position(4, effort)  # ASCII line: same in every encoding
    fix_all = next(a for a in actions if a.kind == "source.fixAll.agentflowd")
    assert {e.new_text for e in fix_all.edit.changes[uri]} >= {"high", "majority"}


async def test_custom_requests_and_socket_share_the_catalog(session: Session) -> None:
    listed = await session.client.protocol.send_request_async("agentflow/listSkills", {})
    names = sorted(s.name for s in listed.skills)
    assert names == ["broken", "demo"]
    socket_names = sorted(s["name"] for s in ipc.call(session.project, "skills.list", {})["skills"])
    assert socket_names == names
    with pytest.raises(Exception, match="prompt"):
        await session.client.protocol.send_request_async("agentflow/matchSkill", {})


async def test_files_changed_on_disk_update_catalog_and_diagnostics(session: Session) -> None:
    new = session.project / ".claude" / "skills" / "added"
    new.mkdir()
    (new / "SKILL.md").write_text("---\nname: added\ndescription: Added on disk.\n---\nBody\n")

    async def names() -> list[str]:
        listed = await session.client.protocol.send_request_async("agentflow/listSkills", {})
        return sorted(s.name for s in listed.skills)

    for _ in range(200):
        if "added" in await names():
            break
        await asyncio.sleep(0.05)
    assert "added" in await names()

    script = session.project / ".claude" / "skills" / "demo" / "scripts"
    script.mkdir()
    (script / "run.sh").write_text("echo ok\n")
    for _ in range(200):
        codes = {d.code for d in await diagnostics(session, session.skill_uri) or []}
        if "AF050" not in codes:
            break
        await asyncio.sleep(0.05)
    assert "AF050" not in codes


async def test_workspace_diagnostics_cover_files_not_open(session: Session) -> None:
    report = await session.client.workspace_diagnostic_async(
        lsp.WorkspaceDiagnosticParams(previous_result_ids=[])
    )
    by_uri = {item.uri: item for item in report.items}
    broken = (session.project / ".claude" / "skills" / "broken" / "SKILL.md").as_uri()
    assert "AF013" in {d.code for d in by_uri[broken].items}  # name differs from the folder
    again = await session.client.workspace_diagnostic_async(
        lsp.WorkspaceDiagnosticParams(
            previous_result_ids=[
                lsp.PreviousResultId(uri=u, value=i.result_id) for u, i in by_uri.items()
            ]
        )
    )
    assert {item.kind for item in again.items} == {"unchanged"}
