"""The run folder's files: markdown report, JSON metrics, SARIF, run.json."""

from __future__ import annotations

import json
from pathlib import Path

from agentflowd.swarm.consensus import ConsensusRule
from agentflowd.swarm.model import Ballot, Result
from agentflowd.swarm.outputs import write_outputs
from agentflowd.swarm.plan import OutputSpec
from tests.swarm.support import Scripted, plan, run

FINDINGS = (
    {
        "file": "app.py",
        "line": 3,
        "severity": "error",
        "message": "SQL built from user input",
        "rule": "sql-injection",
    },
    {"file": "app.py", "line": 9, "severity": "note", "message": "long function"},
)


def voter(name: str, reject_long: bool) -> Scripted:
    def vote(task):
        return Result(
            ballots={
                p.id: Ballot("reject" if reject_long and "long" in p.text else "approve")
                for p in task.proposals
            }
        )

    return Scripted(name, work=Result(output=f"{name} done", findings=FINDINGS), vote=vote)


def test_every_requested_output_is_written(tmp_path: Path) -> None:
    result = run(
        plan(
            voter("a", True),
            voter("b", True),
            voter("c", False),
            consensus=ConsensusRule("majority"),
        )
    )
    specs = (
        OutputSpec("report", "markdown", "report.md"),
        OutputSpec("report", "sarif", "out/findings.sarif"),
        OutputSpec("metrics", "json", "metrics.json"),
        OutputSpec("metrics", "markdown", "metrics.md"),
        OutputSpec("report", "json", "report.json"),
    )
    paths = write_outputs(result, specs, tmp_path / "run")
    assert [p.relative_to(tmp_path / "run").as_posix() for p in paths] == [
        "report.md",
        "out/findings.sarif",
        "metrics.json",
        "metrics.md",
        "report.json",
    ]
    assert json.loads((tmp_path / "run" / "run.json").read_text())["run_id"] == result.run_id

    sarif = json.loads((tmp_path / "run/out/findings.sarif").read_text())
    assert sarif["version"] == "2.1.0"
    [only] = sarif["runs"][0]["results"]  # the swarm rejected the nit 2 to 1
    assert only["ruleId"] == "sql-injection" and only["level"] == "error"
    assert only["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "app.py"},
        "region": {"startLine": 3},
    }
    assert only["properties"]["consensus"] == "accepted"

    metrics = json.loads((tmp_path / "run/metrics.json").read_text())
    assert metrics["status"] == "succeeded" and metrics["agents"] == 3
    assert metrics["decisions"] == {"accepted": 1, "rejected": 1}
    assert metrics["votes"] == 6 and metrics["messages"] == 6

    report = (tmp_path / "run/report.md").read_text()
    assert "status: **succeeded**" in report
    assert "| a | worker | custom | succeeded |" in report
    assert "**rejected**" in report and "app.py:3: long function" not in report
    assert "- c on p2: approve, counted 1" in report
    assert "error [accepted]: app.py:3 SQL built from user input" in report


def test_failures_are_accounted_for_in_the_report(tmp_path: Path) -> None:
    result = run(plan(Scripted("ok"), Scripted("bad", "other", fail=9, error="no network")))
    [path] = write_outputs(result, (OutputSpec("report", "markdown", "r.md"),), tmp_path)
    text = path.read_text()
    assert "status: **partial** (1 of 2 tasks did not finish)" in text
    assert "## Account" in text and "failed on bad after 1 attempt(s): no network" in text
