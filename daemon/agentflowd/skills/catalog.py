"""Discover skills, commands and sub-agents the way Claude Code does, with precedence and shadowing.

Scopes, highest precedence first (a name found in a higher scope hides the same name below):
  1. enterprise: the managed folder (`/etc/claude-code/.claude` on Linux)
  2. personal:   `~/.claude/skills/<name>/SKILL.md`, `~/.claude/commands/*.md`
  3. project:    `.claude/skills/<name>/SKILL.md` and `.claude/commands/*.md` in the working
                 directory and every parent up to the repository root; the closest folder wins
Plugin skills (`<plugin>/skills/<name>/SKILL.md`) are namespaced `plugin:name` and never clash.
Plugins come from `--plugin-dir` and from Claude Code's own registry
(`~/.claude/plugins/installed_plugins.json`), less those that `enabledPlugins` in the user's or
the project's settings turns off; project-scoped installs count only in their project.
Within one scope a skill beats a command of the same name. Personal and project skills are
invoked by their folder name; a plugin skill's front-matter `name` sets its last segment.
Sub-agents: project (closest first) beats personal beats plugin; their identity is `name`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentflowd.project import find_repo_root, home_dir
from agentflowd.skills import codes
from agentflowd.skills.files import SKIP_DIRS
from agentflowd.skills.model import AgentDef, Diagnostic, Document, Severity, Skill, Source, Span
from agentflowd.skills.parse import load_document
from agentflowd.skills.validate import first_paragraph

MANAGED_DIR = Path("/etc/claude-code/.claude")
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


@dataclass(frozen=True)
class Shadowed:
    skill: Skill
    by: Skill


@dataclass(frozen=True)
class Catalog:
    skills: tuple[Skill, ...]
    agents: tuple[AgentDef, ...] = ()
    shadowed: tuple[Shadowed, ...] = ()
    documents: dict[Path, Document] = field(default_factory=dict, compare=False)

    def get(self, name: str) -> Skill | None:
        return next((s for s in self.skills if s.name == name), None)

    def get_agent(self, name: str) -> AgentDef | None:
        return next((a for a in self.agents if a.name == name), None)

    @property
    def model_invocable(self) -> tuple[Skill, ...]:
        return tuple(s for s in self.skills if not s.disable_model_invocation)

    @property
    def diagnostics(self) -> dict[Path, list[Diagnostic]]:
        """Shadowing findings per file (validation findings come from `validate_document`)."""
        out: dict[Path, list[Diagnostic]] = {}
        for item in self.shadowed:
            code = codes.COMMAND_SHADOWED if item.skill.kind == "command" else codes.SHADOWED
            out.setdefault(item.skill.path, []).append(
                Diagnostic(
                    code,
                    Severity.WARNING if code == codes.SHADOWED else Severity.INFO,
                    f"`{item.skill.name}` ({item.skill.source}) is hidden by {item.by.path} "
                    f"({item.by.source})",
                    Span.at(0),
                )
            )
        return out


def discover(
    project: Path,
    *,
    home: Path | None = None,
    plugin_dirs: Sequence[Path] = (),
    managed_dir: Path | None = MANAGED_DIR,
    include_installed: bool = True,
) -> Catalog:
    """Every skill, command and sub-agent visible from `project` (the working directory)."""
    project = project.resolve()
    home = home if home is not None else home_dir()
    scopes: list[tuple[Source, list[Path]]] = []
    if managed_dir is not None:
        scopes.append(("enterprise", [managed_dir]))
    scopes.append(("personal", [home / ".claude"]))
    scopes.append(("project", [d / ".claude" for d in _project_chain(project)]))

    documents: dict[Path, Document] = {}
    chosen: dict[str, Skill] = {}
    shadowed: list[Shadowed] = []
    for source, roots in scopes:
        for root in roots:
            if root == home / ".claude" and source == "project":
                continue  # a project under $HOME must not list personal skills twice
            for skill in _skills_in(root, source, None, documents):
                _choose(chosen, shadowed, skill)
    if include_installed:
        plugin_dirs = [*plugin_dirs, *installed_plugin_dirs(project, home)]
    for plugin_root in plugin_dirs:
        plugin = _plugin_name(plugin_root)
        for skill in _skills_in(plugin_root, "plugin", plugin, documents):
            _choose(chosen, shadowed, skill)

    agents: dict[str, AgentDef] = {}
    agent_roots: list[tuple[Source, Path]] = [
        ("project", d / ".claude") for d in _project_chain(project)
    ]
    agent_roots.append(("personal", home / ".claude"))
    agent_roots.extend(("plugin", p) for p in plugin_dirs)
    for source, root in agent_roots:
        for agent in _agents_in(root, source, documents):
            agents.setdefault(agent.name, agent)

    return Catalog(
        skills=tuple(sorted(chosen.values(), key=lambda s: s.name)),
        agents=tuple(sorted(agents.values(), key=lambda a: a.name)),
        shadowed=tuple(shadowed),
        documents=documents,
    )


def installed_plugin_dirs(project: Path, home: Path) -> list[Path]:
    """Install folders of the plugins Claude Code has installed and enabled for `project`."""
    registry = _read_json(home / ".claude" / "plugins" / "installed_plugins.json")
    plugins = registry.get("plugins") if isinstance(registry, dict) else None
    if not isinstance(plugins, dict):
        return []
    enabled: dict[str, Any] = {}
    for settings in (
        home / ".claude" / "settings.json",
        project / ".claude" / "settings.json",
        project / ".claude" / "settings.local.json",
    ):
        data = _read_json(settings)
        if isinstance(data, dict) and isinstance(data.get("enabledPlugins"), dict):
            enabled.update(data["enabledPlugins"])
    out: list[Path] = []
    for plugin_id, entries in plugins.items():
        if enabled.get(plugin_id) is False:
            continue
        for entry in entries if isinstance(entries, list) else [entries]:
            if not isinstance(entry, dict) or not isinstance(entry.get("installPath"), str):
                continue
            scope_project = entry.get("projectPath")
            if entry.get("scope") in ("project", "local") and (
                not isinstance(scope_project, str) or Path(scope_project).resolve() != project
            ):
                continue
            folder = Path(entry["installPath"])
            if folder.is_dir():
                out.append(folder)
                break
    return out


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _project_chain(project: Path) -> list[Path]:
    repo = find_repo_root(project)
    if repo is None:
        return [project]
    chain = [project]
    for parent in project.parents:
        if not parent.is_relative_to(repo):
            break
        chain.append(parent)
    return chain


def _choose(chosen: dict[str, Skill], shadowed: list[Shadowed], skill: Skill) -> None:
    current = chosen.get(skill.name)
    if current is None:
        chosen[skill.name] = skill
    elif current.kind == "command" and skill.kind == "skill" and current.source == skill.source:
        chosen[skill.name] = skill
        shadowed.append(Shadowed(current, skill))
    else:
        shadowed.append(Shadowed(skill, current))


def _skills_in(
    root: Path, source: Source, plugin: str | None, documents: dict[Path, Document]
) -> Iterator[Skill]:
    skills_dir = root / "skills"
    found: list[Skill] = []
    if skills_dir.is_dir():
        for entry in _sorted_dirs(skills_dir):
            skill_md = _skill_file(entry)
            if skill_md is None:
                continue
            doc = load_document(skill_md, "skill")
            documents[skill_md] = doc
            found.append(_skill_from(doc, entry.name, source, plugin, "skill"))
    commands_dir = root / "commands"
    if commands_dir.is_dir():
        for md in _markdown_files(commands_dir):
            doc = load_document(md, "command")
            documents[md] = doc
            found.append(_skill_from(doc, md.stem, source, plugin, "command"))
    # Skills first so that, within one scope, a skill beats a same-named command.
    found.sort(key=lambda s: s.kind != "skill")
    yield from found


def _sorted_dirs(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError:
        return []


def _skill_file(folder: Path) -> Path | None:
    for name in ("SKILL.md", "skill.md"):
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


def _markdown_files(folder: Path, max_depth: int = 4) -> list[Path]:
    out: list[Path] = []
    base_depth = len(folder.parts)
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        depth = len(Path(dirpath).parts) - base_depth
        dirnames[:] = sorted(
            d
            for d in dirnames
            if d not in SKIP_DIRS and not d.startswith(".") and depth < max_depth
        )
        out.extend(Path(dirpath) / f for f in sorted(filenames) if f.endswith(".md"))
    return out


def _skill_from(
    doc: Document, folder_name: str, source: Source, plugin: str | None, kind: str
) -> Skill:
    data = doc.data
    label = folder_name
    if plugin is not None:
        fm_name = data.get("name")
        label = f"{plugin}:{fm_name if isinstance(fm_name, str) and fm_name else folder_name}"
    description = _text(data.get("description")) or first_paragraph(doc.body)
    triggers = data.get("triggers")
    return Skill(
        name=label,
        description=description,
        path=doc.path or Path(folder_name),
        source=source,
        kind="skill" if kind == "skill" else "command",
        when_to_use=_text(data.get("when_to_use")),
        triggers=tuple(str(t) for t in triggers) if isinstance(triggers, list) else (),
        disable_model_invocation=_flag(data.get("disable-model-invocation"), default=False),
        user_invocable=_flag(data.get("user-invocable"), default=True),
        plugin=plugin,
        frontmatter=data,
        body=doc.body,
    )


def _text(value: Any) -> str:
    if value is None or isinstance(value, dict | list):
        return ""
    return " ".join(str(value).split())


def _flag(value: Any, *, default: bool) -> bool:
    """Booleans the way Claude Code reads them: true/false/yes/no/on/off/1/0, any case."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() if value is not None else ""
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return default


