"""End to end: `agentflowd skills match` and `agentflowd hook prompt-submit` as real processes."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.match.conftest import SMALL_CATALOG
from tests.projects import write_project

pytestmark = pytest.mark.e2e


def test_match_json(run_cli, small_project: Path) -> None:
    out = run_cli(
        "skills",
        "match",
        "write a regex for UK postcodes",
        "--project",
        str(small_project),
        "--json",
    )
    assert out.returncode == 0, out.stderr
    row = json.loads(out.stdout)
    assert row["skill"] == "regex-builder"
    assert row["prompt"] == "write a regex for UK postcodes"
    assert row["candidates"][0]["skill"] == "regex-builder"
    assert len(row["candidates"]) == 3  # release-notes is disabled, three remain
    assert (small_project / ".agentflow" / "cache" / "match-embeddings.msgpack").is_file()


def test_match_text_from_inside_the_project(run_cli, small_project: Path) -> None:
    sub = small_project / "src"
    sub.mkdir()
    out = run_cli("skills", "match", "hello, how are you?", cwd=sub)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0] == "no skill matched"
    assert "candidates:" in out.stdout


def test_batch_from_stdin_keeps_order_and_blank_lines(run_cli, small_project: Path) -> None:
    prompts = [
        "containerize the app and push it",
        "",
        "remember that we deploy on Fridays",
        "what is the capital of France?",
    ]
    out = run_cli(
        "skills",
        "match",
        "--project",
        str(small_project),
        "--batch",
        "-",
        input="\n".join(prompts) + "\n",
    )
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["prompt"] for r in rows] == prompts
    assert [r["skill"] for r in rows] == ["docker-deploy", None, "project-memory", None]
    assert all({"prompt", "skill", "score", "candidates"} <= r.keys() for r in rows)


def test_batch_from_file(run_cli, small_project: Path, tmp_path: Path) -> None:
    batch = tmp_path / "prompts.txt"
    batch.write_text("explain this regular expression\n")
    out = run_cli("skills", "match", "--project", str(small_project), "--batch", str(batch))
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["skill"] == "regex-builder"


@pytest.mark.parametrize(
    "args",
    [
        ("skills", "match"),
        ("skills", "match", "a prompt", "--batch", "-"),
        ("skills", "match", "--batch", "/no/such/file"),
        ("skills", "match", "a prompt", "--project", "/no/such/folder"),
    ],
)
def test_usage_errors(run_cli, args: tuple[str, ...]) -> None:
    out = run_cli(*args, input="")
    assert out.returncode == 2
    assert "Traceback" not in out.stderr and out.stderr.strip()


def test_project_without_skills_matches_nothing(run_cli, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    (empty / ".git").mkdir(parents=True)
    out = run_cli("skills", "match", "write a regex", "--project", str(empty), "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {
        "prompt": "write a regex",
        "skill": None,
        "score": 0.0,
        "candidates": [],
    }


def _hook(run_cli, event: object | str, cwd: Path | None = None):
    raw = event if isinstance(event, str) else json.dumps(event)
    return run_cli("hook", "prompt-submit", input=raw, cwd=cwd)


def test_hook_names_the_matching_skill(run_cli, small_project: Path) -> None:
    out = _hook(
        run_cli,
        {
            "session_id": "s",
            "hook_event_name": "UserPromptSubmit",
            "prompt": "write a Dockerfile and a compose file for the API",
            "cwd": str(small_project),
        },
    )
    assert out.returncode == 0, out.stderr
    payload = json.loads(out.stdout)["hookSpecificOutput"]
    assert payload["hookEventName"] == "UserPromptSubmit"
    assert '"docker-deploy"' in payload["additionalContext"]
    assert "Skill tool" in payload["additionalContext"]


@pytest.mark.parametrize(
    "prompt",
    ["thanks, that is all", "/docker-deploy build it", "   "],
    ids=["off", "slash", "blank"],
)
def test_hook_is_silent_without_a_match(run_cli, small_project: Path, prompt: str) -> None:
    out = _hook(run_cli, {"prompt": prompt, "cwd": str(small_project)})
    assert out.returncode == 0
    assert out.stdout == ""


@pytest.mark.parametrize("raw", ["not json", "[1, 2]", ""])
def test_hook_never_fails_loudly(run_cli, raw: str) -> None:
    out = _hook(run_cli, raw)
    assert out.returncode == 0
    assert out.stdout == ""
    assert len(out.stderr.strip().splitlines()) == 1
    assert "Traceback" not in out.stderr


def test_hook_uses_cwd_from_the_event(run_cli, tmp_path: Path) -> None:
    project = write_project(tmp_path / "other", {"regex-builder": SMALL_CATALOG["regex-builder"]})
    out = _hook(
        run_cli, {"prompt": "write a regex matching ISO dates", "cwd": str(project)}, cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr
    assert "regex-builder" in out.stdout


def test_hook_defers_a_large_cold_catalog_to_a_background_warm_up(tmp_path, run_cli) -> None:
    from agentflowd.cli.hook import COLD_INLINE_SKILLS

    for i in range(COLD_INLINE_SKILLS + 1):
        folder = tmp_path / ".claude" / "skills" / f"skill-{i}"
        folder.mkdir(parents=True)
        (folder / "SKILL.md").write_text(
            f"---\ndescription: Handles task number {i} for module {i}.\n---\nBody.\n"
        )
    event = json.dumps({"prompt": "handle task number 3", "cwd": str(tmp_path)})
    first = run_cli("hook", "prompt-submit", input=event)
    assert first.returncode == 0 and first.stdout == ""
    assert "indexing" in first.stderr
    second = run_cli("hook", "prompt-submit", input=event)
    assert second.returncode == 0 and second.stdout == ""
    marker = tmp_path / ".agentflow" / "cache" / "warm-up.pid"
    assert marker.read_text().strip().isdigit()
    cache = tmp_path / ".agentflow" / "cache" / "match-embeddings.msgpack"
    deadline = time.monotonic() + 60
    while not cache.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert cache.exists(), "the background warm-up never wrote the cache"
