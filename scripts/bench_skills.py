"""Benchmarks for the skills layer. Prints numbers; asserts nothing (targets are in the comments).

  .venv/bin/python scripts/bench_skills.py

- `agentflowd --version` within 50 ms of bare `python -c pass`
- `agentflowd skills list` over 100 skills under 150 ms
- validating 1,000 skills in one process under 1 s
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SKILL = """---
name: {name}
description: Skill number {i}. Reviews code, runs tests and writes reports for module {i}. Use when the user mentions module {i}.
version: "1.{i}"
triggers: ["check module {i}", "review module {i}"]
agents:
  - type: reviewer
    count: 2
    capabilities: [review]
coordination: {{topology: mesh, consensus: majority, timeout: 300s}}
execution: {{parallel: true, max_concurrent: 4, retry_policy: {{max_attempts: 3, backoff: exponential}}}}
---
# Skill {i}

Body text with a [link](references/notes.md).
"""


def make_project(root: Path, count: int) -> None:
    for i in range(count):
        name = f"skill-{i:04d}"
        folder = root / ".claude" / "skills" / name
        folder.mkdir(parents=True)
        (folder / "SKILL.md").write_text(SKILL.format(name=name, i=i))


def wall(argv: list[str], cwd: Path | None = None, runs: int = 15) -> float:
    env = {**os.environ, "HOME": tempfile.mkdtemp()}
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, cwd=cwd, env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    exe = str(Path(sys.executable).with_name("agentflowd"))
    bare = wall([sys.executable, "-c", "pass"])
    version = wall([exe, "--version"])
    print(f"python -c pass            {bare:7.1f} ms (median of 15)")
    print(f"agentflowd --version      {version:7.1f} ms  (+{version - bare:.1f} ms; target +50)")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_project(root, 100)
        listed = wall([exe, "skills", "list"], cwd=root)
        print(f"skills list, 100 skills   {listed:7.1f} ms  (target 150)")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_project(root, 1000)
        from agentflowd.skills import files
        from agentflowd.skills.parse import load_document
        from agentflowd.skills.validate import validate_document

        validate_document(load_document(next(iter(files.expand([root])))))  # warm imports
        start = time.perf_counter()
        paths = files.expand([root])
        findings = sum(len(validate_document(load_document(p))) for p in paths)
        elapsed = time.perf_counter() - start
        print(
            f"validate 1,000 skills     {elapsed * 1000:7.1f} ms in-process "
            f"({len(paths)} files, {findings} findings; target 1000)"
        )
        cli = wall([exe, "skills", "validate", str(root)], runs=3)
        print(f"skills validate CLI, 1,000 {cli:6.1f} ms end to end (imports included)")


if __name__ == "__main__":
    main()
