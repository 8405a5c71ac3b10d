"""The skill matcher: features for every (prompt, skill) pair, then a calibrated decision.

See `agentflowd.match` for how the features are fused and how the decision is calibrated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from agentflowd.embed import TokenEmbedder, get_embedder
from agentflowd.errors import ConfigError
from agentflowd.match import Candidate, MatchResult
from agentflowd.match.cache import EmbeddingCache, cache_path
from agentflowd.match.exemplars import ExemplarBank, load_bank
from agentflowd.match.lexical import LexicalIndex
from agentflowd.match.params import Params, load_params
from agentflowd.match.text import STOPWORDS, skill_texts
from agentflowd.skills.model import Skill

FEATURES = (
    "dense_doc",
    "dense_view",
    "dense_token",
    "bm25",
    "coverage",
    "trigger",
    "exemplar",
    "exemplar_vote",
)
TRIGGER = FEATURES.index("trigger")
TOP_K = 3
BACKGROUND_NEIGHBOURS = 3


def background_prompts() -> tuple[str, ...]:
    text = (resources.files("agentflowd.match") / "data" / "background.txt").read_text("utf-8")
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def _content_rows(tokens: Sequence[str]) -> list[int]:
    """Word pieces that carry meaning: not punctuation, not a stopword (all pieces if none do)."""
    rows = [
        i
        for i, t in enumerate(tokens)
        if any(c.isalnum() for c in t) and t.removeprefix("##") not in STOPWORDS
    ]
    return rows or list(range(len(tokens)))


@dataclass(frozen=True)
class Evidence:
    """What the acceptance model knows of a prompt besides the skills' utilities."""

    background: float  # mean cosine to the nearest generic prompts
    nothing: float  # share of the nearest exemplars that activated nothing


@dataclass(frozen=True)
class Features:
    """Per prompt: x (n_skills, len(FEATURES)), its similarity to generic prompts and the share
    of its nearest exemplars that activated nothing."""

    x: np.ndarray  # (n_prompts, n_skills, n_features)
    background: np.ndarray  # (n_prompts,)
    nothing: np.ndarray  # (n_prompts,)

    def evidence(self, i: int) -> Evidence:
        return Evidence(float(self.background[i]), float(self.nothing[i]))


