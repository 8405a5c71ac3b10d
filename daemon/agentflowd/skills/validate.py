"""Findings for a parsed document, in two modes.

Default mode is no stricter than Claude Code: what Claude Code tolerates is a warning, what it
drops or cannot run is an error, and keys of this project's orchestration extension are checked
fully (the swarm engine cannot run a wrong value). `strict` applies the open Agent Skills spec the
way its reference validator (`skills-ref validate`) does.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from typing import Any

import yaml

from agentflowd.skills import codes, resources
from agentflowd.skills.model import (
    Diagnostic,
    Document,
    Fix,
    Severity,
    Span,
    TextEdit,
)
from agentflowd.skills.parse import split_lines
from agentflowd.skills.schema import (
    SchemaKind,
    layer_of,
    load_schema,
    max_length,
    spec_keys,
    top_level_keys,
)

_BROKEN_PARSE = {codes.YAML_SYNTAX, codes.NOT_A_MAPPING, codes.UNCLOSED_FRONTMATTER}
_TOO_LONG = {
    "description": codes.DESCRIPTION_TOO_LONG,
    "compatibility": codes.COMPATIBILITY_TOO_LONG,
}
_STRICT_ERRORS = {codes.UNQUOTED_COLON, codes.DUPLICATE_KEY}
_YAML11_BOOL_WORDS = {"yes", "no", "on", "off", "y", "n"}


def validate_document(doc: Document, *, strict: bool = False) -> list[Diagnostic]:
    diags = list(doc.diagnostics)
    if doc.kind == "other" or any(d.code == codes.UNREADABLE for d in diags):
        return diags
    check = _Check(doc)
    if doc.kind == "skill" and strict:
        # The reference validator's YAML reader rejects what Claude Code forgives here.
        diags = [
            dataclasses.replace(d, severity=Severity.ERROR) if d.code in _STRICT_ERRORS else d
            for d in diags
        ]
        diags.extend(check.strict_skill())
    else:
        diags.extend(check.default(doc.kind))
        if doc.kind == "skill":
            diags.extend(resources.link_diagnostics(doc))
    diags.sort(key=lambda d: (d.span.start, d.code))
    return diags


def has_errors(diags: Iterable[Diagnostic]) -> bool:
    return any(d.severity is Severity.ERROR for d in diags)


@functools.cache
def _validator(kind: SchemaKind) -> Any:
    import jsonschema

    return jsonschema.Draft202012Validator(load_schema(kind))


def _canonical(key: str) -> str:
    return re.sub(r"[-_]", "", key).lower()


def first_paragraph(body: str) -> str:
    """The body's first paragraph of prose (headings, rules and code fences skipped)."""
    para: list[str] = []
    in_fence = False
    for line in body.splitlines():
        stripped = line.strip()
        if stripped.startswith(("```", "~~~")):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        if not stripped or stripped.startswith("#") or re.fullmatch(r"[-*_]{3,}", stripped):
            if para:
                break
            continue
        para.append(stripped)
    return " ".join(para)


