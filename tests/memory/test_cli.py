"""`agentflowd memory` end to end: real subprocesses, JSON output, exit codes, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

Run = Callable[..., subprocess.CompletedProcess[str]]


def ok_json(result: subprocess.CompletedProcess[str]) -> dict:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return json.loads(result.stdout)  # exactly one JSON document


def fails(result: subprocess.CompletedProcess[str], code: int, fragment: str) -> None:
    assert result.returncode == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr  # one line
    assert fragment in result.stderr


def test_store_get_list_delete_roundtrip(memory_cli: Run) -> None:
    doc = ok_json(
        memory_cli(
            "store",
            "deploy",
            "deploys happen on Tuesdays",
            "--tags",
            "ops,release",
            "--metadata",
            '{"team": "infra"}',
            "--json",
        )
    )
    assert doc["created"] is True
    assert doc["entry"]["embedding"] == "pending"  # the CLI never waits for the model
    assert doc["entry"]["tags"] == ["ops", "release"]
    got = ok_json(memory_cli("get", "deploy", "--json"))
    assert got["value"] == "deploys happen on Tuesdays" and got["metadata"] == {"team": "infra"}
    plain = memory_cli("get", "deploy")
    assert plain.stdout == "deploys happen on Tuesdays\n"
    listed = ok_json(memory_cli("list", "--json"))
    assert [e["key"] for e in listed["entries"]] == ["deploy"]
    assert ok_json(memory_cli("delete", "deploy", "--json")) == {
        "deleted": True,
        "namespace": "default",
        "key": "deploy",
    }
    fails(memory_cli("get", "deploy"), 2, "no entry 'deploy' in namespace 'default'")
    fails(memory_cli("delete", "deploy"), 2, "no entry")


def test_value_from_stdin_and_json_values(memory_cli: Run) -> None:
    ok_json(memory_cli("store", "notes", "-", "--json", input="line one\nline two\n"))
    assert ok_json(memory_cli("get", "notes", "--json"))["value"] == "line one\nline two"
    ok_json(
        memory_cli(
            "store", "cfg", '{"retries": 3}', "--value-json", "--namespace", "conf", "--json"
        )
    )
    doc = ok_json(memory_cli("get", "cfg", "-n", "conf", "--json"))
    assert doc["value"] == {"retries": 3} and doc["value_type"] == "json"


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["store", "k", "v", "--metadata", "{bad"], "--metadata is not valid JSON"),
        (["store", "k", "v", "--metadata", "[1]"], "--metadata must be a JSON object"),
        (["store", "k", "v", "--ttl", "5 fortnights"], "not a duration"),
        (["store", "k", "{x", "--value-json"], "VALUE is not valid JSON"),
        (["store", "", "v"], "the key must be a non-empty string"),
        (["search", "x", "-k", "0"], "-k must be between"),
        (["list", "--limit", "0"], "--limit must be at least 1"),
        (["search", "x", "--meta", "novalue"], "--meta takes FIELD=VALUE"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(
    memory_cli: Run, args: list[str], fragment: str
) -> None:
    fails(memory_cli(*args), 2, fragment)


def test_click_usage_errors_exit_2(memory_cli: Run) -> None:
    result = memory_cli("search", "x", "--mode", "fuzzy")
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_a_broken_database_file_is_an_environment_error(memory_cli: Run, tmp_path: Path) -> None:
    bad = tmp_path / "broken.db"
    bad.write_bytes(b"definitely not a database " * 200)
    fails(memory_cli("list", db=bad), 3, "not a SQLite database")


def test_redactions_are_reported(memory_cli: Run) -> None:
    text = memory_cli("store", "creds", "use ghp_abcdefghijklmnopqrstuvwxyz0123456789 please")
    assert text.returncode == 0
    assert "redacted before storing: 1 github-token" in text.stderr
    doc = ok_json(memory_cli("store", "creds2", "password=hunter2hunter2", "--json"))
    assert doc["redactions"] == [{"kind": "assigned-secret", "count": 1}]
    assert "hunter2" not in ok_json(memory_cli("get", "creds2", "--json"))["value"]
    raw = ok_json(memory_cli("store", "raw", "password=hunter2hunter2", "--no-redact", "--json"))
    assert raw["redactions"] == [] and raw["entry"]["value"] == "password=hunter2hunter2"


def test_search_modes_and_json(memory_cli: Run) -> None:
    for key, value in [
        ("deploy", "deploys happen on Tuesdays"),
        ("lunch", "the team orders pizza on Fridays"),
        ("db", "the database is Postgres"),
    ]:
        ok_json(memory_cli("store", key, value, "-n", "facts", "--json"))
    semantic = ok_json(
        memory_cli(
            "search", "when do we release to production?", "--mode", "semantic", "-k", "2", "--json"
        )
    )
    assert semantic["embedded_pending"] == 3  # embedded before querying, never silently missing
    assert semantic["hits"][0]["entry"]["key"] == "deploy"
    assert semantic["hits"][0]["score"] > semantic["hits"][1]["score"]
    keyword = ok_json(memory_cli("search", "pizza", "--mode", "keyword", "--json"))
    assert [h["entry"]["key"] for h in keyword["hits"]] == ["lunch"]
    hybrid = ok_json(memory_cli("search", "release to production", "--json"))
    assert hybrid["mode"] == "hybrid" and hybrid["hits"][0]["entry"]["key"] == "deploy"
    text = memory_cli("search", "pizza", "--mode", "keyword")
    assert "facts/lunch" in text.stdout


def test_ttl_stats_and_purge(memory_cli: Run) -> None:
    ok_json(memory_cli("store", "brief", "short lived", "--ttl", "1s", "--json"))
    ok_json(memory_cli("store", "lasting", "stays", "--ttl", "7d", "--json"))
    time.sleep(1.1)
    fails(memory_cli("get", "brief"), 2, "no entry")
    stats = ok_json(memory_cli("stats", "--json"))
    (ns,) = stats["namespaces"]
    assert (ns["entries"], ns["expired_unpurged"], ns["pending_embeddings"]) == (1, 1, 1)
    assert stats["schema_version"] >= 2
    assert ok_json(memory_cli("purge", "--json")) == {"purged": 1}


def test_export_import_roundtrip_and_atomic_validation(memory_cli: Run, tmp_path: Path) -> None:
    ok_json(memory_cli("store", "a", "alpha", "--tags", "x", "--json"))
    ok_json(memory_cli("store", "b", '{"n": 1}', "--value-json", "-n", "other", "--json"))
    exported = tmp_path / "dump.jsonl"
    assert ok_json(memory_cli("export", "--output", str(exported), "--json"))["exported"] == 2
    lines = exported.read_text().splitlines()
    assert [json.loads(line)["key"] for line in lines] == ["a", "b"]
    copy = tmp_path / "copy.db"
    assert ok_json(memory_cli("import", str(exported), "--json", db=copy))["imported"] == 2
    assert ok_json(memory_cli("get", "b", "-n", "other", "--json", db=copy))["value"] == {"n": 1}
    stdout_export = memory_cli("export")
    assert stdout_export.stdout.splitlines() == lines
    # One bad line anywhere: nothing from the file is written.
    bad = tmp_path / "bad.jsonl"
    bad.write_text(lines[0] + "\n" + '{"key": "c"}\n')
    third = tmp_path / "third.db"
    fails(
        memory_cli("import", str(bad), db=third),
        2,
        f"{bad}:2: a record needs at least 'key' and 'value'",
    )
    assert ok_json(memory_cli("list", "--json", db=third))["count"] == 0
    piped = ok_json(
        memory_cli("import", "-", "--json", input='{"key": "p", "value": "from stdin"}\n', db=third)
    )
    assert piped["imported"] == 1
    fails(memory_cli("import", str(tmp_path / "missing.jsonl")), 2, "no such file")


def test_database_location_flag_env_and_project(cli_env: dict[str, str], tmp_path: Path) -> None:
    project = tmp_path / "proj"
    (project / ".git").mkdir(parents=True)
    (project / "sub").mkdir()

    def run(
        *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "agentflowd", "memory", *args],
            capture_output=True,
            text=True,
            env=env or cli_env,
            cwd=cwd,
            timeout=60,
        )

    assert run("store", "k", "in project", cwd=project / "sub").returncode == 0
    assert (project / ".agentflow" / "memory.db").exists()
    assert ok_json(run("get", "k", "--json", "--project", str(project)))["value"] == "in project"
    env_db = tmp_path / "env.db"
    env = {**cli_env, "AGENTFLOWD_MEMORY_DB": str(env_db)}
    assert run("store", "k", "in env db", env=env, cwd=project).returncode == 0
    assert env_db.exists()
    flag_db = tmp_path / "flag.db"
    assert run("store", "k", "in flag db", "--db", str(flag_db), env=env).returncode == 0
    assert (
        ok_json(run("get", "k", "--json", "--db", str(flag_db), env=env))["value"] == "in flag db"
    )
    assert ok_json(run("get", "k", "--json", env=env))["value"] == "in env db"


def test_namespace_settings(memory_cli: Run) -> None:
    doc = ok_json(
        memory_cli("namespace", "scratch", "--no-embed", "--ann-threshold", "5000", "--json")
    )
    assert doc == {
        "namespace": "scratch",
        "embed": False,
        "ann_threshold": 5000,
        "ann_threshold_effective": 5000,
    }
    stored = ok_json(memory_cli("store", "k", "v", "-n", "scratch", "--json"))
    assert stored["entry"]["embedding"] == "disabled"


def test_the_background_worker_embeds_what_the_cli_stored(
    memory_cli: Run, cli_env: dict[str, str], db_path: Path
) -> None:
    from agentflowd.memory.worker import worker_running

    env = {k: v for k, v in cli_env.items() if k != "AGENTFLOWD_MEMORY_WORKER"}
    stored = ok_json(memory_cli("store", "deploy", "deploys happen on Tuesdays", "--json", env=env))
    assert stored["entry"]["embedding"] == "pending"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if ok_json(memory_cli("get", "deploy", "--json"))["embedding"] == "ready":
            break
        time.sleep(0.2)
    else:
        pytest.fail("the background worker did not embed the entry within 60 s")
    while worker_running(db_path) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not worker_running(db_path)
    semantic = ok_json(
        memory_cli("search", "release to production", "--mode", "semantic", "--json")
    )
    assert semantic["embedded_pending"] == 0


def test_help_lists_every_subcommand(memory_cli: Run) -> None:
    result = memory_cli("--help", db=None)
    for name in (
        "store",
        "get",
        "delete",
        "list",
        "search",
        "stats",
        "purge",
        "export",
        "import",
        "namespace",
        "maintain",
    ):
        assert name in result.stdout


def test_maintain_embeds_and_reports(memory_cli: Run) -> None:
    ok_json(memory_cli("store", "a", "deploys happen on Tuesdays", "--json"))
    ok_json(memory_cli("store", "b", "short", "--ttl", "1ms", "--json"))
    time.sleep(0.05)
    report = ok_json(memory_cli("maintain", "--json"))
    assert report["embedded"] == 1 and report["purged"] == 1 and report["built"] == []
    assert ok_json(memory_cli("stats", "--json"))["pending_embeddings"] == 0


def test_a_running_daemon_serves_store_and_search(cli_env: dict[str, str], tmp_path: Path) -> None:
    from agentflowd.ipc import client

    project = tmp_path / "proj"
    (project / ".git").mkdir(parents=True)
    daemon = subprocess.Popen(
        [sys.executable, "-m", "agentflowd", "serve", "--no-lsp", "--project", str(project)],
        env=cli_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )

    def run(*args: str, env: dict[str, str] = cli_env) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "agentflowd", "memory", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=project,
            timeout=120,
        )

    try:
        client.wait_for_daemon(project, 30)
        stored = ok_json(run("store", "deploy", "deploys happen on Tuesdays", "--json"))
        assert stored["served_by"] == "daemon"
        assert stored["entry"]["embedding"] == "ready"  # the daemon embeds at once
        found = ok_json(run("search", "when do we release to production?", "--json"))
        assert found["served_by"] == "daemon"
        assert found["hits"][0]["entry"]["key"] == "deploy"
        # An explicit database is never the daemon's business.
        other = ok_json(
            run(
                "search",
                "tuesday",
                "--mode",
                "keyword",
                "--json",
                "--db",
                str(tmp_path / "other.db"),
            )
        )
        assert other["served_by"] == "process" and other["hits"] == []
        # Usage errors from the daemon keep their exit code and stay one line.
        fails(run("search", "x", "-k", "5000"), 2, "k")
    finally:
        if daemon.poll() is None:
            client.call(project, "shutdown", {})
        daemon.communicate(timeout=30)