class SkillMatcher:
    """A catalog indexed for matching. Build once, match many prompts."""

    def __init__(
        self,
        skills: Sequence[Skill],
        *,
        embedder: TokenEmbedder | None = None,
        cache: EmbeddingCache | None = None,
        params: Params | None = None,
        bank: ExemplarBank | None = None,
    ) -> None:
        self.embedder = embedder or get_embedder()
        self.params = params or load_params()
        self._bank = bank or load_bank()
        if self._bank.model_id != self.embedder.model_id:
            raise ConfigError(
                f"the exemplar bank was built with {self._bank.model_id}, "
                f"the embedder is {self.embedder.model_id}: rebuild it"
            )
        self.skills = tuple(s for s in skills if not s.disable_model_invocation)
        self.texts = skill_texts(self.skills)
        self._cache = cache or EmbeddingCache(None, self.embedder.model_id, self.embedder.dim)
        background = background_prompts()
        self._lexical = LexicalIndex(self.texts, background)

        docs = [t.document for t in self.texts]
        views: list[str] = []
        owners: list[int] = []
        for j, t in enumerate(self.texts):
            views.extend(t.views)
            owners.extend([j] * len(t.views))
        vectors = self._vectors([*docs, *views, *background])
        self._docs = vectors[: len(docs)]
        self._views = vectors[len(docs) : len(docs) + len(views)]
        self._background = vectors[len(docs) + len(views) :]
        self._view_starts = _segment_starts(owners, len(self.texts))
        self._affinity, self._vote = self._bank.affinities(self._docs)

        token_sets = self._token_states([t.token_document for t in self.texts])
        self._doc_tokens = (
            np.concatenate(token_sets) if token_sets else np.zeros((0, self.embedder.dim))
        )
        token_owners = [j for j, s in enumerate(token_sets) for _ in range(len(s))]
        self._token_starts = _segment_starts(token_owners, len(self.texts))
        self._cache.save()

    @classmethod
    def for_project(
        cls, project: Path, skills: Sequence[Skill], *, embedder: TokenEmbedder | None = None
    ) -> SkillMatcher:
        embedder = embedder or get_embedder()
        cache = EmbeddingCache(cache_path(project), embedder.model_id, embedder.dim)
        return cls(skills, embedder=embedder, cache=cache)

    @property
    def cache(self) -> EmbeddingCache:
        return self._cache

    def _vectors(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.embedder.dim), np.float32)
        missing: dict[str, list[int]] = {}
        for i, text in enumerate(texts):
            hit = self._cache.get_vector(text)
            if hit is None:
                missing.setdefault(text, []).append(i)
            else:
                out[i] = hit
        if missing:
            fresh = self.embedder.embed(list(missing))
            for (text, rows), vec in zip(missing.items(), fresh, strict=True):
                out[rows] = vec
                self._cache.put_vector(text, vec)
        return out

    def _token_states(self, texts: list[str]) -> list[np.ndarray]:
        out: list[np.ndarray | None] = []
        missing: list[int] = []
        for i, text in enumerate(texts):
            hit = self._cache.get_tokens(text)
            out.append(None if hit is None else hit[1][_content_rows(hit[0])])
            if hit is None:
                missing.append(i)
        if missing:
            fresh = self.embedder.embed_tokens([texts[i] for i in missing])
            for i, tokens, states in zip(missing, fresh.tokens, fresh.states, strict=True):
                self._cache.put_tokens(texts[i], tokens, states)
                out[i] = states[_content_rows(tokens)]
        # A skill whose text has no word piece at all still needs one row to own its block.
        zero = np.zeros((1, self.embedder.dim), np.float32)
        return [s if s is not None and len(s) else zero for s in out]

    def features(self, prompts: Sequence[str]) -> Features:
        n = len(self.texts)
        x = np.zeros((len(prompts), n, len(FEATURES)))
        if not prompts:
            return Features(x, np.zeros(0), np.zeros(0))
        enc = self.embedder.embed_tokens(list(prompts))
        sims = enc.vectors @ self._background.T
        k = min(BACKGROUND_NEIGHBOURS, sims.shape[1])
        background = np.sort(sims, axis=1)[:, -k:].mean(axis=1) if k else np.zeros(len(prompts))
        near, weight = self._bank.neighbours(enc.vectors)
        label = self._bank.label[near]
        nothing = (weight * (label < 0)).sum(axis=1)
        if not n:
            return Features(x, background, nothing)
        x[:, :, 0] = enc.vectors @ self._docs.T
        x[:, :, 1] = np.maximum.reduceat(enc.vectors @ self._views.T, self._view_starts, axis=1)
        # label -1 picks the last, all-zero row: a "nothing" neighbour votes for no skill.
        # One neighbour rank at a time keeps memory at (prompts, skills) for large catalogs.
        for k in range(label.shape[1]):
            w = weight[:, k : k + 1]
            x[:, :, 6] += w * self._affinity[label[:, k]]
            x[:, :, 7] += w * self._vote[label[:, k]]
        for i, prompt in enumerate(prompts):
            rows = _content_rows(enc.tokens[i])
            if rows and len(self._doc_tokens):
                per_token = enc.states[i][rows] @ self._doc_tokens.T
                x[i, :, 2] = np.maximum.reduceat(per_token, self._token_starts, axis=1).mean(0)
            x[i, :, 3], x[i, :, 4], x[i, :, 5] = self._lexical.scores(prompt)
        return Features(x, background, nothing)

    def match(self, prompts: Sequence[str]) -> list[MatchResult]:
        feats = self.features(prompts)
        return [
            decide(
                self.params,
                [t.name for t in self.texts],
                prompt,
                feats.x[i],
                feats.evidence(i),
            )
            for i, prompt in enumerate(prompts)
        ]

    def match_one(self, prompt: str) -> MatchResult:
        return self.match([prompt])[0]


def _segment_starts(owners: list[int], n: int) -> np.ndarray:
    """Start column of each skill's block (owners is sorted; every skill owns at least one)."""
    return np.searchsorted(np.asarray(owners, dtype=np.int64), np.arange(n))


def utilities(params: Params, x: np.ndarray) -> np.ndarray:
    return x @ params.weights


def confidences(
    params: Params, u: np.ndarray, evidence: Evidence, trigger: np.ndarray
) -> np.ndarray:
    """Calibrated probability that each skill is the right one for the prompt (`trigger`: each
    skill's trigger-phrase hit, an author's explicit "this phrase means me")."""
    if len(u) == 0:
        return u
    if len(u) == 1:
        runner_up = np.array([u[0] - params.lone_margin])
    else:
        top2 = np.sort(u)[-2:]
        runner_up = np.where(u >= top2[1], top2[0], top2[1])
    a = params.accept
    z = (
        a.bias
        + a.top * u
        + a.margin * (u - runner_up)
        + a.background * evidence.background
        + a.nothing * evidence.nothing
        + a.trigger * trigger
    )
    return 1.0 / (1.0 + np.exp(-z))


def decide(
    params: Params, names: Sequence[str], prompt: str, x: np.ndarray, evidence: Evidence
) -> MatchResult:
    u = utilities(params, x)
    p = confidences(params, u, evidence, x[:, TRIGGER])
    order = np.argsort(-u, kind="stable")[:TOP_K]
    candidates = tuple(Candidate(names[j], round(float(p[j]), 4)) for j in order)
    best = candidates[0] if candidates else None
    chosen = best.skill if best is not None and best.score >= params.threshold else None
    return MatchResult(
        prompt=prompt,
        skill=chosen,
        score=best.score if best is not None else 0.0,
        candidates=candidates,
    )
