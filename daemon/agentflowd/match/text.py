"""Text handling for skill matching: the fields of a skill, its short views, and word tokens."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from agentflowd.skills.model import Skill

# Function words and request filler; they carry no topic, so lexical scores ignore them.
_STOPWORDS = """a an the and or of to in on for with by from at as is are was were be been being it its
    this that these those i me my mine we us our you your he she they them their his her do does
    did done doing can could would should will shall may might must have has had having not no
    yes so if then than but about into onto over under up down out off again once here there when
    where why how what which who whom whose all any both each few more most other some such only
    own same too very just also please let get got make made use using via per etc vs am im its
    dont cant wont whats thats theres lets ok okay need want help like some something anything
    one ones thing things way really"""
STOPWORDS = frozenset(_STOPWORDS.split())

_WORD = re.compile(r"[a-z0-9]+(?:[+#][a-z0-9+#]*)?")
_SENTENCE = re.compile(r"(?<=[.;!?])\s+|:\s+")
_CLAUSE = re.compile(r",\s*|\s+\(|\)\s*|\s+-\s+")

_SUFFIXES = (
    ("ational", "ate"),
    ("ization", "ize"),
    ("ations", "ate"),
    ("ation", "ate"),
    ("ments", ""),
    ("ment", ""),
    ("ings", ""),
    ("ing", ""),
    ("ies", "y"),
    ("ied", "y"),
    ("ers", ""),
    ("er", ""),
    ("es", ""),
    ("ed", ""),
    ("ly", ""),
    ("s", ""),
)


def stem(word: str) -> str:
    """A light, deterministic suffix stripper: enough to join deploy/deploys/deploying."""
    for suffix, repl in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)] + repl
            break
    # "save"/"saves"/"saved" and "merge"/"merging" meet at the same stem once a final e goes.
    if len(word) > 3 and word.endswith("e"):
        word = word[:-1]
    return word


def words(text: str, *, keep_stopwords: bool = False) -> list[str]:
    """Lower-cased, stemmed words of `text`: content words only unless `keep_stopwords`
    (one-letter words are always dropped)."""
    text = text.lower().replace("'s ", " ").replace("'", "")
    return [
        stem(w)
        for w in _WORD.findall(text)
        if len(w) > 1 and (keep_stopwords or w not in STOPWORDS)
    ]


def _squash(text: str) -> str:
    return " ".join(text.split())


def sentences(text: str) -> list[str]:
    return [s.strip(" .") for s in _SENTENCE.split(text) if len(s.split()) >= 2]


def clauses(text: str) -> list[str]:
    out: list[str] = []
    for sentence in sentences(text):
        for part in _CLAUSE.split(sentence):
            part = part.strip(" .;()")
            if len(part.split()) >= 2:
                out.append(part)
    return out


# A leading third-person verb: "Saves", "Digs", "Diagnoses", "Applies", "Builds, explains".
# Words ending in -ss/-us/-is are nouns or adjectives ("Class", "Status", "Analysis").
_THIRD_PERSON = re.compile(r"([A-Za-z][a-z]+?)(ies|sses|shes|ches|xes|zzes|oes|s)(?=[\s,;:])")
_NOT_VERB = ("ss", "us", "is")
_IRREGULAR = {"has": "have", "does": "do", "goes": "go"}


def imperative(text: str) -> str | None:
    """The request form of a third-person statement: "Saves facts" -> "Save facts".

    Descriptions are written in the third person (as authoring guidance asks) while prompts are
    requests; rewriting the leading verb lets the embedding compare like with like. None when
    the text does not start with a third-person verb form.
    """
    head = text.split(" ", 1)[0].rstrip(",;:")
    if head.lower() in _IRREGULAR:
        verb = _IRREGULAR[head.lower()]
        return (verb.capitalize() if head[0].isupper() else verb) + text[len(head) :]
    m = _THIRD_PERSON.match(text)
    if m is None or len(head) < 4 or head.endswith(_NOT_VERB):
        return None
    stem_, ending = m.groups()
    verb = stem_ + {"ies": "y", "s": ""}.get(ending, ending[:-2])
    return verb + text[m.end() :]


@dataclass(frozen=True)
class SkillText:
    """What the matcher reads from one skill."""

    name: str
    name_words: str  # "code-review-swarm" -> "code review swarm" (plugin prefix dropped)
    description: str
    when_to_use: str
    triggers: tuple[str, ...]

    @classmethod
    def of(cls, skill: Skill) -> SkillText:
        bare = skill.name.rsplit(":", 1)[-1]
        return cls(
            name=skill.name,
            name_words=re.sub(r"[-_]+", " ", bare).strip() or skill.name,
            description=_squash(skill.description),
            when_to_use=_squash(skill.when_to_use),
            triggers=tuple(_squash(t) for t in skill.triggers if t.strip()),
        )

    @property
    def document(self) -> str:
        """The whole skill as one text: name words, description, when-to-use."""
        body = " ".join(p for p in (self.description, self.when_to_use) if p)
        return f"{self.name_words}: {body}" if body else self.name_words

    @property
    def token_document(self) -> str:
        """The document plus the trigger phrases, for token-level matching."""
        return " ".join((self.document, *self.triggers))

    @property
    def views(self) -> tuple[str, ...]:
        """Short texts a prompt may paraphrase: the name, each sentence and clause (and its request
        form, see `imperative`), each trigger."""
        seen: dict[str, None] = {self.name_words: None}
        for field in (self.description, self.when_to_use):
            for text in (*sentences(field), *clauses(field)):
                seen.setdefault(text, None)
                request = imperative(text)
                if request is not None:
                    seen.setdefault(request, None)
        for trigger in self.triggers:
            seen.setdefault(trigger, None)
        return tuple(seen)

    @property
    def lexical_words(self) -> list[str]:
        # The name counts twice: it is the author's shortest statement of what the skill is.
        return words(
            " ".join(
                (
                    self.name_words,
                    self.name_words,
                    self.description,
                    self.when_to_use,
                    *self.triggers,
                )
            )
        )


def skill_texts(skills: Sequence[Skill]) -> list[SkillText]:
    return [SkillText.of(s) for s in skills]
