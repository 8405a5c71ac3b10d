"""Core and editing results to lsprotocol types, in the client's position encoding and within the
client's declared capabilities (markdown or plain text, hierarchical symbols, location links)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from lsprotocol import types as lsp
from pygls.capabilities import get_capability
from pygls.uris import from_fs_path

from agentflowd.editing.model import CompletionItem, Hover, LinkTarget, QuickFix, Symbol
from agentflowd.editing.positions import LineIndex
from agentflowd.skills.model import Diagnostic, Span, TextEdit

SOURCE = "agentflowd"
FIX_ALL_KIND = f"{lsp.CodeActionKind.SourceFixAll.value}.agentflowd"

_ITEM_KINDS = {
    "key": lsp.CompletionItemKind.Property,
    "value": lsp.CompletionItemKind.Value,
    "enum": lsp.CompletionItemKind.EnumMember,
    "agent": lsp.CompletionItemKind.Class,
    "capability": lsp.CompletionItemKind.Keyword,
    "duration": lsp.CompletionItemKind.Constant,
    "file": lsp.CompletionItemKind.File,
    "keyword": lsp.CompletionItemKind.Keyword,
}
_SYMBOL_KINDS = {
    "key": (lsp.SymbolKind.Property, lsp.SymbolKind.Property),
    "item": (lsp.SymbolKind.Object, lsp.SymbolKind.Array),  # (preferred, within LSP's default set)
    "heading": (lsp.SymbolKind.String, lsp.SymbolKind.String),
}


def uri_for(path: Path) -> str:
    return from_fs_path(str(path)) or path.as_uri()


def range_(index: LineIndex, span: Span) -> lsp.Range:
    (sl, sc), (el, ec) = index.span_to_client(span)
    return lsp.Range(lsp.Position(sl, sc), lsp.Position(el, ec))


def diagnostic(index: LineIndex, diag: Diagnostic) -> lsp.Diagnostic:
    return lsp.Diagnostic(
        range=range_(index, diag.span),
        message=diag.message,
        severity=lsp.DiagnosticSeverity(int(diag.severity)),
        code=diag.code,
        source=SOURCE,
    )


def text_edit(index: LineIndex, edit: TextEdit) -> lsp.TextEdit:
    return lsp.TextEdit(range=range_(index, edit.span), new_text=edit.new_text)


def _markup(caps: lsp.ClientCapabilities, path: str, text: str) -> lsp.MarkupContent | str:
    """Markdown where the client renders it; a bare string (always allowed) where it names no
    format at all."""
    formats = get_capability(caps, path, None) or []
    if lsp.MarkupKind.Markdown in formats:
        return lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=text)
    if lsp.MarkupKind.PlainText in formats:
        return lsp.MarkupContent(kind=lsp.MarkupKind.PlainText, value=text)
    return text


def completion_list(
    index: LineIndex, items: Sequence[CompletionItem], caps: lsp.ClientCapabilities
) -> lsp.CompletionList:
    modes = get_capability(
        caps, "text_document.completion.completion_item.insert_text_mode_support.value_set", None
    )
    as_is = lsp.InsertTextMode.AsIs if modes and lsp.InsertTextMode.AsIs in modes else None
    out = []
    for item in items:
        multi_line = "\n" in item.insert_text
        out.append(
            lsp.CompletionItem(
                label=item.label,
                kind=_ITEM_KINDS[item.kind],
                detail=item.detail or None,
                documentation=_markup(
                    caps,
                    "text_document.completion.completion_item.documentation_format",
                    item.documentation,
                )
                if item.documentation
                else None,
                sort_text=item.sort_text,
                filter_text=item.label,
                text_edit=lsp.TextEdit(
                    range=range_(index, item.replace), new_text=item.insert_text
                ),
                insert_text_format=lsp.InsertTextFormat.PlainText,
                insert_text_mode=as_is if multi_line else None,
            )
        )
    return lsp.CompletionList(is_incomplete=False, items=out)


def hover(index: LineIndex, result: Hover, caps: lsp.ClientCapabilities) -> lsp.Hover:
    return lsp.Hover(
        contents=_markup(caps, "text_document.hover.content_format", result.markdown),
        range=range_(index, result.span),
    )


def document_symbols(
    index: LineIndex, symbols: Sequence[Symbol], caps: lsp.ClientCapabilities, uri: str
) -> list[lsp.DocumentSymbol] | list[lsp.SymbolInformation]:
    supported = get_capability(caps, "text_document.document_symbol.symbol_kind.value_set", None)

    def kind(symbol: Symbol) -> lsp.SymbolKind:
        preferred, fallback = _SYMBOL_KINDS[symbol.kind]
        if supported is None:
            return fallback if preferred > lsp.SymbolKind.Array else preferred
        return preferred if preferred in supported else fallback

    if get_capability(
        caps, "text_document.document_symbol.hierarchical_document_symbol_support", False
    ):

        def tree(symbol: Symbol) -> lsp.DocumentSymbol:
            return lsp.DocumentSymbol(
                name=symbol.name,
                kind=kind(symbol),
                range=range_(index, symbol.span),
                selection_range=range_(index, symbol.selection),
                detail=symbol.detail or None,
                children=[tree(c) for c in symbol.children] or None,
            )

        return [tree(s) for s in symbols]
    flat: list[lsp.SymbolInformation] = []

    def walk(symbol: Symbol, container: str | None) -> None:
        flat.append(
            lsp.SymbolInformation(
                name=symbol.name,
                kind=kind(symbol),
                location=lsp.Location(uri=uri, range=range_(index, symbol.span)),
                container_name=container,
            )
        )
        for child in symbol.children:
            walk(child, symbol.name)

    for symbol in symbols:
        walk(symbol, None)
    return flat


def document_links(
    index: LineIndex, links: Sequence[LinkTarget], caps: lsp.ClientCapabilities
) -> list[lsp.DocumentLink]:
    tooltips = get_capability(caps, "text_document.document_link.tooltip_support", False)
    return [
        lsp.DocumentLink(
            range=range_(index, link.span),
            target=uri_for(link.target),
            tooltip=str(link.target) if tooltips else None,
        )
        for link in links
    ]


def definitions(
    index: LineIndex, targets: Sequence[LinkTarget], caps: lsp.ClientCapabilities
) -> list[lsp.Location] | list[lsp.LocationLink]:
    top = lsp.Range(lsp.Position(0, 0), lsp.Position(0, 0))
    if get_capability(caps, "text_document.definition.link_support", False):
        return [
            lsp.LocationLink(
                target_uri=uri_for(t.target),
                target_range=top,
                target_selection_range=top,
                origin_selection_range=range_(index, t.span),
            )
            for t in targets
        ]
    return [lsp.Location(uri=uri_for(t.target), range=top) for t in targets]


def quick_fix(index: LineIndex, fix: QuickFix, uri: str) -> lsp.CodeAction:
    return lsp.CodeAction(
        title=fix.title,
        kind=lsp.CodeActionKind.QuickFix,
        diagnostics=[diagnostic(index, fix.diagnostic)],
        edit=lsp.WorkspaceEdit(changes={uri: [text_edit(index, e) for e in fix.edits]}),
        is_preferred=fix.preferred,
    )


def fix_all(index: LineIndex, edits: Sequence[TextEdit], uri: str, count: int) -> lsp.CodeAction:
    return lsp.CodeAction(
        title=f"Fix all {count} mechanical findings (agentflowd)",
        kind=FIX_ALL_KIND,
        edit=lsp.WorkspaceEdit(changes={uri: [text_edit(index, e) for e in edits]}),
    )
