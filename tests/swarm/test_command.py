"""The `command` executor: task JSON on stdin, answer on stdout, environment allowlist, output cap,
timeouts and cancellation that kill the whole process group, and nothing left behind."""

from __future__ import annotations

import asyncio
import json
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from agentflowd.swarm.agent import AgentContext
from agentflowd.swarm.budget import BudgetMeter
from agentflowd.swarm.engine import Swarm
from agentflowd.swarm.errors import ExecutorError, SwarmConfigError
from agentflowd.swarm.events import EventBus
from agentflowd.swarm.model import Message, Task
from agentflowd.swarm.plan import AgentSlot, ExecutionPolicy, Plan
from tests.swarm.support import alive, executor_agent, open_fds


def script(folder: Path, name: str, body: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(body))
    return path


def agent(folder: Path, **executor: Any):
    return executor_agent(
        folder,
        {"kind": "command", **executor},
        id="checker-1",
        type="checker",
        capabilities=frozenset({"lint"}),
    )


def context(meter: BudgetMeter | None = None) -> AgentContext:
    return AgentContext(
        run_id="run-1",
        agent_id="checker-1",
        project=Path("/proj"),
        workdir=Path("/proj"),
        meter=meter or BudgetMeter(),
        bus=EventBus(),
    )


TASK = Task(
    id="t1",
    kind="work",
    instruction="lint it",
    inputs={"target": "app.py"},
    inbox=(Message(1, "other-1", "checker-1", "hello", 1, ("other-1", "checker-1")),),
)


def test_task_goes_in_as_json_and_the_answer_object_comes_back(tmp_path: Path) -> None:
    script(
        tmp_path,
        "echo.py",
        """
        import json, sys
        task = json.load(sys.stdin)
        print(json.dumps({
            "output": {"seen": task},
            "findings": [{"file": "app.py", "line": 3, "message": "unused import"}],
            "messages": [{"to": "*", "content": "fyi"}],
            "usage": {"turns": 2, "input_tokens": 30, "output_tokens": 12, "usd": 0.01},
        }))
        """,
    )
    meter = BudgetMeter()
    result = asyncio.run(
        agent(tmp_path, argv=[sys.executable, "echo.py"]).run(TASK, context(meter))
    )
    seen = result.output["seen"]
    assert seen["run_id"] == "run-1"
    assert seen["agent"] == {"id": "checker-1", "type": "checker", "capabilities": ["lint"]}
    assert (seen["kind"], seen["task"], seen["inputs"]) == ("work", "lint it", {"target": "app.py"})
    assert seen["inbox"] == [
        {
            "id": 1,
            "from": "other-1",
            "to": "checker-1",
            "round": 1,
            "path": ["other-1", "checker-1"],
            "content": "hello",
        }
    ]
    assert result.findings == ({"file": "app.py", "line": 3, "message": "unused import"},)
    assert [(m.to, m.content) for m in result.messages] == [("*", "fyi")]
    assert (result.usage.turns, result.usage.tokens, result.usage.usd) == (2, 42, 0.01)
    assert meter.used("checker-1") == {"turns": 2, "tokens": 42, "usd": 0.01}


def test_plain_text_is_the_output(tmp_path: Path) -> None:
    result = asyncio.run(agent(tmp_path, argv=["echo", "all", "good"]).run(TASK, context()))
    assert result.output == "all good"


def test_argv_is_not_interpreted_by_a_shell(tmp_path: Path) -> None:
    result = asyncio.run(
        agent(tmp_path, argv=["echo", "$HOME | wc", ";", "rm -rf x"]).run(TASK, context())
    )
    assert result.output == "$HOME | wc ; rm -rf x"


def test_shell_runs_only_when_asked(tmp_path: Path) -> None:
    result = asyncio.run(
        agent(tmp_path, shell=True, script="printf 'a\\nb\\nc\\n' | wc -l").run(TASK, context())
    )
    assert result.output == "3"
    with pytest.raises(SwarmConfigError, match="`script` runs only with `shell: true`"):
        agent(tmp_path, argv=["true"], script="echo hi")


def test_non_zero_exit_is_a_retryable_failure_with_stderr(tmp_path: Path) -> None:
    script(
        tmp_path,
        "bad.py",
        "import sys\nprint('step 1', file=sys.stderr)\nprint('boom: no config', file=sys.stderr)\nsys.exit(3)\n",
    )
    with pytest.raises(ExecutorError) as failed:
        asyncio.run(agent(tmp_path, argv=[sys.executable, "bad.py"]).run(TASK, context()))
    assert str(failed.value) == "exit status 3: step 1 | boom: no config"
    assert failed.value.retryable


def test_malformed_answer_names_the_key(tmp_path: Path) -> None:
    with pytest.raises(ExecutorError, match="`findings` must be a list"):
        asyncio.run(agent(tmp_path, argv=["echo", '{"findings": "nope"}']).run(TASK, context()))


def test_output_over_the_cap_kills_the_child(tmp_path: Path) -> None:
    script(
        tmp_path,
        "loud.py",
        "import os, sys, time\nopen('pid', 'w').write(str(os.getpid()))\nsys.stdout.write('x' * 100000)\nsys.stdout.flush()\ntime.sleep(30)\n",
    )
    t0 = time.monotonic()
    with pytest.raises(ExecutorError, match="more than 1000 bytes") as failed:
        asyncio.run(
            agent(tmp_path, argv=[sys.executable, "loud.py"], output_limit=1000).run(
                TASK, context()
            )
        )
    assert time.monotonic() - t0 < 5
    assert not failed.value.retryable
    assert not alive(int((tmp_path / "pid").read_text()))


