"""`agentflow/swarm/run` end to end: a real swarm of subprocess agents, `$/progress`, and
cancellation through `$/cancelRequest` that kills the agents and records the run as cancelled."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
import pytest_lsp
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

from tests.lsp.helpers import SERVER_COMMAND, alive, server_env

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

WORKER = """\
import json, os, sys, time
task = json.load(sys.stdin)
open(sys.argv[1], "a").write(f"{os.getpid()}\\n")
time.sleep(float(sys.argv[2]))
print(json.dumps({"output": "done"}))
"""


def swarm_skill(project: Path, name: str, delay: float) -> None:
    folder = project / ".claude" / "skills" / name
    (folder / "scripts").mkdir(parents=True)
    (folder / "scripts" / "work.py").write_text(WORKER)
    argv = [sys.executable, "scripts/work.py", str(project / f"{name}.pids"), str(delay)]
    (folder / "SKILL.md").write_text(
        f"---\nname: {name}\ndescription: Runs two agents that wait {delay}s.\n"
        "disable-model-invocation: true\n"
        "agents:\n  - type: coder\n    count: 2\n    executor:\n      kind: command\n"
        f"      argv: {json.dumps(argv)}\n"
        "coordination:\n  topology: mesh\n---\nDo the work.\n"
    )


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def swarm_client(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[LanguageClient, Path]]:
    root = tmp_path_factory.mktemp("swarm")
    project = root / "proj"
    (project / ".git").mkdir(parents=True)
    swarm_skill(project, "quick", 0.1)
    swarm_skill(project, "slow", 60)
    home = root / "home"
    home.mkdir()
    client = pytest_lsp.make_test_lsp_client()
    await client.start_io(*SERVER_COMMAND, "--no-socket", env=server_env(home), cwd=str(root))
    await client.initialize_session(
        lsp.InitializeParams(
            capabilities=pytest_lsp.client_capabilities("visual-studio-code"),
            root_uri=project.as_uri(),
        )
    )
    yield client, project
    await client.shutdown_session()
    await client.stop()


async def test_swarm_run_reports_progress_and_records_the_run(
    swarm_client: tuple[LanguageClient, Path],
) -> None:
    client, _ = swarm_client
    result = await client.protocol.send_request_async("agentflow/swarm/run", {"skill": "quick"})
    assert result.status == "succeeded"
    assert Path(result.run_file).is_file()
    [token] = client.progress_reports
    reports = client.progress_reports[token]
    assert reports[0].kind == "begin" and reports[0].cancellable
    assert reports[-1].kind == "end" and reports[-1].message == "succeeded"
    messages = [r.message for r in reports if r.kind == "report"]
    assert any(m.startswith("agent.finished") for m in messages)


async def test_cancel_request_stops_the_agents_and_records_cancelled(
    swarm_client: tuple[LanguageClient, Path],
) -> None:
    client, project = swarm_client
    pids_file = project / "slow.pids"
    request = asyncio.ensure_future(
        client.protocol.send_request_async(
            "agentflow/swarm/run", {"skill": "slow"}, msg_id="slow-run"
        )
    )
    for _ in range(200):
        if pids_file.exists() and len(pids_file.read_text().split()) == 2:
            break
        await asyncio.sleep(0.05)
    pids = [int(p) for p in pids_file.read_text().split()]
    assert all(alive(p) for p in pids)
    client.protocol.notify("$/cancelRequest", lsp.CancelParams(id="slow-run"))
    with pytest.raises(JsonRpcException, match="cancel"):
        await request
    for _ in range(200):
        if not any(alive(p) for p in pids):
            break
        await asyncio.sleep(0.05)
    assert not any(alive(p) for p in pids)

    def slow_record() -> dict[str, object] | None:
        for run_file in (project / ".agentflow" / "runs").glob("*/run.json"):
            record = json.loads(run_file.read_text())
            if record["skill"] == "slow":
                return record
        return None

    for _ in range(200):
        if slow_record() is not None:
            break
        await asyncio.sleep(0.05)
    record = slow_record()
    assert record is not None and record["status"] == "cancelled"


async def test_swarm_run_errors_are_typed(swarm_client: tuple[LanguageClient, Path]) -> None:
    client, _ = swarm_client
    with pytest.raises(JsonRpcException, match="no skill named 'ghost'"):
        await client.protocol.send_request_async("agentflow/swarm/run", {"skill": "ghost"})
    with pytest.raises(JsonRpcException, match="inputs"):
        await client.protocol.send_request_async(
            "agentflow/swarm/run", {"skill": "quick", "inputs": ["x"]}
        )
