"""Natural-language skill matching: route a prompt to the right skill, or to none.

Importing this package is cheap; `SkillMatcher` (in `agentflowd.match.matcher`) loads numpy and
the embedder.

How a prompt is scored against a skill
--------------------------------------
Every model-invocable skill (``disable-model-invocation`` skills are left out) is read through
its name (split on ``-``), description, ``when_to_use`` and ``triggers``. For each (prompt,
skill) pair eight features are computed, all roughly in [0, 1]:

* ``dense_doc``: cosine between the prompt and the whole skill text (all-MiniLM-L6-v2, the shared
  embedder in `agentflowd.embed`).
* ``dense_view``: the best cosine between the prompt and one short *view* of the skill: its name,
  each sentence and each clause of the description and ``when_to_use`` (plus its request form,
  "Saves decisions" -> "Save decisions", since descriptions are third person and prompts are
  requests), each trigger phrase. A prompt usually paraphrases one part of a description, and a
  long description dilutes a single embedding.
* ``dense_token``: late interaction over contextual word pieces: for each content word piece of
  the prompt, its best cosine with any word piece of the skill text, averaged. It catches word
  forms and near-synonyms that the pooled vectors wash out (same forward pass, no extra cost
  for the prompt; the skill side is cached).
* ``bm25``: Okapi BM25 over the skill fields (stemmed, stopwords dropped), divided by its ceiling
  for the prompt; document frequencies include a fixed set of generic prompts so that rare-word
  evidence means the same in a 3-skill and a 100-skill catalog.
* ``coverage``: IDF-weighted share of the prompt's words that occur in the skill.
* ``trigger``: 1 when all words of one of the skill's trigger phrases (function words included:
  a trigger is a phrase) occur in the prompt.
* ``exemplar`` and ``exemplar_vote``: what the prompt's nearest neighbours in the exemplar bank
  (`agentflowd.match.exemplars`: 7,455 labelled prompts from 90 other catalogs) say. Each
  neighbour was routed, in its own catalog, to a skill with some description; ``exemplar`` is the
  neighbours' weighted cosine between that description and this skill's, ``exemplar_vote`` the
  same with each neighbour's vote spread over the catalog by a sharp softmax. Prompt-to-prompt
  and description-to-description are comparisons within one register, which the small model
  makes far better than prompt-to-description: "note for later: ..." sits near other
  note-taking prompts even when no word of it is in the memory skill's description.

Fusion
------
The features are fused linearly into a utility ``u = w . x`` whose weights are fitted by
maximum likelihood of a conditional logit (softmax over the catalog's skills, the right skill as
the label) on labelled prompts. The weights are what "fused with BM25 where it helps" means in
numbers: the dense features carry most of the weight, the lexical ones break ties on rare words
and trigger phrases. Scores are comparable across catalogs because every feature is bounded and
catalog-size independent.

Calibration and the decision to stay silent
-------------------------------------------
A second logistic model turns the winner's utility into a calibrated probability that routing to
it is right: ``p = sigmoid(bias + top*u + margin*(u - u_runner_up) + background*b + nothing*n
+ trigger*t)``, where ``b`` is the prompt's mean cosine to its nearest generic prompts
(greetings, trivia, small edits; shipped in ``data/background.txt``), ``n`` the weighted share of
its nearest exemplars that activated nothing in their catalogs (the closer a prompt is to
chit-chat, the more evidence a skill needs) and ``t`` the skill's trigger hit (its author said in
so many words that this phrase means it).
It is fitted on on-topic prompts whose winner is right (label 1) and off-topic prompts (label 0),
so ``threshold`` on ``p`` is a probability, and the margin term demands more when two skills are
close. The prompt is routed when ``p >= threshold``; the threshold was chosen to maximise the
balanced accuracy (mean of right routes and right silences) over several catalogs at once
(`agentflowd.match.calibrate`, data in ``tests/match/calibration`` and the shared development
set), and checked on held-out catalogs never used in fitting (``tests/match/heldout``). Every
candidate's score is the same probability computed for that skill, so scores read the same in
every catalog.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Candidate:
    skill: str
    score: float

    def to_json(self) -> dict[str, Any]:
        return {"skill": self.skill, "score": self.score}


@dataclass(frozen=True)
class MatchResult:
    prompt: str
    skill: str | None  # the chosen skill, or None when nothing should activate
    score: float  # calibrated confidence of the best candidate
    candidates: tuple[Candidate, ...]  # best first, at most 3

    @classmethod
    def nothing(cls, prompt: str) -> MatchResult:
        """The answer when the catalog has no model-invocable skill (no model needs loading)."""
        return cls(prompt, None, 0.0, ())

    def to_json(self) -> dict[str, Any]:
        return {
            "prompt": self.prompt,
            "skill": self.skill,
            "score": self.score,
            "candidates": [c.to_json() for c in self.candidates],
        }


__all__ = ["Candidate", "MatchResult"]
