from __future__ import annotations

import json
from pathlib import Path

from agentflowd.skills.catalog import discover


def write_skill(root: Path, name: str, front: str = "", body: str = "Body.\n") -> Path:
    path = root / ".claude" / "skills" / name / "SKILL.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"---\n{front or f'description: {name} skill'}\n---\n{body}")
    return path


def test_precedence_personal_over_project_and_closest_project_first(
    tmp_path: Path, home: Path
) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    sub = repo / "packages" / "web"
    sub.mkdir(parents=True)
    write_skill(repo, "deploy", "description: from the repo root")
    near = write_skill(sub, "deploy", "description: from the package")
    write_skill(repo, "lint")
    mine = write_skill(home, "lint", "description: personal lint")
    catalog = discover(sub, home=home, managed_dir=None)
    assert catalog.get("deploy").path == near
    assert catalog.get("lint").path == mine
    assert catalog.get("lint").source == "personal"
    hidden = {(s.skill.name, s.by.path) for s in catalog.shadowed}
    assert hidden == {("deploy", near), ("lint", mine)}
    assert all(d[0].code == "AF070" for d in catalog.diagnostics.values())


def test_skill_beats_command_and_commands_are_skills(tmp_path: Path, home: Path) -> None:
    commands = tmp_path / ".claude" / "commands"
    (commands / "nested").mkdir(parents=True)
    (commands / "fix.md").write_text("---\ndescription: command fix\n---\nFix $ARGUMENTS\n")
    (commands / "nested" / "ship.md").write_text("Ship the release.\n")
    write_skill(tmp_path, "fix", "description: skill fix")
    catalog = discover(tmp_path, home=home, managed_dir=None)
    assert catalog.get("fix").kind == "skill"
    ship = catalog.get("ship")
    assert (ship.kind, ship.description) == ("command", "Ship the release.")
    assert [s.skill.kind for s in catalog.shadowed] == ["command"]


def test_plugin_skills_are_namespaced(tmp_path: Path, home: Path) -> None:
    plugin = tmp_path / "plugin"
    (plugin / ".claude-plugin").mkdir(parents=True)
    (plugin / ".claude-plugin" / "plugin.json").write_text(json.dumps({"name": "tools"}))
    skill = plugin / "skills" / "folder" / "SKILL.md"
    skill.parent.mkdir(parents=True)
    skill.write_text("---\nname: review\ndescription: plugin review\n---\n")
    write_skill(tmp_path, "review")
    catalog = discover(tmp_path, home=home, plugin_dirs=[plugin], managed_dir=None)
    assert {s.name for s in catalog.skills} == {"review", "tools:review"}


def test_fallbacks_flags_and_agents(tmp_path: Path, home: Path) -> None:
    write_skill(
        tmp_path,
        "quiet",
        "disable-model-invocation: Yes",
        body="# T\n\nFirst para\nline two.\n\nSecond.\n",
    )
    write_skill(tmp_path, "broken", "name: [oops", body="Still listed.\n")
    agents = tmp_path / ".claude" / "agents"
    agents.mkdir(parents=True)
    (agents / "sec.md").write_text(
        "---\nname: sec\ndescription: security\ntools: Read, Grep\ncapabilities: [security]\n"
        "executor: {kind: command, argv: [python3, x.py]}\n---\nYou review security.\n"
    )
    (agents / "nameless.md").write_text("---\ndescription: no name\n---\n")
    catalog = discover(tmp_path, home=home, managed_dir=None)
    quiet = catalog.get("quiet")
    assert quiet.disable_model_invocation and quiet.description == "First para line two."
    assert catalog.get("broken").description == "Still listed."
    assert [s.name for s in catalog.model_invocable] == ["broken"]
    [agent] = catalog.agents
    assert (agent.name, agent.tools, agent.capabilities) == ("sec", ("Read", "Grep"), ("security",))
    assert agent.executor == {"kind": "command", "argv": ["python3", "x.py"]}
    assert agent.system_prompt == "You review security."


def test_plugins_installed_by_claude_code_are_found(tmp_path: Path, home: Path) -> None:
    """The registry and settings shapes are those Claude Code 2.1.331 writes on `plugin install`."""
    installs = {}
    for name in ("plug", "off", "elsewhere"):
        root = home / ".claude" / "plugins" / "cache" / "mkt" / name / "1.0.0"
        (root / ".claude-plugin").mkdir(parents=True)
        (root / ".claude-plugin" / "plugin.json").write_text(json.dumps({"name": name}))
        skill = root / "skills" / "hello" / "SKILL.md"
        skill.parent.mkdir(parents=True)
        skill.write_text("---\nname: hello\ndescription: says hello\n---\nHi\n")
        installs[name] = str(root)
    registry = {
        "version": 2,
        "plugins": {
            "plug@mkt": [{"scope": "user", "installPath": installs["plug"], "version": "1.0.0"}],
            "off@mkt": [{"scope": "user", "installPath": installs["off"], "version": "1.0.0"}],
            "elsewhere@mkt": [
                {
                    "scope": "project",
                    "projectPath": "/some/other/project",
                    "installPath": installs["elsewhere"],
                    "version": "1.0.0",
                }
            ],
        },
    }
    (home / ".claude" / "plugins" / "installed_plugins.json").write_text(json.dumps(registry))
    (home / ".claude" / "settings.json").write_text(
        json.dumps({"enabledPlugins": {"plug@mkt": True, "off@mkt": True}})
    )
    (tmp_path / ".claude").mkdir()
    (tmp_path / ".claude" / "settings.json").write_text(
        json.dumps({"enabledPlugins": {"off@mkt": False}})
    )
    catalog = discover(tmp_path, home=home, managed_dir=None)
    assert [s.name for s in catalog.skills] == ["plug:hello"]
    assert discover(tmp_path, home=home, managed_dir=None, include_installed=False).skills == ()
