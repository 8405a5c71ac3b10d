"""The `python` executor: `module:function`, sync or async, found in the skill folder or project."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from agentflowd.swarm.budget import BudgetMeter
from agentflowd.swarm.errors import SwarmConfigError
from agentflowd.swarm.model import Task
from tests.swarm.entrypoints import agents_mod
from tests.swarm.support import executor_agent, run_agent

HERE = Path(__file__).resolve().parent
TASK = Task("t1", "work", "look", inputs={"target": "x.py"})


def make(entry: str, folder: Path = HERE):
    return executor_agent(folder, {"kind": "python", "entry": entry}, id="py-1", type="py")


def go(agent, meter: BudgetMeter | None = None):
    return run_agent(agent, TASK, HERE, meter=meter)


def test_async_entry_runs_on_the_loop_and_its_dict_is_an_answer() -> None:
    agents_mod.CALLS.clear()
    result = go(make("tests.swarm.entrypoints.agents_mod:async_review"))
    assert result.output == "reviewed x.py"
    assert result.findings == ({"message": "one"},)
    assert [("async", threading.main_thread().name)] == agents_mod.CALLS


def test_sync_entry_runs_in_a_worker_thread() -> None:
    agents_mod.CALLS.clear()
    result = go(make("tests.swarm.entrypoints.agents_mod:sync_review"))
    assert result.output == "sync saw look"
    [(kind, thread)] = agents_mod.CALLS
    assert kind == "sync" and thread != threading.main_thread().name


def test_a_result_is_passed_through_and_usage_is_charged() -> None:
    meter = BudgetMeter()
    assert go(make("tests.swarm.entrypoints.agents_mod:returns_result"), meter).output == [1, 2]
    assert meter.used("py-1")["turns"] == 1


def test_a_sync_entry_can_charge_the_budget_from_its_thread() -> None:
    meter = BudgetMeter()
    assert go(make("tests.swarm.entrypoints.agents_mod:charges_from_thread"), meter).output == 42
    assert meter.used("py-1") == {"turns": 1, "tokens": 7, "usd": 0.0}


def test_entry_is_found_in_the_skill_folder(tmp_path: Path) -> None:
    (tmp_path / "skill_local_agent_xyz.py").write_text(
        "def run(task, ctx):\n    return 'local ' + task.id\n"
    )
    assert go(make("skill_local_agent_xyz:run", tmp_path)).output == "local t1"


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("no_such_module_abc:run", "cannot import 'no_such_module_abc'"),
        ("tests.swarm.entrypoints.agents_mod:missing", "has no function 'missing'"),
        ("justamodule", "needs `entry: module:function`"),
    ],
)
def test_bad_entries_are_refused_when_the_plan_is_built(entry: str, message: str) -> None:
    with pytest.raises(SwarmConfigError, match=message):
        make(entry)
