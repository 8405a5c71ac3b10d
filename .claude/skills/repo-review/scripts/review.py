"""A `command` agent for the repo-review skill (the engine's contract: task JSON on stdin, answer
JSON on stdout).

- A `work` task names an aspect (secrets, size or markers): the agent checks the files tracked
  by git for it and reports each hit as a finding.
- A `vote` task lists proposals (the findings, or a report of none): the agent re-checks each
  one itself and approves it only if it holds, so a stale or wrong finding is voted down.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ASPECTS = ("secrets", "size", "markers")
LARGE_BYTES = 1_000_000
PATTERNS = {
    "secrets": re.compile(
        r"(AKIA[0-9A-Z]{16}|-----BEGIN [A-Z ]*PRIVATE KEY-----|sk-[A-Za-z0-9]{32,})"
    ),
    "markers": re.compile(r"\b(TODO|FIXME|XXX)\b"),
}


def tracked_files(root: Path) -> list[Path]:
    try:
        out = subprocess.run(
            ["git", "ls-files"], cwd=root, capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return sorted(p for p in root.rglob("*") if p.is_file() and ".git" not in p.parts)
    return [root / line for line in out.splitlines() if line]


def check(aspect: str, root: Path) -> list[dict]:
    findings = []
    for path in tracked_files(root):
        rel = path.relative_to(root).as_posix()
        try:
            if aspect == "size":
                size = path.stat().st_size
                if size > LARGE_BYTES:
                    findings.append(_finding(aspect, rel, None, f"{size} bytes"))
                continue
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if PATTERNS[aspect].search(line):
                findings.append(_finding(aspect, rel, number, line.strip()[:80]))
    return findings


def _finding(aspect: str, rel: str, line: int | None, detail: str) -> dict:
    return {"message": f"{aspect}: {detail}", "file": rel, "line": line, "aspect": aspect}


def holds(finding: dict, root: Path) -> bool:
    """Re-check one finding from scratch."""
    aspect, rel, line = finding.get("aspect"), finding.get("file"), finding.get("line")
    path = root / str(rel)
    try:
        if aspect == "size":
            return path.stat().st_size > LARGE_BYTES
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return False
    pattern = PATTERNS.get(str(aspect))
    return (
        pattern is not None
        and isinstance(line, int)
        and 0 < line <= len(lines)
        and bool(pattern.search(lines[line - 1]))
    )


def repository_root() -> str:
    """The repository around the working directory (the skill folder), or the folder itself."""
    try:
        return subprocess.run(
            ["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "."


def aspect_of(instruction: str) -> str:
    words = instruction.lower()
    return next((a for a in ASPECTS if a in words), "markers")


def main() -> int:
    task = json.loads(sys.stdin.read() or "{}")
    root = Path(task.get("inputs", {}).get("root") or repository_root()).resolve()
    if task.get("kind") == "vote":
        votes = {}
        for proposal in task.get("proposals", []):
            data = proposal.get("data") or {}
            if proposal.get("kind") == "finding":
                votes[proposal["id"]] = "approve" if holds(data, root) else "reject"
            else:
                aspect = aspect_of(proposal.get("text", ""))
                votes[proposal["id"]] = "approve" if not check(aspect, root) else "reject"
        json.dump({"output": f"voted on {len(votes)} proposal(s)", "votes": votes}, sys.stdout)
        return 0
    aspect = aspect_of(task.get("task", ""))
    findings = check(aspect, root)
    json.dump(
        {
            "output": f"{aspect}: no findings"
            if not findings
            else f"{aspect}: {len(findings)} finding(s)",
            "findings": findings[:50],
        },
        sys.stdout,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
