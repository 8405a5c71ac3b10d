#!/usr/bin/env python3
"""Speed of skill matching (issue 4 targets in brackets).

    .venv/bin/python scripts/bench_match.py

Prints: embedder load time [<= 1 s] (and the exemplar bank's), one short prompt embedded, p50
on one core [<= 20 ms], a warm match against 100 cached skills, p50 [<= 25 ms], and
`skills match --batch` of 1,000 prompts end to end [<= 10 s]. Skills and prompts come from the
scored case files in tests/match and, when present, the shared development set.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.projects import CASE_FILES, DEV_CASES, case_catalog, write_project  # noqa: E402

if DEV_CASES.is_file():
    CASE_FILES = (*CASE_FILES, DEV_CASES)


def p50_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def load_time() -> tuple[float, float, float]:
    code = (
        "import time; t0 = time.perf_counter(); import numpy, onnxruntime, tokenizers; "
        "t1 = time.perf_counter(); from agentflowd.embed import get_embedder; get_embedder(); "
        "t2 = time.perf_counter(); from agentflowd.match.exemplars import load_bank; "
        "load_bank(); t3 = time.perf_counter(); print(t1 - t0, t2 - t1, t3 - t2)"
    )
    runs = []
    for _ in range(3):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        runs.append(tuple(float(x) for x in out.stdout.split()))
    return min(r[0] for r in runs), min(r[1] for r in runs), min(r[2] for r in runs)


def main() -> int:
    from agentflowd.embed import THREADS_ENV

    os.environ.setdefault(THREADS_ENV, "1")
    imports, load, bank = load_time()
    print(f"embedder load (model + tokenizer, after imports): {load:.3f} s   [<= 1 s]")
    print(f"  imports of numpy + onnxruntime + tokenizers:    {imports:.3f} s")
    print(f"  exemplar bank load (once per process):          {bank:.3f} s")

    from agentflowd.embed import get_embedder
    from agentflowd.match.calibrate import load_cases
    from agentflowd.match.matcher import SkillMatcher
    from agentflowd.skills.model import Skill

    embedder = get_embedder()
    embedder.embed(["warm up"])
    samples = []
    for _ in range(200):
        t = time.perf_counter()
        embedder.embed(["why is this pod pending forever?"])
        samples.append(time.perf_counter() - t)
    print(f"one short prompt embedded, 1 thread: p50 {p50_ms(samples):.1f} ms   [<= 20 ms]")

    skills_spec, prompts = case_catalog(CASE_FILES)
    skills = [s for path in CASE_FILES for s in load_cases(path).skills]
    unique = {s.name: s for s in skills}
    base = list(unique.values())
    while len(unique) < 100:  # top up with renamed copies so the catalog has exactly 100
        src = base[len(unique) % len(base)]
        copy = Skill(**{**src.__dict__, "name": f"{src.name}-{len(unique)}"})
        unique[copy.name] = copy
    catalog = list(unique.values())[:100]
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        t = time.perf_counter()
        SkillMatcher.for_project(project, catalog)
        cold = time.perf_counter() - t
        t = time.perf_counter()
        matcher = SkillMatcher.for_project(project, catalog)
        from_cache = time.perf_counter() - t
        samples = []
        for prompt in prompts[:300]:
            t = time.perf_counter()
            matcher.match_one(prompt)
            samples.append(time.perf_counter() - t)
    print(f"warm match against 100 cached skills: p50 {p50_ms(samples):.1f} ms   [<= 25 ms]")
    print(f"  index 100 skills cold (embed + write cache): {cold:.2f} s")
    print(f"  index 100 skills from the disk cache:        {from_cache * 1000:.0f} ms")

    batch = "\n".join((prompts * (1000 // len(prompts) + 1))[:1000]) + "\n"
    with tempfile.TemporaryDirectory() as tmp:
        write_project(Path(tmp), dict(list(skills_spec.items())[:13]))
        cmd = [
            sys.executable,
            "-m",
            "agentflowd",
            "skills",
            "match",
            "--project",
            tmp,
            "--batch",
            "-",
        ]
        walls = []
        for _ in range(2):  # the first run embeds the catalog, the second reads the cache
            t = time.perf_counter()
            out = subprocess.run(cmd, input=batch, capture_output=True, text=True, check=True)
            walls.append(time.perf_counter() - t)
            assert len(out.stdout.splitlines()) == 1000
    print(
        f"--batch 1,000 prompts end to end: {walls[1]:.2f} s warm, {walls[0]:.2f} s cold   "
        "[<= 10 s]"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