def _plugin_name(root: Path) -> str:
    manifest = _read_json(root / ".claude-plugin" / "plugin.json")
    name = manifest.get("name") if isinstance(manifest, dict) else None
    return name if isinstance(name, str) and name else root.resolve().name


def _agents_in(root: Path, source: Source, documents: dict[Path, Document]) -> Iterator[AgentDef]:
    agents_dir = root / "agents"
    if not agents_dir.is_dir():
        return
    for md in _markdown_files(agents_dir):
        doc = load_document(md, "agent")
        documents[md] = doc
        data = doc.data
        name, description = data.get("name"), data.get("description")
        if not isinstance(name, str) or not name or ":" in name or name.startswith("-"):
            continue  # Claude Code skips these silently; `validate` reports them
        if not description:
            continue
        tools = data.get("tools")
        if isinstance(tools, str):
            tools_tuple: tuple[str, ...] | None = tuple(
                t.strip() for t in tools.replace(",", " ").split() if t.strip()
            )
        elif isinstance(tools, list):
            tools_tuple = tuple(str(t) for t in tools)
        else:
            tools_tuple = None
        caps = data.get("capabilities")
        executor = data.get("executor")
        yield AgentDef(
            name=name,
            description=_text(description),
            path=md,
            source=source,
            tools=tools_tuple,
            model=str(data["model"]) if data.get("model") is not None else None,
            capabilities=tuple(str(c) for c in caps) if isinstance(caps, list) else (),
            executor=executor if isinstance(executor, dict) else None,
            frontmatter=data,
            system_prompt=doc.body.strip(),
        )
