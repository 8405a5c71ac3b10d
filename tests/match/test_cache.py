from __future__ import annotations

from pathlib import Path

import msgpack
import numpy as np
import pytest

from agentflowd.embed import get_embedder
from agentflowd.match.cache import EmbeddingCache, cache_path
from agentflowd.match.matcher import SkillMatcher
from tests.match.conftest import make_skill

SKILLS = [
    make_skill("regex-builder", "Builds, explains and tests regular expressions."),
    make_skill("docker-deploy", "Writes Dockerfiles and deploys containers to a server."),
]


class CountingEmbedder:
    """The real embedder, counting the texts it is asked to embed."""

    def __init__(self) -> None:
        self.inner = get_embedder()
        self.model_id = self.inner.model_id
        self.dim = self.inner.dim
        self.texts: list[str] = []

    def embed(self, texts):
        self.texts.extend(texts)
        return self.inner.embed(texts)

    def embed_tokens(self, texts):
        self.texts.extend(texts)
        return self.inner.embed_tokens(texts)


def test_roundtrip_vectors_and_tokens(tmp_path: Path) -> None:
    path = tmp_path / "c.msgpack"
    cache = EmbeddingCache(path, "m", 4)
    cache.put_vector("a", np.array([1, 0, 0, 0], np.float32))
    cache.put_tokens("b", ("x", "y"), np.eye(2, 4, dtype=np.float32))
    cache.save()
    again = EmbeddingCache(path, "m", 4)
    np.testing.assert_array_equal(again.get_vector("a"), [1, 0, 0, 0])
    tokens, states = again.get_tokens("b")
    assert tokens == ("x", "y")
    np.testing.assert_array_equal(states, np.eye(2, 4))
    assert again.get_vector("b") is None  # kinds do not collide
    assert [p.name for p in tmp_path.iterdir()] == ["c.msgpack"]  # no temp file left behind


def test_another_model_misses(tmp_path: Path) -> None:
    path = tmp_path / "c.msgpack"
    cache = EmbeddingCache(path, "m1", 4)
    cache.put_vector("a", np.ones(4, np.float32))
    cache.save()
    assert EmbeddingCache(path, "m2", 4).get_vector("a") is None
    assert EmbeddingCache(path, "m1", 8).get_vector("a") is None


def test_unused_entries_are_dropped_on_save(tmp_path: Path) -> None:
    path = tmp_path / "c.msgpack"
    cache = EmbeddingCache(path, "m", 4)
    cache.put_vector("old", np.ones(4, np.float32))
    cache.save()
    cache = EmbeddingCache(path, "m", 4)
    cache.put_vector("new", np.ones(4, np.float32))
    cache.save()
    assert EmbeddingCache(path, "m", 4).get_vector("old") is None


@pytest.mark.parametrize(
    "content",
    [
        b"not msgpack at all \xff\x00",
        msgpack.packb({"format": 99}),
        msgpack.packb([1, 2, 3]),
        msgpack.packb({"format": 1, "model_id": "m", "dim": 4, "vec": {b"k": b"short"}, "tok": {}}),
        msgpack.packb({"format": 1, "model_id": "m", "dim": 4, "vec": 5, "tok": {}}),
    ],
)
def test_corrupt_file_is_ignored_and_rebuilt(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "c.msgpack"
    path.write_bytes(content)
    cache = EmbeddingCache(path, "m", 4)
    assert cache.get_vector("a") is None
    cache.put_vector("a", np.ones(4, np.float32))
    cache.save()
    assert cache.write_error is None
    assert EmbeddingCache(path, "m", 4).get_vector("a") is not None


def test_warm_match_does_not_embed_the_catalog(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    cold = CountingEmbedder()
    first = SkillMatcher.for_project(project, SKILLS, embedder=cold).match_one("write a regex")
    assert cold.texts and cache_path(project).is_file()
    warm = CountingEmbedder()
    second = SkillMatcher.for_project(project, SKILLS, embedder=warm).match_one("write a regex")
    assert warm.texts == ["write a regex"]  # only the prompt
    assert second == first


def test_edited_description_is_re_embedded(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    SkillMatcher.for_project(project, SKILLS, embedder=CountingEmbedder())
    edited = [SKILLS[0], make_skill("docker-deploy", "Builds container images.")]
    counting = CountingEmbedder()
    SkillMatcher.for_project(project, edited, embedder=counting)
    assert any("Builds container images" in t for t in counting.texts)
    assert not any("regular expressions" in t for t in counting.texts)


def test_unwritable_project_still_matches(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / ".agentflow").write_text("a file where the state folder should be")
    matcher = SkillMatcher.for_project(project, SKILLS)
    assert matcher.match_one("write a regex for dates").skill == "regex-builder"
    assert matcher.cache.write_error is not None