def trim_at_sentence(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, at the last sentence end when there is one."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    ends = [m.end() for m in re.finditer(r"[.!?](?=\s|$)", head)]
    return head[: ends[-1]] if ends else head.rstrip()


class _Check:
    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.data = doc.data
        self.lines = split_lines(doc.text)
        self.parse_failed = any(d.code in _BROKEN_PARSE for d in doc.diagnostics)

    # ----- where things are

    def key_span(self, path: tuple[str | int, ...]) -> Span:
        entry = self.doc.spans.get(path)
        if entry is not None and entry.key is not None:
            return entry.key
        return self.value_span(path)

    def value_span(self, path: tuple[str | int, ...]) -> Span:
        for end in range(len(path), -1, -1):
            entry = self.doc.spans.get(path[:end])
            if entry is not None:
                if end == 0:
                    return self.opening_span()
                return entry.value if end == len(path) else (entry.key or entry.value)
        return self.opening_span()

    def opening_span(self) -> Span:
        return Span.at(0, 0, len(self.lines[0]) if self.lines else 0)

    def raw_scalar(self, path: tuple[str | int, ...]) -> str | None:
        """The source text of a one-line plain scalar, as a string-only YAML reader would see it."""
        value = self.data.get(path[0]) if len(path) == 1 else None
        if isinstance(value, str):
            return value
        entry = self.doc.spans.get(path)
        if entry is None or entry.value.start.line != entry.value.end.line:
            return None if value is None else str(value)
        span = entry.value
        return self.lines[span.start.line][span.start.character : span.end.character]

    def folder_name(self) -> str | None:
        return self.doc.path.parent.name if self.doc.path is not None else None

    # ----- strict: the Agent Skills reference validator's rules

    def strict_skill(self) -> Iterator[Diagnostic]:
        err = Severity.ERROR
        if not self.doc.has_frontmatter:
            if not self.parse_failed:
                yield Diagnostic(
                    codes.NO_FRONTMATTER,
                    err,
                    "SKILL.md must start with YAML front-matter between `---` lines",
                    Span.at(0),
                )
            return
        if self.parse_failed:
            return
        for key in self.data:
            if key not in spec_keys():
                yield Diagnostic(
                    codes.UNKNOWN_KEY,
                    err,
                    f"unexpected field `{key}`: the Agent Skills spec allows only "
                    + ", ".join(spec_keys()),
                    self.key_span((key,)),
                )
        name = self.raw_scalar(("name",)) if "name" in self.data else None
        if name is None:
            yield Diagnostic(
                codes.MISSING_NAME, err, "missing required field `name`", self.opening_span()
            )
        else:
            yield from self._strict_name(unicodedata.normalize("NFKC", name).strip())
        description = self.raw_scalar(("description",)) if "description" in self.data else None
        if description is None:
            yield Diagnostic(
                codes.MISSING_DESCRIPTION,
                err,
                "missing required field `description`",
                self.opening_span(),
            )
        elif not description.strip():
            yield Diagnostic(
                codes.EMPTY_VALUE,
                err,
                "`description` must not be empty",
                self.value_span(("description",)),
            )
        elif len(description) > max_length("description"):
            yield self._too_long("description", description, _TOO_LONG["description"], err)
        if "compatibility" in self.data:
            compat = self.raw_scalar(("compatibility",)) or ""
            if len(compat) > max_length("compatibility"):
                yield self._too_long("compatibility", compat, _TOO_LONG["compatibility"], err)
        if "metadata" in self.data and not isinstance(self.data["metadata"], dict):
            yield Diagnostic(
                codes.WRONG_TYPE,
                err,
                "`metadata` must be a mapping of keys to values",
                self.value_span(("metadata",)),
            )

    def _strict_name(self, name: str) -> Iterator[Diagnostic]:
        span = self.value_span(("name",))
        problems = []
        if not name:
            problems.append("`name` must not be empty")
        if len(name) > 64:
            problems.append(f"`name` has {len(name)} characters; the limit is 64")
        if name != name.lower():
            problems.append(f"`name` `{name}` must be lowercase")
        if name.startswith("-") or name.endswith("-"):
            problems.append("`name` must not start or end with a hyphen")
        if "--" in name:
            problems.append("`name` must not contain consecutive hyphens")
        if name and not all(ch.isalnum() or ch == "-" for ch in name):
            problems.append("`name` may contain only letters, digits and hyphens")
        for problem in problems:
            yield Diagnostic(codes.INVALID_NAME, Severity.ERROR, problem, span)
        folder = self.folder_name()
        if name and folder is not None and unicodedata.normalize("NFKC", folder) != name:
            yield self._name_mismatch(name, folder, Severity.ERROR)

    # ----- default: what Claude Code accepts, plus the orchestration extension

    def default(self, kind: SchemaKind) -> Iterator[Diagnostic]:
        if self.parse_failed:
            return
        yield from self._missing(kind)
        known = top_level_keys(kind)
        by_canonical = {_canonical(k): k for k in known}
        for key in self.data:
            if key in known:
                continue
            canonical = by_canonical.get(_canonical(key))
            span = self.key_span((key,))
            if canonical is not None:
                yield Diagnostic(
                    codes.NONCANONICAL_KEY,
                    Severity.INFO,
                    f"`{key}` is read as `{canonical}`; write `{canonical}`",
                    span,
                    Fix(f"Rename to `{canonical}`", (TextEdit(span, canonical),)),
                )
            else:
                yield self._unknown_key(key, span, list(known))
        yield from self._schema(kind)
        if kind == "skill":
            yield from self._skill_name()
            yield from self._body_length()

    def _missing(self, kind: SchemaKind) -> Iterator[Diagnostic]:
        doc = self.doc
        folder = self.folder_name() or "skill"
        if kind == "command":
            return
        if kind == "agent":
            for key in ("name", "description"):
                if key not in self.data:
                    yield Diagnostic(
                        codes.MISSING_NAME if key == "name" else codes.MISSING_DESCRIPTION,
                        Severity.ERROR,
                        f"missing `{key}`: Claude Code skips sub-agents without one",
                        self.opening_span(),
                    )
            return
        if not doc.has_frontmatter:
            fallback = first_paragraph(doc.body)
            block = "---\n" + f"name: {folder}\n"
            if fallback:
                block += (
                    "description: "
                    + json.dumps(trim_at_sentence(fallback, max_length("description")))
                    + "\n"
                )
            block += "---\n"
            yield Diagnostic(
                codes.NO_FRONTMATTER,
                Severity.WARNING,
                "no front-matter: Claude Code names the skill after its folder"
                + (" and uses the body's first paragraph as its description" if fallback else ""),
                Span.at(0),
                Fix("Add front-matter", (TextEdit(Span.at(0), block),)),
            )
            return
        insert_at = Span.at(1)
        if "name" not in self.data:
            yield Diagnostic(
                codes.MISSING_NAME,
                Severity.WARNING,
                f"no `name`: Claude Code uses the folder name `{folder}`",
                self.opening_span(),
                Fix(f"Add `name: {folder}`", (TextEdit(insert_at, f"name: {folder}\n"),)),
            )
        if "description" not in self.data:
            fallback = first_paragraph(doc.body)
            if fallback:
                shown = fallback if len(fallback) <= 80 else fallback[:77] + "..."
                yield Diagnostic(
                    codes.MISSING_DESCRIPTION,
                    Severity.WARNING,
                    f'no `description`: Claude Code uses the body\'s first paragraph: "{shown}"',
                    self.opening_span(),
                    Fix(
                        "Add the first paragraph as `description`",
                        (
                            TextEdit(
                                insert_at,
                                "description: "
                                + json.dumps(
                                    trim_at_sentence(fallback, max_length("description")),
                                    ensure_ascii=False,
                                )
                                + "\n",
                            ),
                        ),
                    ),
                )
            else:
                yield Diagnostic(
                    codes.MISSING_DESCRIPTION,
                    Severity.WARNING,
                    "no `description` and no body text: Claude cannot tell when to use this skill",
                    self.opening_span(),
                )

    def _unknown_key(self, key: str, span: Span, known: list[str]) -> Diagnostic:
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.7)
        if not close:
            return Diagnostic(
                codes.UNKNOWN_KEY, Severity.WARNING, f"unknown key `{key}` (ignored)", span
            )
        return Diagnostic(
            codes.UNKNOWN_KEY,
            Severity.WARNING,
            f"unknown key `{key}` (ignored); did you mean `{close[0]}`?",
            span,
            Fix(f"Rename to `{close[0]}`", (TextEdit(span, close[0]),)),
        )

    def _skill_name(self) -> Iterator[Diagnostic]:
        name = self.data.get("name")
        folder = self.folder_name()
        if isinstance(name, str) and folder is not None and name and name != folder:
            yield self._name_mismatch(name, folder, Severity.WARNING)

    def _name_mismatch(self, name: str, folder: str, severity: Severity) -> Diagnostic:
        span = self.value_span(("name",))
        return Diagnostic(
            codes.NAME_MISMATCH,
            severity,
            f"`name` `{name}` differs from the folder name `{folder}`"
            + (
                ""
                if severity is Severity.ERROR
                else "; Claude Code invokes it as `/" + folder + "`"
            ),
            span,
            Fix(f"Set `name` to `{folder}`", (TextEdit(span, folder),)),
        )

    def _body_length(self) -> Iterator[Diagnostic]:
        body_lines = self.doc.body.count("\n") + 1
        if body_lines > 500:
            yield Diagnostic(
                codes.BODY_TOO_LONG,
                Severity.INFO,
                f"body has {body_lines} lines; keep SKILL.md under 500 and move detail to "
                "references/ (it is loaded whole on activation)",
                Span.at(self.doc.body_line),
            )

    def _too_long(self, key: str, text: str, code: str, severity: Severity) -> Diagnostic:
        span = self.value_span((key,))
        limit = max_length(key)
        trimmed = trim_at_sentence(text, limit)
        return Diagnostic(
            code,
            severity,
            f"`{key}` has {len(text)} characters; the limit is {limit}",
            span,
            Fix(
                f"Trim `{key}` to {len(trimmed)} characters at a sentence end",
                (TextEdit(span, json.dumps(trimmed, ensure_ascii=False)),),
            ),
        )

    # ----- JSON Schema

    def _schema(self, kind: SchemaKind) -> Iterator[Diagnostic]:
        for error in _validator(kind).iter_errors(dict(self.data)):
            path = tuple(error.absolute_path)
            if not path and error.validator == "required":
                continue  # missing name/description are reported above with fallbacks
            top = path[0] if path else None
            layer = layer_of(kind, top) if isinstance(top, str) else None
            severity = Severity.ERROR if layer == "agentflow" else Severity.WARNING
            yield from self._schema_error(error, path, severity)

    def _schema_error(
        self, error: Any, path: tuple[str | int, ...], severity: Severity
    ) -> Iterator[Diagnostic]:
        where = ".".join(str(p) for p in path) or "front-matter"
        validator = error.validator
        if validator == "additionalProperties":
            allowed = list(error.schema.get("properties", {}))
            for key in error.instance:
                if key not in allowed:
                    yield self._unknown_key(key, self.key_span((*path, key)), allowed)
            return
        span = self.value_span(path)
        if validator == "required":
            missing = [k for k in error.validator_value if k not in error.instance]
            yield Diagnostic(
                codes.INVALID_VALUE,
                severity,
                f"`{where}` needs " + ", ".join(f"`{k}`" for k in missing),
                span,
            )
            return
        if validator == "type" and (trap := self._yaml_trap(path, error)) is not None:
            yield trap
            return
        if validator == "enum":
            yield self._enum(error, path, where, span, severity)
            return
        if validator == "maxLength" and path and path[0] in _TOO_LONG:
            yield self._too_long(str(path[0]), error.instance, _TOO_LONG[path[0]], severity)
            return
        if path == ("name",) and validator in ("pattern", "maxLength", "minLength"):
            yield Diagnostic(
                codes.INVALID_NAME,
                severity,
                f"`name` `{error.instance}` should be 1-64 lowercase letters, digits and single "
                "hyphens, with no hyphen at either end",
                span,
            )
            return
        if validator == "minLength" and error.validator_value == 1:
            yield Diagnostic(codes.EMPTY_VALUE, severity, f"`{where}` must not be empty", span)
            return
        code = codes.WRONG_TYPE if validator in ("type", "oneOf") else codes.INVALID_VALUE
        yield Diagnostic(code, severity, f"`{where}`: {_explain(error)}", span)

    def _enum(
        self, error: Any, path: tuple[str | int, ...], where: str, span: Span, severity: Severity
    ) -> Diagnostic:
        allowed = [str(v) for v in error.validator_value]
        message = f"`{where}` must be one of " + ", ".join(allowed) + f"; got `{error.instance}`"
        close = difflib.get_close_matches(str(error.instance), allowed, n=1, cutoff=0.5)
        if not close:
            return Diagnostic(codes.INVALID_ENUM, severity, message, span)
        return Diagnostic(
            codes.INVALID_ENUM,
            severity,
            message + f"; did you mean `{close[0]}`?",
            span,
            Fix(f"Change to `{close[0]}`", (TextEdit(span, close[0]),)),
        )

    def _yaml_trap(self, path: tuple[str | int, ...], error: Any) -> Diagnostic | None:
        """A plain scalar that YAML 1.1 turned into a number or boolean where text was meant."""
        expected = error.validator_value
        expected = expected if isinstance(expected, list) else [expected]
        if "string" not in expected:
            return None
        entry = self.doc.spans.get(path)
        if entry is None or entry.value.start.line != entry.value.end.line:
            return None
        span = entry.value
        raw = self.lines[span.start.line][span.start.character : span.end.character]
        value = error.instance
        if isinstance(value, bool) or value is None:
            if raw.lower() not in _YAML11_BOOL_WORDS | {"true", "false", "null", "~"}:
                return None
            code, read_as = codes.YAML_BOOLEAN_TRAP, json.dumps(value)
        elif isinstance(value, int | float):
            code, read_as = codes.YAML_NUMBER_TRAP, f"the number {value!r}"
        else:
            return None
        where = ".".join(str(p) for p in path)
        return Diagnostic(
            code,
            Severity.WARNING,
            f"YAML reads `{raw}` in `{where}` as {read_as}, not the text `{raw}`; quote it",
            span,
            Fix(f'Quote as "{raw}"', (TextEdit(span, json.dumps(raw)),)),
        )


def _explain(error: Any) -> str:
    if error.validator == "oneOf":
        options = error.validator_value
        if any("pattern" in o for o in options):
            return (
                f"`{error.instance}` is not a duration (write a number and a unit: 300s, 5m, 24h)"
            )
        kinds = [o.get("type") for o in options if "type" in o]
        return "expected " + " or ".join(_type_name(k) for k in kinds)
    if error.validator == "type":
        return f"expected {_type_name(error.validator_value)}, got {_describe(error.instance)}"
    if error.validator in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
        return error.message
    if error.validator == "pattern":
        return f"`{error.instance}` does not match the expected form ({error.validator_value})"
    return error.message


def _type_name(kind: Any) -> str:
    if isinstance(kind, list):
        return " or ".join(_type_name(k) for k in kind)
    return {"array": "a list", "object": "a mapping", "integer": "an integer"}.get(
        kind, f"a {kind}"
    )


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"the boolean {json.dumps(value)}"
    if value is None:
        return "nothing (null)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"`{yaml.safe_dump(value).strip().removesuffix('...').strip()}`"
