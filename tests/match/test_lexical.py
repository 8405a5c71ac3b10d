from __future__ import annotations

import numpy as np

from agentflowd.match.lexical import LexicalIndex
from agentflowd.match.text import SkillText
from tests.match.conftest import make_skill

SKILLS = [
    SkillText.of(make_skill("regex-builder", "Builds and tests regular expressions.")),
    SkillText.of(make_skill("docker-deploy", "Writes Dockerfiles and deploys containers.")),
    SkillText.of(
        make_skill("memory", "Saves facts for later.", triggers=("remember", "note for later"))
    ),
]
BACKGROUND = ["write a poem", "write a story", "thanks", "what time is it"]


def test_rare_word_decides_and_scores_are_bounded() -> None:
    index = LexicalIndex(SKILLS, BACKGROUND)
    bm25, coverage, trigger = index.scores("write a regex for dates")
    assert int(np.argmax(bm25)) == 0
    assert int(np.argmax(coverage)) == 0
    for arr in (bm25, coverage, trigger):
        assert ((arr >= 0) & (arr <= 1)).all()


def test_common_words_weigh_less_than_rare_ones() -> None:
    index = LexicalIndex(SKILLS, BACKGROUND)
    assert index.idf("writ") < index.idf("regex")


def test_trigger_needs_every_word_of_the_phrase() -> None:
    index = LexicalIndex(SKILLS, BACKGROUND)
    assert index.scores("remember that we use tabs")[2].tolist() == [0, 0, 1]
    assert index.scores("a note on tabs")[2].tolist() == [0, 0, 0]
    assert index.scores("note this for later")[2].tolist() == [0, 0, 1]


def test_prompt_without_content_words_scores_zero() -> None:
    index = LexicalIndex(SKILLS, BACKGROUND)
    assert all(not arr.any() for arr in index.scores("is it the?"))
