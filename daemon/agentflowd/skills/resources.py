"""Level 3 of progressive disclosure: a skill's bundled files and the links in its body."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from agentflowd.skills import codes
from agentflowd.skills.model import Diagnostic, Document, Severity, Span

RESOURCE_DIRS = ("scripts", "references", "assets")
MAX_LISTED = 500

_LINK = re.compile(r"!?\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


@dataclass(frozen=True)
class Link:
    target: str
    span: Span
    resolved: Path | None  # None for external links (URLs, anchors)
    exists: bool
    escapes: bool


def body_links(doc: Document) -> list[Link]:
    """Markdown links and images in the body, outside code fences, resolved against the folder."""
    folder = doc.path.parent.resolve() if doc.path is not None else None
    links: list[Link] = []
    in_fence = False
    for offset, line in enumerate(doc.body.split("\n")):
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        for match in _LINK.finditer(line):
            target = match.group(1)
            span = Span.at(doc.body_line + offset, match.start(1), match.end(1))
            links.append(_resolve(target, span, folder))
    return links


def _resolve(target: str, span: Span, folder: Path | None) -> Link:
    if folder is None or _SCHEME.match(target) or target.startswith(("#", "//")):
        return Link(target, span, None, True, False)
    relative = unquote(target.split("#", 1)[0].split("?", 1)[0])
    if not relative:
        return Link(target, span, None, True, False)
    resolved = Path(os.path.normpath(folder / relative))
    escapes = relative.startswith("/") or not resolved.is_relative_to(folder)
    return Link(target, span, resolved, resolved.exists(), escapes)


def link_diagnostics(doc: Document) -> Iterator[Diagnostic]:
    for link in body_links(doc):
        if link.resolved is None:
            continue
        if link.escapes:
            yield Diagnostic(
                codes.LINK_ESCAPES,
                Severity.WARNING,
                f"link `{link.target}` points outside the skill folder; it will not be packaged "
                "with the skill",
                link.span,
            )
        elif not link.exists:
            yield Diagnostic(
                codes.BROKEN_LINK,
                Severity.WARNING,
                f"link `{link.target}` does not resolve to a file in the skill folder",
                link.span,
            )


def bundled_files(folder: Path) -> dict[str, list[str]]:
    """Files under scripts/, references/ and assets/, relative to the skill folder."""
    out: dict[str, list[str]] = {}
    for name in RESOURCE_DIRS:
        root = folder / name
        if not root.is_dir():
            continue
        found: list[str] = []
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for filename in sorted(filenames):
                found.append((Path(dirpath) / filename).relative_to(folder).as_posix())
                if len(found) >= MAX_LISTED:
                    break
        out[name] = found
    return out
