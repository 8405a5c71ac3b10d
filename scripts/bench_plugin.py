"""Benchmarks for the Claude Code plugin. Prints numbers; asserts nothing (targets in comments).

  .venv/bin/python scripts/bench_plugin.py [--runs 10] [--claude PATH]

- `agentflowd hook prompt-submit` on a 100-skill project: median under 100 ms (the hook runs
  before every prompt; hooks.json allows it 5 s), measured three ways: cold catalog (the hook
  stays silent and warms the cache in the background), warm in-process, through a daemon
- `claude -p` against the local stand-in API (tests/e2e/anthropic_standin.py), with and without
  `--plugin-dir`: what one headless call costs here, and what the plugin adds to it

`claude` comes from scripts/install-claude-code.sh; without it the Claude Code part is skipped.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.e2e.anthropic_standin import StandIn, Text  # noqa: E402
from tests.e2e.conftest import DEFAULT_CLAUDE, child_env, skill_text  # noqa: E402

SKILLS = 100
TOPICS = [
    "invoices", "payroll", "kubernetes", "terraform", "grafana", "postgres", "redis", "kafka",
    "react", "android", "ios", "latex", "pdf", "excel", "docker", "nginx", "oauth", "stripe",
    "graphql", "protobuf",
]  # fmt: skip
VERBS = ["review", "debug", "deploy", "migrate", "document"]


def make_project(root: Path) -> str:
    """100 skills (topic x verb); returns a prompt that one of them should match."""
    for i in range(SKILLS):
        topic, verb = TOPICS[i % len(TOPICS)], VERBS[i // len(TOPICS)]
        name = f"{verb}-{topic}"
        folder = root / ".claude" / "skills" / name
        folder.mkdir(parents=True)
        description = f"{verb.capitalize()} {topic} setups step by step. Use when the user asks to {verb} {topic}."
        (folder / "SKILL.md").write_text(
            skill_text(name, description, [f"{verb} the {topic} config"], f"How to {verb} {topic}.")
        )
    return "Please help me deploy our kubernetes cluster config to production."


class Failed(Exception):
    pass


def hook_timeout_ms() -> float:
    manifest = json.loads((REPO / ".claude-plugin" / "plugin.json").read_text())
    [entry] = manifest["hooks"]["UserPromptSubmit"]
    return float(entry["hooks"][0]["timeout"]) * 1000


def timed(argv: list[str], *, cwd: Path, env: dict[str, str], stdin: str = "") -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, input=stdin, capture_output=True, text=True)
    elapsed = (time.perf_counter() - start) * 1000
    if done.returncode != 0:
        raise Failed(f"exit {done.returncode}: {done.stderr.strip()[-500:]}")
    return elapsed, done.stdout


def bench_hook(tmp: Path, runs: int) -> None:
    project = tmp / "hook-project"
    prompt = make_project(project)
    env = child_env(tmp, "http://127.0.0.1:9")
    argv = [str(Path(sys.executable).with_name("agentflowd")), "hook", "prompt-submit"]
    payload = json.dumps(
        {"hook_event_name": "UserPromptSubmit", "prompt": prompt, "cwd": str(project)}
    )
    exe = argv[0]
    limit = hook_timeout_ms()
    for label, prepare in (
        ("cold catalog", None),
        # The catalog's embeddings cached on disk, no daemon: the whole model loads per prompt.
        ("warm, in-process", [exe, "skills", "match", "--project", str(project), "warm up"]),
        # A daemon answers over the socket; its first match loads the model, so ask once first.
        ("through a daemon", [exe, "daemon", "start", "--project", str(project)]),
    ):
        if prepare is not None:
            timed(prepare, cwd=project, env=env)
            timed(argv, cwd=project, env=env, stdin=payload)
        first, out = timed(argv, cwd=project, env=env, stdin=payload)
        times = [timed(argv, cwd=project, env=env, stdin=payload)[0] for _ in range(runs)]
        print(f"hook prompt-submit, {SKILLS} skills, {label:17s}: first {first:7.1f} ms, "
              f"median {statistics.median(times):7.1f} ms, max {max(times):7.1f} ms ({runs} runs)")  # fmt: skip
        if max(first, *times) > limit:
            print(f"  OVER the plugin's hook timeout ({limit:.0f} ms): Claude Code kills the hook "
                  "and adds no context")  # fmt: skip
        print(f"  output: {out.strip()[:160] or '(nothing)'}")
    timed([exe, "daemon", "stop", "--project", str(project)], cwd=project, env=env)


def bench_claude(tmp: Path, claude: Path, runs: int) -> None:
    project = tmp / "claude-project"
    make_project(project)
    with StandIn() as standin:
        env = child_env(tmp, standin.base_url)
        for label, extra in (("without plugin", []), ("with --plugin-dir", ["--plugin-dir", str(REPO)])):  # fmt: skip
            argv = [str(claude), "-p", "Say hello.", "--output-format", "json", *extra]
            times = []
            for _ in range(runs):
                standin.script([Text("Hello.")])
                times.append(timed(argv, cwd=project, env=env)[0])
            print(f"claude -p {label:18s} median {statistics.median(times):7.1f} ms, "
                  f"min {min(times):7.1f} ms, max {max(times):7.1f} ms ({runs} runs)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--claude", type=Path, default=DEFAULT_CLAUDE)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        try:
            bench_hook(tmp, args.runs)
        except Failed as exc:
            print(f"hook prompt-submit: failed, {exc}")
        if args.claude.is_file():
            try:
                bench_claude(tmp, args.claude, args.runs)
            except Failed as exc:
                print(f"claude -p: failed, {exc}")
        else:
            print(f"claude -p: skipped, {args.claude} missing (run scripts/install-claude-code.sh)")


if __name__ == "__main__":
    main()
