"""One project as the daemon sees it: its catalog of skills, commands and sub-agents, kept fresh
by the watcher, and the facts editor features draw on."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from agentflowd.editing.facts import ProjectFacts, facts_from_catalog
from agentflowd.project import find_repo_root, home_dir
from agentflowd.skills.catalog import Catalog, discover

WATCHED_SUBDIRS = ("skills", "commands", "agents")


class ProjectState:
    def __init__(
        self, project: Path, *, home: Path | None = None, plugin_dirs: Sequence[Path] = ()
    ) -> None:
        self.project = project.resolve()
        self.home = home
        self.plugin_dirs = tuple(plugin_dirs)
        self.started = time.time()
        self.generation = 0  # bumped by every refresh, so caches can tell they are stale
        self._lock = threading.Lock()
        self._catalog: Catalog | None = None
        self._facts: tuple[int, ProjectFacts] | None = None

    @property
    def loaded(self) -> bool:
        return self._catalog is not None

    def catalog(self) -> Catalog:
        """The current catalog, discovered on first use."""
        catalog = self._catalog
        if catalog is None:
            with self._lock:
                if self._catalog is None:
                    self._catalog = self._discover()
                catalog = self._catalog
        return catalog

    def refresh(self) -> Catalog:
        """Discover again (after files changed on disk)."""
        catalog = self._discover()
        with self._lock:
            self._catalog = catalog
            self.generation += 1
        return catalog

    def _discover(self) -> Catalog:
        return discover(self.project, home=self.home, plugin_dirs=self.plugin_dirs)

    def facts(self, open_frontmatter: Iterable[Any] = ()) -> ProjectFacts:
        extra = list(open_frontmatter)
        if not extra and self._facts is not None and self._facts[0] == self.generation:
            return self._facts[1]
        generation = self.generation
        facts = facts_from_catalog(self.catalog(), extra)
        if not extra:
            self._facts = (generation, facts)
        return facts

    def watch_roots(self) -> set[Path]:
        """Existing folders whose changes can change the catalog."""
        roots = [d / ".claude" for d in _chain(self.project)]
        roots.append((self.home or home_dir()) / ".claude")
        roots.extend(self.plugin_dirs)
        return {root / sub for root in roots for sub in WATCHED_SUBDIRS if (root / sub).is_dir()}


def _chain(project: Path) -> list[Path]:
    repo = find_repo_root(project)
    chain = [project]
    if repo is not None:
        chain.extend(p for p in project.parents if p.is_relative_to(repo))
    return chain
