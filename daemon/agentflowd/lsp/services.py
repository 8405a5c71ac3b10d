"""What the daemon answers, shared by the socket methods and the LSP custom requests.

Plain functions of JSON-like params returning JSON-like results; they raise the typed errors of
`agentflowd.errors` (UsageError for bad params, NotBuiltError when a part of agentflowd is not
installed in this daemon). All are blocking: callers run the heavy ones in the daemon's work
executor, never on the thread that reads the editor's messages.
"""

from __future__ import annotations

import importlib
import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agentflowd import __version__
from agentflowd.errors import NotBuiltError, NotFoundError, UsageError
from agentflowd.lsp.state import ProjectState
from agentflowd.project import state_dir
from agentflowd.skills.model import Skill

PROTOCOL = 1
MAX_PROMPTS = 256


def require_module(name: str, feature: str) -> Any:
    """Import a part of agentflowd another team builds; say plainly when it is not there."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (exc.name == name or name.startswith(exc.name + ".")):
            raise NotBuiltError(
                f"{feature} is not available in this daemon ({name} is not installed)"
            ) from None
        raise


class Services:
    def __init__(self, state: ProjectState, *, mode: str) -> None:
        self.state = state
        self.mode = mode  # "lsp" (an editor's server) or "socket" (a background daemon)
        self._memory: Any = None
        self._memory_lock = threading.Lock()
        self._matcher: tuple[int, Any] | None = None
        self._match_lock = threading.Lock()

    def close(self) -> None:
        with self._memory_lock:
            if self._memory is not None:
                self._memory.close()
                self._memory = None

    # ----- daemon

    def ping(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "protocol": PROTOCOL,
            "version": __version__,
            "pid": os.getpid(),
            "mode": self.mode,
            "project": str(self.state.project),
            "uptime": round(time.time() - self.state.started, 3),
            "skills": len(self.state.catalog().skills) if self.state.loaded else None,
            "matcher_ready": self._matcher is not None
            and self._matcher[0] == self.state.generation,
        }

    # ----- skills

    def list_skills(self, params: dict[str, Any]) -> dict[str, Any]:
        catalog = self.state.catalog()
        return {
            "skills": [skill_json(s) for s in catalog.skills],
            "agents": [
                {
                    "name": a.name,
                    "description": a.description,
                    "path": str(a.path),
                    "source": a.source,
                    "capabilities": list(a.capabilities),
                }
                for a in catalog.agents
            ],
            "shadowed": [
                {"name": s.skill.name, "path": str(s.skill.path), "hidden_by": str(s.by.path)}
                for s in catalog.shadowed
            ],
        }

    def validate(self, params: dict[str, Any]) -> dict[str, Any]:
        from agentflowd.skills.parse import load_document, parse_document
        from agentflowd.skills.validate import validate_document

        path = Path(_string(params, "path"))
        if not path.is_absolute():
            path = self.state.project / path
        text = params.get("text")
        strict = bool(params.get("strict", False))
        if text is not None and not isinstance(text, str):
            raise UsageError("`text` must be a string when given")
        doc = parse_document(text, path) if text is not None else load_document(path)
        diags = validate_document(doc, strict=strict)
        return {
            "path": str(path),
            "kind": doc.kind,
            "strict": strict,
            "diagnostics": [d.to_json() for d in diags],
        }

    def match(self, params: dict[str, Any]) -> Any:
        """`prompt` -> one result (as `skills match --json` prints it); `prompts` -> `results`."""
        if "prompts" in params:
            prompts = params["prompts"]
            if (
                not isinstance(prompts, list)
                or not 1 <= len(prompts) <= MAX_PROMPTS
                or not all(isinstance(p, str) for p in prompts)
            ):
                raise UsageError(f"`prompts` must be a list of 1 to {MAX_PROMPTS} strings")
        else:
            prompts = [_string(params, "prompt")]
        skills = self.state.catalog().model_invocable
        if skills:
            results = [r.to_json() for r in self.matcher().match(prompts)]
        else:  # nothing can match: answer without loading the model
            from agentflowd.match import MatchResult

            results = [MatchResult.nothing(p).to_json() for p in prompts]
        return {"results": results} if "prompts" in params else results[0]

    def matcher(self) -> Any:
        """The matcher for the current catalog, built once per catalog generation."""
        with self._match_lock:
            generation = self.state.generation
            if self._matcher is not None and self._matcher[0] == generation:
                return self._matcher[1]
            module = require_module("agentflowd.match.matcher", "skill matching")
            skills = self.state.catalog().model_invocable
            built = module.SkillMatcher.for_project(self.state.project, skills)
            self._matcher = (generation, built)
            return built

    def warm_matcher(self) -> None:
        """Build the matcher ahead of the first prompt (the background daemon does, an editor's
        server does not: the model costs memory an editor session may never need)."""
        if self.state.catalog().model_invocable:
            self.matcher()

    # ----- swarms

    def swarm_run(
        self, params: dict[str, Any], stop: Any, on_event: Callable[[Any], None]
    ) -> dict[str, Any]:
        """Run a skill's agents; `stop` is a `swarm.stop.StopSignal`, `on_event` sees every event
        (in the run's thread: it must not block)."""
        name = _string(params, "skill")
        inputs = params.get("inputs") or {}
        if not isinstance(inputs, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in inputs.items()
        ):
            raise UsageError("`inputs` must be a map of strings to strings")
        build = require_module("agentflowd.swarm.build", "the swarm engine")
        runner = require_module("agentflowd.swarm.runner", "the swarm engine")

        catalog = self.state.catalog()
        skill = catalog.get(name)
        if skill is None:
            raise NotFoundError(f"no skill named {name!r} in {self.state.project}")
        plan = build.plan_for_skill(
            skill, project=self.state.project, agent_defs=catalog.agents, inputs=inputs
        )
        record = runner.run_plan(plan, project=self.state.project, stop=stop, sinks=(on_event,))
        result = record.result.to_json()
        out = {
            **result,
            "run_dir": str(record.run_dir),
            "outputs": [str(p) for p in record.outputs],
            "run_file": str(record.run_file),
            "events": {**result.get("events", {}), "recorded": record.events_recorded},
        }
        if record.record_error:
            out["warnings"] = [record.record_error]
        return json.loads(json.dumps(out, ensure_ascii=False, default=str))

    # ----- memory

    def _store(self) -> Any:
        with self._memory_lock:
            if self._memory is None:
                store_mod = require_module("agentflowd.memory.store", "the memory store")
                paths_mod = require_module("agentflowd.memory.paths", "the memory store")
                # Always the project's default database (never $AGENTFLOWD_MEMORY_DB): that is
                # the one the CLI sends here; other databases are opened in the CLI's process.
                db = state_dir(self.state.project) / paths_mod.DB_NAME
                # A long-lived process keeps the embedder loaded: embed as entries are written.
                self._memory = store_mod.MemoryStore(db, embed_on_write=True, background="thread")
            return self._memory

    def memory_store(self, params: dict[str, Any]) -> dict[str, Any]:
        from agentflowd.memory.model import DEFAULT_NAMESPACE

        key = _string(params, "key")
        if "value" not in params:
            raise UsageError("`value` is required")
        tags = params.get("tags", [])
        metadata = params.get("metadata")
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise UsageError("`tags` must be a list of strings")
        if metadata is not None and not isinstance(metadata, dict):
            raise UsageError("`metadata` must be a map")
        result = self._store().store(
            _optional_string(params, "namespace") or DEFAULT_NAMESPACE,
            key,
            params["value"],
            is_json=params.get("is_json"),
            ttl=params.get("ttl"),
            tags=tags,
            metadata=metadata,
            redact=params.get("redact", True) is not False,
        )
        return result.to_json()

    def memory_search(self, params: dict[str, Any]) -> dict[str, Any]:
        query = _string(params, "query")
        k = params.get("k", 10)
        if not isinstance(k, int) or isinstance(k, bool):
            raise UsageError("`k` must be an integer")  # the store checks its range
        tags = params.get("tags", [])
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise UsageError("`tags` must be a list of strings")
        result = self._store().search(
            query,
            mode=_optional_string(params, "mode") or "hybrid",
            k=k,
            namespace=_optional_string(params, "namespace"),
            tags=tags,
            metadata=params.get("metadata"),
        )
        return result.to_json()


def skill_json(skill: Skill) -> dict[str, Any]:
    return {
        "name": skill.name,
        "description": skill.description,
        "when_to_use": skill.when_to_use,
        "triggers": list(skill.triggers),
        "path": str(skill.path),
        "source": skill.source,
        "kind": skill.kind,
        "plugin": skill.plugin,
        "model_invocable": not skill.disable_model_invocation,
        "user_invocable": skill.user_invocable,
    }


def _string(params: dict[str, Any], name: str) -> str:
    value = params.get(name)
    if not isinstance(value, str) or not value.strip():
        raise UsageError(f"`{name}` is required and must be a non-empty string")
    return value


def _optional_string(params: dict[str, Any], name: str) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise UsageError(f"`{name}` must be a string")
    return value
