from __future__ import annotations

import pytest

from agentflowd.match.text import SkillText, clauses, imperative, sentences, stem, words
from tests.match.conftest import make_skill


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("deploy", "deploys"),
        ("save", "saves"),
        ("saved", "saving"),
        ("decision", "decisions"),
        ("query", "queries"),
        ("merge", "merging"),
    ],
)
def test_stem_joins_word_forms(a: str, b: str) -> None:
    assert stem(a) == stem(b)


def test_words_drop_stopwords_and_punctuation() -> None:
    assert words("Please write me a Dockerfile, for the app!") == ["writ", "dockerfil", "app"]
    assert words("C++ and C# code") == ["c++", "c#", "cod"]


def test_sentences_and_clauses() -> None:
    text = "Profiles a program, finds hot spots and memory growth. Use for slow code: benchmarks."
    assert sentences(text) == [
        "Profiles a program, finds hot spots and memory growth",
        "Use for slow code",
    ]
    assert "finds hot spots and memory growth" in clauses(text)
    assert "Profiles a program" in clauses(text)


def test_skill_text_fields_and_views() -> None:
    skill = make_skill(
        "plug:code-review-swarm",
        "Runs reviewers over a diff, branch or pull request.  Merges findings.",
        when_to_use="Use before merging.",
        triggers=("code review", " "),
    )
    t = SkillText.of(skill)
    assert t.name_words == "code review swarm"
    assert t.triggers == ("code review",)
    assert t.document == (
        "code review swarm: Runs reviewers over a diff, branch or pull request. Merges findings. "
        "Use before merging."
    )
    assert t.views[0] == "code review swarm"
    assert "Merges findings" in t.views
    assert "code review" in t.views
    assert len(set(t.views)) == len(t.views)
    assert t.lexical_words.count("swarm") == 2  # the name counts twice


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("Saves decisions to memory", "Save decisions to memory"),
        ("Diagnoses Kubernetes workloads", "Diagnose Kubernetes workloads"),
        ("Digs through git history", "Dig through git history"),
        ("Applies migrations", "Apply migrations"),
        ("Fetches remote branches", "Fetch remote branches"),
        ("Builds, explains and tests regexes", "Build, explains and tests regexes"),
        ("Does the taxes", "Do the taxes"),
        ("finds hot spots", "find hot spots"),
        ("Status of the build", None),
        ("Analysis of logs", None),
        ("Guide for creating skills", None),
        ("Saves", None),
    ],
)
def test_imperative_rewrites_a_leading_third_person_verb(
    statement: str, expected: str | None
) -> None:
    assert imperative(statement) == expected


def test_views_include_the_request_form_of_each_statement() -> None:
    t = SkillText.of(make_skill("project-memory", "Saves decisions, looks them up later."))
    assert "Save decisions" in t.views
    assert "look them up later" in t.views
    assert "Saves decisions" in t.views
