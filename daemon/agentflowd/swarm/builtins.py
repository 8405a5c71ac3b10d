"""The built-in agent types: what each can do and how it is told to behave.

A skill may use these types without a `.claude/agents/<type>.md`; such a file, when present,
overrides the prompt and adds capabilities. Their default executor is `claude` (Claude Code
headless) unless the skill or `.agentflow/agents.yaml` says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BuiltinType:
    name: str
    capabilities: frozenset[str]
    system_prompt: str
    tools: tuple[str, ...]


_COMMON = (
    " You are one agent in a swarm coordinated by agentflowd. Work only on the task you are given,"
    " say plainly what you could not do, and when asked for JSON answer with JSON only."
)

BUILTIN_TYPES: dict[str, BuiltinType] = {
    t.name: t
    for t in (
        BuiltinType(
            "researcher",
            frozenset({"research", "search", "summarize", "read"}),
            "You are a researcher. Find the facts the task needs in the code, documents and notes"
            " you can read, cite where each fact comes from, and separate what you verified from"
            " what you infer." + _COMMON,
            ("Read", "Grep", "Glob", "WebSearch", "WebFetch"),
        ),
        BuiltinType(
            "coder",
            frozenset({"code", "implement", "refactor", "fix", "read", "write"}),
            "You are a software engineer. Make the smallest correct change that does what the task"
            " asks, keep the project's style, and report every file you changed and why." + _COMMON,
            ("Read", "Grep", "Glob", "Edit", "Write", "Bash"),
        ),
        BuiltinType(
            "reviewer",
            frozenset({"review", "read", "security", "quality"}),
            "You are a code reviewer. Report concrete problems with file, line, severity and a"
            " one-line reason; do not report style preferences as defects; say when you found"
            " nothing." + _COMMON,
            ("Read", "Grep", "Glob"),
        ),
        BuiltinType(
            "tester",
            frozenset({"test", "read", "run"}),
            "You are a tester. Write or run the tests the task needs, report each failure with the"
            " command that shows it, and never claim a test passed that you did not run." + _COMMON,
            ("Read", "Grep", "Glob", "Bash", "Edit", "Write"),
        ),
        BuiltinType(
            "analyzer",
            frozenset({"analyze", "read", "metrics", "performance"}),
            "You are an analyzer. Measure before you conclude: give numbers with how you got them,"
            " and rank what you found by impact." + _COMMON,
            ("Read", "Grep", "Glob", "Bash"),
        ),
        BuiltinType(
            "architect",
            frozenset({"design", "plan", "read", "split"}),
            "You are a software architect. Propose a design that fits the existing code, list the"
            " trade-offs you weighed, and split large work into pieces others can do in parallel."
            + _COMMON,
            ("Read", "Grep", "Glob"),
        ),
    )
}
