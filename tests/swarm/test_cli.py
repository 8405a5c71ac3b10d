"""`agentflowd swarm ...` end to end: real subprocesses, a real project, real SQLite."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.swarm.support import alive

pytestmark = pytest.mark.e2e

AGENT = """
import json, os, subprocess, sys, time
task = json.load(sys.stdin)
me = task["agent"]["id"]
mode = os.environ.get("AGENT_MODE", "ok")
if mode == "hang":
    kid = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    with open(os.path.join(sys.argv[1], me + ".pids"), "w") as f:
        f.write(f"{os.getpid()} {kid.pid}")
    time.sleep(60)
if mode == "slow":
    time.sleep(0.5)
if (mode == "fail" and me.endswith("-2")) or mode == "broken":
    print("cannot reach the database", file=sys.stderr)
    sys.exit(2)
if task["kind"] == "vote":
    print(json.dumps({"votes": {p["id"]: ("approve" if "bug" in p["text"] else "reject") for p in task["proposals"]}}))
else:
    findings = [{"file": "app.py", "line": 1, "severity": "error", "message": "bug: unchecked input"}]
    if me == "reviewer-3":
        findings.append({"file": "app.py", "line": 7, "severity": "note", "message": "style: long line"})
    print(json.dumps({"output": me + " checked " + task["inputs"].get("target", "?"), "findings": findings}))
"""


def make_project(root: Path, mode: str = "ok", *, extra: str = "") -> Path:
    (root / ".git").mkdir(parents=True)
    skill = root / ".claude" / "skills" / "check"
    skill.mkdir(parents=True)
    (skill / "agent.py").write_text(AGENT)
    (root / "pids").mkdir()
    skill_md = f"""
        ---
        name: check
        description: Check the code with three reviewers that vote.
        agents:
          - type: reviewer
            count: 3
            executor:
              kind: command
              argv: [{json.dumps(sys.executable)}, agent.py, {json.dumps(str(root / "pids"))}]
              env: [PATH, HOME, AGENT_MODE]
              kill_grace: 200ms
        coordination: {{topology: mesh, consensus: majority}}
        execution: {{max_concurrent: 3, retry_policy: {{max_attempts: 2, backoff: fixed, initial_delay: 10ms}}}}
        outputs:
          - {{type: report, format: markdown}}
          - {{type: metrics, format: json}}
          - {{type: report, format: sarif}}
        {extra}
        ---
        Check $target.
        """
    (skill / "SKILL.md").write_text(textwrap.dedent(skill_md).lstrip())
    return root


def cli_env(home: Path, mode: str) -> dict[str, str]:
    env = {**os.environ, "HOME": str(home), "AGENT_MODE": mode}
    env.pop("AGENTFLOWD_MEMORY_DB", None)
    return env


@pytest.fixture
def cli(home: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    def run(*args: str, mode: str = "ok", timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "agentflowd", *args],
            capture_output=True,
            text=True,
            env=cli_env(home, mode),
            timeout=timeout,
        )

    return run


def start_run(home: Path, project: Path, mode: str) -> subprocess.Popen[str]:
    """`swarm run check --json` in the background, for tests that act while it runs."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "agentflowd",
            "swarm",
            "run",
            "check",
            "--project",
            str(project),
            "--json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(home, mode),
    )


