"""A command agent: reads its task (JSON) on stdin, reviews tracked files, answers JSON on stdout.

The agent's index (0, 1, 2...) picks the aspect it checks, so three agents cover three aspects.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ASPECTS = ("secrets", "size", "markers")
SECRET = re.compile(r"(AKIA[0-9A-Z]{16}|-----BEGIN [A-Z ]*PRIVATE KEY-----|sk-[A-Za-z0-9]{32,})")
MARKER = re.compile(r"\b(TODO|FIXME|XXX)\b")


def tracked_files(root: Path) -> list[Path]:
    try:
        out = subprocess.run(
            ["git", "ls-files"], cwd=root, capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return [p for p in root.rglob("*") if p.is_file() and ".git" not in p.parts]
    return [root / line for line in out.splitlines() if line]


def review(aspect: str, root: Path) -> list[str]:
    findings = []
    for path in tracked_files(root):
        try:
            if aspect == "size":
                if path.stat().st_size > 1_000_000:
                    findings.append(f"{path.relative_to(root)} is larger than 1 MB")
                continue
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        pattern = SECRET if aspect == "secrets" else MARKER
        for number, line in enumerate(text.splitlines(), 1):
            if pattern.search(line):
                findings.append(f"{path.relative_to(root)}:{number}: {aspect}")
    return findings


def main() -> int:
    task = json.loads(sys.stdin.read() or "{}")
    index = int(task.get("agent_index", 0))
    aspect = ASPECTS[index % len(ASPECTS)]
    root = Path(task.get("inputs", {}).get("root", ".")).resolve()
    findings = review(aspect, root)
    json.dump(
        {
            "output": f"{aspect}: {len(findings)} finding(s)",
            "findings": findings[:50],
            "vote": "ready" if not findings or aspect == "markers" else "not-ready",
            "confidence": 0.9,
        },
        sys.stdout,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