def test_environment_is_an_allowlist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEEP_ME", "yes")
    monkeypatch.setenv("SECRET_TOKEN", "hunter2")
    script(tmp_path, "env.py", "import json, os\nprint(json.dumps({'output': dict(os.environ)}))\n")
    env = asyncio.run(
        agent(tmp_path, argv=[sys.executable, "env.py"], env=["KEEP_ME"]).run(TASK, context())
    ).output
    assert env["KEEP_ME"] == "yes"
    assert "SECRET_TOKEN" not in env and "PATH" not in env
    assert env["AGENTFLOW_AGENT_ID"] == "checker-1" and env["AGENTFLOW_RUN_ID"] == "run-1"
    default = asyncio.run(
        agent(tmp_path, argv=[sys.executable, "env.py"]).run(TASK, context())
    ).output
    assert "PATH" in default and "SECRET_TOKEN" not in default and "KEEP_ME" not in default


def test_cwd_is_relative_to_the_skill_folder(tmp_path: Path) -> None:
    (tmp_path / "scripts").mkdir()
    result = asyncio.run(agent(tmp_path, argv=["pwd"], cwd="scripts").run(TASK, context()))
    assert result.output == str((tmp_path / "scripts").resolve())


def test_missing_program_is_caught_before_running(tmp_path: Path) -> None:
    ghost = agent(tmp_path, argv=["no-such-program-xyz", "--flag"])
    assert ghost.preflight() == [
        "checker-1: program 'no-such-program-xyz' not found (PATH or " + str(tmp_path) + ")"
    ]
    with pytest.raises(ExecutorError) as failed:
        asyncio.run(ghost.run(TASK, context()))
    assert not failed.value.retryable


FAMILY = """
import os, subprocess, sys, time
kid = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
open(sys.argv[1], "w").write(f"{os.getpid()} {kid.pid}")
time.sleep(60)
"""


def _swarm_with(
    tmp_path: Path, n: int, *, timeout: float | None = None, grace: float = 0.2
) -> tuple[Plan, list[Path]]:
    script(tmp_path, "family.py", FAMILY)
    slots, files = [], []
    for i in range(n):
        pidfile = tmp_path / f"pids{i}"
        files.append(pidfile)
        a = executor_agent(
            tmp_path,
            {
                "kind": "command",
                "argv": [sys.executable, "family.py", str(pidfile)],
                "kill_grace": grace,
            },
            id=f"w-{i}",
            type="w",
        )
        slots.append(AgentSlot(a, "sleep", timeout=timeout))
    return Plan("family", tuple(slots), policy=ExecutionPolicy()), files


def _pids(files: list[Path]) -> list[int]:
    deadline = time.monotonic() + 10
    while not all(f.exists() and f.read_text() for f in files):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    return [int(p) for f in files for p in f.read_text().split()]


def test_timeout_kills_the_child_and_everything_it_started(tmp_path: Path) -> None:
    before = open_fds()
    p, files = _swarm_with(tmp_path, 2, timeout=0.5)
    result = asyncio.run(Swarm(p).run())
    pids = _pids(files)
    assert len(pids) == 4
    assert [t.attempts[0].kind for t in result.tasks] == ["timeout", "timeout"]
    assert not any(alive(pid) for pid in pids)
    assert open_fds() == before


def test_cancel_kills_every_process_group_and_leaks_no_fds(tmp_path: Path) -> None:
    before = open_fds()
    p, files = _swarm_with(tmp_path, 3)

    async def go():
        swarm = Swarm(p)
        task = asyncio.ensure_future(swarm.run())
        await asyncio.to_thread(_pids, files)
        swarm.stop("test cancel")
        return await task

    t0 = time.monotonic()
    result = asyncio.run(go())
    assert time.monotonic() - t0 < 10
    assert result.status == "cancelled"
    pids = _pids(files)
    assert not any(alive(pid) for pid in pids)
    assert open_fds() == before


def test_a_grandchild_holding_stdout_does_not_hang_the_agent(tmp_path: Path) -> None:
    script(
        tmp_path,
        "bg.py",
        """
        import json, subprocess, sys
        kid = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        print(json.dumps({"output": kid.pid}))
        """,
    )
    t0 = time.monotonic()
    result = asyncio.run(agent(tmp_path, argv=[sys.executable, "bg.py"]).run(TASK, context()))
    assert time.monotonic() - t0 < 5
    assert not alive(result.output)


def test_a_child_ignoring_sigterm_is_killed_after_the_grace_period(tmp_path: Path) -> None:
    script(
        tmp_path,
        "stubborn.py",
        """
        import os, signal, sys, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        open(sys.argv[1], "w").write(str(os.getpid()))
        time.sleep(60)
        """,
    )
    pidfile = tmp_path / "pid"
    a = agent(tmp_path, argv=[sys.executable, "stubborn.py", str(pidfile)], kill_grace=0.3)

    async def go():
        task = asyncio.ensure_future(a.run(TASK, context()))
        await asyncio.to_thread(_pids, [pidfile])
        t0 = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return time.monotonic() - t0

    waited = asyncio.run(go())
    assert 0.25 <= waited < 3
    assert not alive(int(pidfile.read_text()))


def test_each_run_is_recorded_with_its_pid(tmp_path: Path) -> None:
    a = agent(tmp_path, argv=["true"])
    bus = EventBus()
    got = []
    bus.add_sink(got.append)
    ctx = AgentContext(
        run_id="r", agent_id=a.id, project=tmp_path, workdir=tmp_path, meter=BudgetMeter(), bus=bus
    )
    asyncio.run(a.run(TASK, ctx))
    assert [e.kind for e in got] == ["process.started", "process.exited"]
    assert got[0].data["pid"] == a.pids[0] == got[1].data["pid"]
    assert got[1].data["returncode"] == 0
    assert json.dumps(got[0].data)  # events stay JSON
    assert not alive(a.pids[0])
