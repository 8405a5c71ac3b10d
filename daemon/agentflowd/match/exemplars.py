"""The exemplar bank: labelled prompts from other catalogs, used to read a new prompt.

A prompt and a skill description are written in different registers ("note for later: deploys
are on Tuesdays" against "Saves decisions and facts to long-term memory"), and a small sentence
model compares them poorly. Two prompts, or two descriptions, it compares well. So the bank holds
thousands of prompts, each labelled with the description of the skill it was routed to in its own
catalog (or with "nothing" for chit-chat, small edits and near-misses). For a new prompt the
matcher finds its nearest bank prompts and lets each vote, through its label's description, for
the skills of the catalog at hand whose descriptions resemble it. Skills never need to appear in
the bank; their *kind* of request does.

The bank is built from the case files in ``tests/match/exemplars`` (written for this purpose,
never from the development or held-out sets) by ``python -m agentflowd.match.calibrate bank``
and ships as package data: int8 prompt vectors with one scale per row, float16 description
vectors, and a SHA-256 of the source texts so a test can tell when it is stale.
"""

from __future__ import annotations

import functools
import hashlib
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from agentflowd.errors import ConfigError
from agentflowd.match.text import skill_texts

if TYPE_CHECKING:
    from agentflowd.embed import Embedder
    from agentflowd.match.calibrate import CaseSet

BANK_FILE = "exemplars.npz"
NEIGHBOURS = 10  # nearest bank prompts that vote
NEIGHBOUR_TEMPERATURE = 0.05  # softmax over the neighbours' cosines: near ones count most
VOTE_TEMPERATURE = 0.05  # softmax over the catalog's skills for one neighbour's vote


@dataclass(frozen=True)
class ExemplarBank:
    model_id: str
    prompts: np.ndarray  # (n, dim) float32, L2-normalised
    label: np.ndarray  # (n,) int: row of `descriptions`, or -1 when nothing should activate
    descriptions: np.ndarray  # (m, dim) float32, L2-normalised skill documents
    source_sha256: str

    def affinities(self, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per bank description, its cosine to each catalog skill and its vote over them.

        Both get one extra all-zero row at the end, the row of the "nothing" label, so a
        neighbour that should activate nothing adds nothing to any skill.
        """
        if not docs.shape[0]:
            empty = np.zeros((len(self.descriptions) + 1, 0))
            return empty, empty
        cos = self.descriptions @ docs.T
        z = cos / VOTE_TEMPERATURE
        z = np.exp(z - z.max(axis=1, keepdims=True))
        vote = z / z.sum(axis=1, keepdims=True)
        zero = np.zeros((1, docs.shape[0]))
        return np.vstack([cos, zero]), np.vstack([vote, zero])

    def neighbours(self, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each prompt vector: its nearest bank rows and their softmax weights."""
        k = min(NEIGHBOURS, len(self.prompts))
        sims = vectors @ self.prompts.T
        idx = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        near = np.take_along_axis(sims, idx, axis=1)
        w = np.exp((near - near.max(axis=1, keepdims=True)) / NEIGHBOUR_TEMPERATURE)
        return idx, w / w.sum(axis=1, keepdims=True)


def source_digest(sets: Sequence[CaseSet]) -> str:
    """SHA-256 over everything the bank is built from, in a fixed order."""
    h = hashlib.sha256()
    for cs in sorted(sets, key=lambda c: c.name):
        for t in skill_texts(cs.skills):
            h.update(f"S\0{cs.name}\0{t.name}\0{t.document}\n".encode())
        for prompt, want in cs.cases:
            h.update(f"C\0{cs.name}\0{prompt}\0{want or ''}\n".encode())
    return h.hexdigest()


def build_bank(sets: Sequence[CaseSet], embedder: Embedder) -> ExemplarBank:
    prompts: list[str] = []
    label: list[int] = []
    documents: list[str] = []
    for cs in sorted(sets, key=lambda c: c.name):
        texts = skill_texts(cs.skills)
        row = {t.name: len(documents) + i for i, t in enumerate(texts)}
        documents.extend(t.document for t in texts)
        for prompt, want in cs.cases:
            prompts.append(prompt)
            label.append(-1 if want is None else row[want])
    return ExemplarBank(
        model_id=embedder.model_id,
        prompts=_quantised(embedder.embed(prompts)),
        label=np.asarray(label, dtype=np.int32),
        descriptions=embedder.embed(documents).astype(np.float16).astype(np.float32),
        source_sha256=source_digest(sets),
    )


def _quantised(vectors: np.ndarray) -> np.ndarray:
    """What the prompt vectors become after the int8 round trip of `save_bank`."""
    q, scale = _to_int8(vectors)
    return _from_int8(q, scale)


def _to_int8(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scale = np.maximum(np.abs(vectors).max(axis=1), 1e-12) / 127.0
    return np.round(vectors / scale[:, None]).astype(np.int8), scale.astype(np.float32)


def _from_int8(q: np.ndarray, scale: np.ndarray) -> np.ndarray:
    v = q.astype(np.float32) * scale[:, None]
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)


def save_bank(bank: ExemplarBank, path: Path) -> None:
    q, scale = _to_int8(bank.prompts)
    buf = io.BytesIO()
    np.savez(
        buf,
        model_id=np.array(bank.model_id),
        prompts=q,
        scale=scale,
        label=bank.label,
        descriptions=bank.descriptions.astype(np.float16),
        source_sha256=np.array(bank.source_sha256),
    )
    path.write_bytes(buf.getvalue())


def read_bank(data: bytes) -> ExemplarBank:
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            bank = ExemplarBank(
                model_id=str(z["model_id"]),
                prompts=_from_int8(z["prompts"], z["scale"]),
                label=z["label"].astype(np.int64),
                descriptions=z["descriptions"].astype(np.float32),
                source_sha256=str(z["source_sha256"]),
            )
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ConfigError(f"the matcher's exemplar bank is unreadable: {exc}") from exc
    if not len(bank.prompts) or bank.label.max(initial=-1) >= len(bank.descriptions):
        raise ConfigError("the matcher's exemplar bank is inconsistent: rebuild it")
    return bank


@functools.cache
def load_bank() -> ExemplarBank:
    """The shipped bank (package data), read once per process."""
    return read_bank((resources.files("agentflowd.match") / "data" / BANK_FILE).read_bytes())
