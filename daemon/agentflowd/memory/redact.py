"""Finding secrets in text before it is stored: API keys, tokens, private keys, passwords in URLs.

Every match is replaced by `[REDACTED:<kind>]`; the caller gets back which kinds were found and how
often, never the secret itself. Patterns favour precision: a memory value that merely mentions
"token" is left alone, a value carrying one is not.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "private-key",
        re.compile(
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----.*?"
            r"(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|\Z)",
            re.DOTALL,
        ),
    ),
    ("anthropic-key", re.compile(r"\bsk-ant-[A-Za-z0-9_\-]{20,}")),
    ("openai-key", re.compile(r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}")),
    ("github-token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})")),
    ("gitlab-token", re.compile(r"\bglpat-[A-Za-z0-9_\-]{20,}")),
    ("aws-access-key-id", re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b")),
    ("google-api-key", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}")),
    ("slack-token", re.compile(r"\bxox[abposr]-[A-Za-z0-9\-]{10,}")),
    ("stripe-key", re.compile(r"\b(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,}")),
    ("npm-token", re.compile(r"\bnpm_[A-Za-z0-9]{36}\b")),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}")),
    ("bearer-token", re.compile(r"(?i)(?<=\bbearer )[A-Za-z0-9._~+/\-]{20,}=*")),
    ("url-password", re.compile(r"(?<=://)[^/\s:@]+:[^/\s@]+(?=@)")),
    (
        "assigned-secret",
        # `password = hunter22`, `"api_key": "..."`, `GITHUB_TOKEN=...`: the value only. The secret
        # word must end the name, so `max_tokens = 4096` or `token_count: 12` are left alone.
        re.compile(
            r"(?i)\b[A-Za-z0-9_.\-]*?"
            r"(?:api[_\-]?key|secret(?:[_\-]?key)?|passw(?:or)?d|passwd|token|access[_\-]?key"
            r"|private[_\-]?key|auth[_\-]?key)\b"
            r"[\"']?\s*[:=]\s*[\"']?"
            r"(?P<value>(?!\d+\b)[^\s\"',;]{8,})"
        ),
    ),
)

# Substrings every match of a pattern must contain (checked on the text, or on its lowercase form
# for case-insensitive patterns). Most stored values contain none of them, and a substring test
# costs far less than a regex scan: this keeps bulk imports fast.
_NEEDLES: dict[str, tuple[tuple[str, ...], bool]] = {
    "private-key": (("PRIVATE KEY",), False),
    "anthropic-key": (("sk-ant-",), False),
    "openai-key": (("sk-",), False),
    "github-token": (("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"), False),
    "gitlab-token": (("glpat-",), False),
    "aws-access-key-id": (("AKIA", "ASIA", "AGPA", "AIDA", "AROA"), False),
    "google-api-key": (("AIza",), False),
    "slack-token": (("xox",), False),
    "stripe-key": (("_live_", "_test_"), False),
    "npm-token": (("npm_",), False),
    "jwt": (("eyJ",), False),
    "bearer-token": (("bearer ",), True),
    "url-password": (("://",), False),
    "assigned-secret": (("key", "secret", "passw", "token"), True),
}

_TRIGGER_CASED = re.compile(
    "|".join(re.escape(n) for needles, folded in _NEEDLES.values() if not folded for n in needles)
)
_TRIGGER_FOLDED = re.compile(
    "|".join(re.escape(n) for needles, folded in _NEEDLES.values() if folded for n in needles),
    re.IGNORECASE,
)

_PLACEHOLDER = re.compile(r"\[REDACTED:[a-z0-9\-]+\]")


@dataclass(frozen=True)
class Redaction:
    kind: str
    count: int

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "count": self.count}


def redact_text(text: str) -> tuple[str, Counter[str]]:
    """`text` with secrets replaced, and how many of each kind were replaced."""
    found: Counter[str] = Counter()
    if not _TRIGGER_CASED.search(text) and not _TRIGGER_FOLDED.search(text):
        return text, found
    lower = text.lower()
    for kind, pattern in _PATTERNS:
        needles, folded = _NEEDLES[kind]
        haystack = lower if folded else text
        if any(needle in haystack for needle in needles):
            text = _sub(kind, pattern, text, found)
            lower = text.lower()
    return text, found


def _sub(kind: str, pattern: re.Pattern[str], text: str, found: Counter[str]) -> str:
    def replace(match: re.Match[str]) -> str:
        if "value" in pattern.groupindex:
            value = match.group("value")
            if _PLACEHOLDER.fullmatch(value) or _PLACEHOLDER.match(value):
                return match.group(0)
            found[kind] += 1
            start = match.start("value") - match.start()
            return match.group(0)[:start] + f"[REDACTED:{kind}]"
        found[kind] += 1
        return f"[REDACTED:{kind}]"

    return pattern.sub(replace, text)


def redact_json(value: Any) -> tuple[Any, Counter[str]]:
    """A JSON value with every string inside it (not object keys) redacted."""
    found: Counter[str] = Counter()

    def walk(node: Any) -> Any:
        if isinstance(node, str):
            clean, hits = redact_text(node)
            found.update(hits)
            return clean
        if isinstance(node, list):
            return [walk(item) for item in node]
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items()}
        return node

    return walk(value), found


def summarise(found: Counter[str]) -> tuple[Redaction, ...]:
    return tuple(Redaction(kind, count) for kind, count in sorted(found.items()))