def test_run_json_shape_outputs_and_the_run_log(cli, tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    done = cli(
        "swarm", "run", "check", "--project", str(project), "--input", "target=app.py", "--json"
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["status"] == "succeeded"
    assert [(a["id"], a["type"], a["status"], a["attempts"]) for a in out["agents"]] == [
        ("reviewer-1", "reviewer", "succeeded", 2),
        ("reviewer-2", "reviewer", "succeeded", 2),
        ("reviewer-3", "reviewer", "succeeded", 2),
    ]
    assert all(a["duration_ms"] > 0 for a in out["agents"])
    assert out["messages"] == 6  # each of 3 outputs broadcast to the 2 others before the vote
    assert len(out["votes"]) == 6 and {v["vote"] for v in out["votes"]} == {"approve", "reject"}
    # the bug all three found is accepted; reviewer-3's style nit is voted down
    assert [(d["proposal"]["by"], d["outcome"]) for d in out["decisions"]] == [
        (["reviewer-1", "reviewer-2", "reviewer-3"], "accepted"),
        (["reviewer-3"], "rejected"),
    ]
    assert [f["consensus"] for f in out["findings"]] == ["accepted", "rejected"]
    run_dir = project / ".agentflow" / "runs" / out["run_id"]
    assert out["outputs"] == [
        str(run_dir / n) for n in ("report.md", "metrics.json", "report.sarif")
    ]
    assert all(Path(p).is_file() for p in out["outputs"])
    assert "reviewer-1 checked app.py" in (run_dir / "run.json").read_text()

    runs = json.loads(cli("swarm", "runs", "--project", str(project), "--json").stdout)["runs"]
    assert [(r["run_id"], r["status"]) for r in runs] == [(out["run_id"], "succeeded")]
    shown = json.loads(
        cli("swarm", "show", out["run_id"][:20], "--project", str(project), "--json").stdout
    )
    assert shown["status"] == "succeeded" and shown["summary"]["messages"] == 6
    events = json.loads(
        cli("swarm", "events", out["run_id"], "--project", str(project), "--json").stdout
    )["events"]
    kinds = [e["kind"] for e in events]
    assert kinds[0] == "run.started" and kinds[-1] == "run.finished"
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert kinds.count("vote.cast") == 6 and kinds.count("process.started") == 6
    assert out["events"]["recorded"] == len(events) == out["events"]["published"]
    votes_only = cli(
        "swarm", "events", out["run_id"], "--project", str(project), "--kind", "vote.*"
    )
    assert votes_only.returncode == 0 and len(votes_only.stdout.splitlines()) == 6


def test_plain_progress_retries_and_reassignment(cli, tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    done = cli("swarm", "run", "check", "--project", str(project), mode="fail")
    assert done.returncode == 0, done.stdout
    lines = done.stdout.splitlines()
    assert any(
        "agent.failed reviewer-2 attempt 1: exit status 2: cannot reach the database" in line
        for line in lines
    )
    assert any("agent.retried reviewer-2 attempt 2" in line for line in lines)
    assert any(
        "reassigned" in line for line in lines
    )  # reviewer-2's work went to a healthy reviewer
    assert any(line.startswith("run ") for line in lines) and any(
        line.startswith("run folder: ") for line in lines
    )
    assert "\x1b[" not in done.stdout  # no terminal codes when stdout is not a terminal
    [moved] = [line for line in lines if "reassigned from reviewer-2 to" in line]
    assert re.fullmatch(
        r"  - reviewer-2\.r1: reassigned from reviewer-2 to reviewer-[13], which finished it", moved
    )


def test_a_failed_run_exits_1_with_an_account(cli, tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    done = cli("swarm", "run", "check", "--project", str(project), "--json", mode="broken")
    assert done.returncode == 1
    out = json.loads(done.stdout)
    assert out["status"] == "failed" and out["reason"] == "no agent finished its work"
    assert {a["status"] for a in out["agents"]} == {"failed"}
    assert any("exit status 2: cannot reach the database" in line for line in out["account"])


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("swarm", "run", "nope"), 2, "agentflowd: no skill named 'nope'"),
        (
            ("swarm", "run", "check", "--input", "novalue"),
            2,
            "agentflowd: --input needs KEY=VALUE, got 'novalue'",
        ),
        (("swarm", "show", "zzz"), 2, "agentflowd: no run 'zzz'"),
    ],
)
def test_user_errors_are_one_line_and_exit_2(
    cli, tmp_path: Path, args: tuple[str, ...], code: int, message: str
) -> None:
    project = make_project(tmp_path / "p")
    cli("swarm", "run", "check", "--project", str(project), "--json")  # so the run log exists
    done = cli(*args, "--project", str(project))
    assert done.returncode == code
    assert done.stderr.strip().splitlines() == [message + done.stderr.strip()[len(message) :]]
    assert done.stderr.startswith(message) and "Traceback" not in done.stderr


def test_capability_refusal_happens_before_anything_runs(cli, tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", extra="tasks: [{task: deploy, requires: [kubernetes]}]")
    done = cli("swarm", "run", "check", "--project", str(project), "--json")
    assert done.returncode == 3
    assert "refused before running: task 't1' needs kubernetes" in done.stderr
    assert done.stdout == ""
    assert not (project / ".agentflow" / "runs").exists()


def test_sigint_cancels_kills_every_child_and_marks_the_run(
    home: Path, tmp_path: Path, cli
) -> None:
    project = make_project(tmp_path / "p")
    proc = start_run(home, project, "hang")
    pidfiles = [project / "pids" / f"reviewer-{i}.pids" for i in (1, 2, 3)]
    deadline = time.monotonic() + 30
    while not all(f.exists() and f.read_text() for f in pidfiles):
        assert time.monotonic() < deadline and proc.poll() is None, (
            proc.stderr.read() if proc.stderr else ""
        )
        time.sleep(0.05)
    pids = [int(p) for f in pidfiles for p in f.read_text().split()]
    assert all(alive(p) for p in pids)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    out = json.loads(stdout)
    assert out["status"] == "cancelled" and out["reason"] == "interrupted by SIGINT"
    assert {a["status"] for a in out["agents"]} == {"cancelled"}
    assert not any(alive(p) for p in pids)
    shown = json.loads(
        cli("swarm", "show", out["run_id"], "--project", str(project), "--json").stdout
    )
    assert shown["status"] == "cancelled"


def test_events_follow_streams_until_the_run_ends(home: Path, tmp_path: Path, cli) -> None:
    project = make_project(tmp_path / "p")
    runner = start_run(home, project, "slow")
    runs_dir = project / ".agentflow" / "runs"
    deadline = time.monotonic() + 30
    while not (runs_dir.exists() and any(runs_dir.iterdir())):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    run_id = next(runs_dir.iterdir()).name
    follow = cli("swarm", "events", run_id, "--follow", "--json", "--project", str(project))
    runner.communicate(timeout=30)
    assert follow.returncode == 0, follow.stderr
    streamed = [json.loads(line) for line in follow.stdout.splitlines()]
    assert streamed[-1]["kind"] == "run.finished"
    assert [e["seq"] for e in streamed] == list(range(1, len(streamed) + 1))


def test_memory_persistence_keeps_the_result_as_a_memory_entry(cli, tmp_path: Path) -> None:
    from agentflowd.memory.store import MemoryStore

    project = make_project(
        tmp_path / "p", extra="memory: {persistence: true, namespace: reviews, ttl: 7d}"
    )
    done = cli(
        "swarm", "run", "check", "--project", str(project), "--json", "--input", "target=db.py"
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["memory"] == {"namespace": "reviews", "key": f"run/{out['run_id']}"}
    with MemoryStore(
        project / ".agentflow" / "memory.db", embed_on_write=False, background="off"
    ) as store:
        entry = store.get("reviews", f"run/{out['run_id']}")
    assert entry.is_json and entry.value["status"] == "succeeded"
    assert [d["outcome"] for d in entry.value["decisions"]] == ["accepted", "rejected"]
    assert "swarm-run" in entry.tags
    assert (
        entry.expires_at is not None
        and 6.9 * 86400 < entry.expires_at - entry.created_at <= 7 * 86400
    )
