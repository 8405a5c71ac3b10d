"""Lexical evidence: BM25 over the skill fields, prompt coverage, and trigger phrases.

Document frequencies count the catalog's skills plus a fixed set of generic prompts (the
background set), so a word like "write" or "file" stays cheap even in a catalog of three skills
and the scores mean the same thing across catalog sizes.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np

from agentflowd.match.text import SkillText, words

K1 = 1.2
B = 0.75


class LexicalIndex:
    def __init__(self, skills: Sequence[SkillText], background: Sequence[str]) -> None:
        self._docs = [Counter(s.lexical_words) for s in skills]
        self._lengths = np.array([sum(d.values()) for d in self._docs], dtype=np.float64)
        self._avg = float(self._lengths.mean()) if len(self._docs) else 1.0
        df: Counter[str] = Counter()
        for doc in self._docs:
            df.update(doc.keys())
        for text in background:
            df.update(set(words(text)))
        n = len(self._docs) + len(background)
        self._idf = {t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in df.items()}
        self._unseen_idf = math.log(1 + (n + 0.5) / 0.5)
        # A trigger is a phrase: "who changed this" must not fire on the one content word "changes".
        self._triggers = [
            [frozenset(words(t, keep_stopwords=True)) for t in s.triggers if words(t)]
            for s in skills
        ]

    def idf(self, term: str) -> float:
        return self._idf.get(term, self._unseen_idf)

    def scores(self, prompt: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(bm25, coverage, trigger) per skill, each in [0, 1].

        bm25 is divided by its ceiling for this prompt (every term matched with saturated tf);
        coverage is the IDF-weighted share of the prompt's words found in the skill; trigger is
        1 when every word of one of the skill's trigger phrases occurs in the prompt.
        """
        n = len(self._docs)
        bm25 = np.zeros(n)
        coverage = np.zeros(n)
        trigger = np.zeros(n)
        terms = set(words(prompt))
        phrase_terms = set(words(prompt, keep_stopwords=True))
        if not terms or not n:
            return bm25, coverage, trigger
        weights = {t: self.idf(t) for t in terms}
        ceiling = sum(weights.values()) * (K1 + 1)
        total = sum(weights.values())
        for j, doc in enumerate(self._docs):
            norm = K1 * (1 - B + B * self._lengths[j] / self._avg)
            hit = 0.0
            for t, w in weights.items():
                tf = doc.get(t)
                if tf:
                    bm25[j] += w * tf * (K1 + 1) / (tf + norm)
                    hit += w
            coverage[j] = hit / total
            if any(phrase <= phrase_terms for phrase in self._triggers[j]):
                trigger[j] = 1.0
        bm25 /= ceiling
        return bm25, coverage, trigger
