"""Code actions: every finding that carries a mechanical fix becomes a quick fix, and one action
applies all of a file's fixes that do not overlap."""

from __future__ import annotations

from collections.abc import Iterable

from agentflowd.editing.model import QuickFix
from agentflowd.skills.model import Diagnostic, Span, TextEdit


def quick_fixes(diagnostics: Iterable[Diagnostic], span: Span) -> list[QuickFix]:
    """A quick fix for each fixable finding whose range touches `span`."""
    return [
        QuickFix(d.fix.title, d, d.fix.edits, preferred=True)
        for d in diagnostics
        if d.fix is not None and _touches(d.span, span)
    ]


def fix_all(diagnostics: Iterable[Diagnostic]) -> tuple[TextEdit, ...]:
    """Edits of every fix, skipping a fix any of whose edits overlaps one already taken."""
    taken: list[TextEdit] = []
    for diag in diagnostics:
        if diag.fix is None:
            continue
        if any(_overlaps(e.span, t.span) for e in diag.fix.edits for t in taken):
            continue
        taken.extend(diag.fix.edits)
    return tuple(taken)


def _touches(a: Span, b: Span) -> bool:
    return a.start <= b.end and b.start <= a.end


def _overlaps(a: Span, b: Span) -> bool:
    # Strict: two insertions at one point, or an insertion at a replacement's edge, both apply.
    return a.start < b.end and b.start < a.end
