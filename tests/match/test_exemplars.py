from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from agentflowd.embed import get_embedder
from agentflowd.errors import ConfigError
from agentflowd.match.calibrate import CaseSet, load_cases
from agentflowd.match.exemplars import build_bank, load_bank, read_bank, save_bank, source_digest
from agentflowd.match.matcher import FEATURES, SkillMatcher
from tests.match.conftest import HERE, make_skill
from tests.projects import DEV_CASES

EXEMPLAR_FILES = sorted((HERE / "exemplars").glob("*.yaml"))
SCORED_FILES = [
    *sorted((HERE / "calibration").glob("*.yaml")),
    *sorted((HERE / "heldout").glob("*.yaml")),
    *sorted((HERE / "stress").glob("*.yaml")),
]


@pytest.fixture(scope="module")
def exemplar_sets() -> list[CaseSet]:
    return [load_cases(p) for p in EXEMPLAR_FILES]


@pytest.mark.parametrize("path", EXEMPLAR_FILES + SCORED_FILES, ids=lambda p: p.stem)
def test_case_file_is_well_formed(path: Path) -> None:
    cs = load_cases(path)
    names = {s.name for s in cs.skills}
    per_skill = dict.fromkeys(names, 0)
    for prompt, want in cs.cases:
        assert prompt.strip() and "\n" not in prompt, prompt
        assert want is None or want in names, f"{prompt!r} names unknown skill {want!r}"
        if want is not None:
            per_skill[want] += 1
    assert all(s.description for s in cs.skills)
    assert min(per_skill.values()) >= 2, per_skill
    assert any(want is None for _, want in cs.cases)


def test_shipped_bank_is_built_from_the_exemplar_files(exemplar_sets) -> None:
    bank = load_bank()
    assert bank.source_sha256 == source_digest(exemplar_sets), (
        "tests/match/exemplars changed: rebuild the bank with "
        "`python -m agentflowd.match.calibrate bank daemon/agentflowd/match/data/exemplars.npz "
        "tests/match/exemplars/*.yaml`, then refit the parameters"
    )
    assert bank.model_id == get_embedder().model_id
    assert len(bank.prompts) == sum(len(cs.cases) for cs in exemplar_sets)
    assert len(bank.descriptions) == sum(len(cs.skills) for cs in exemplar_sets)


def test_bank_rows_are_the_embeddings_of_their_prompts(exemplar_sets) -> None:
    bank = load_bank()
    # Rows follow the sets sorted by name, cases in file order; check a spread of them.
    prompts = [p for cs in sorted(exemplar_sets, key=lambda c: c.name) for p, _ in cs.cases]
    rows = np.linspace(0, len(prompts) - 1, 12).astype(int)
    fresh = get_embedder().embed([prompts[i] for i in rows])
    cos = (fresh * bank.prompts[rows]).sum(axis=1)
    assert cos.min() > 0.99


def test_bank_holds_no_scored_prompt(exemplar_sets) -> None:
    # The bank must not know the answers of the files the matcher is scored on.
    bank_prompts = {p.casefold() for cs in exemplar_sets for p, _ in cs.cases}
    scored = [*SCORED_FILES, *([DEV_CASES] if DEV_CASES.exists() else [])]
    for path in scored:
        overlap = {p for p, _ in load_cases(path).cases if p.casefold() in bank_prompts}
        # Greetings and thanks may repeat; anything with content may not.
        assert all(len(p.split()) <= 3 for p in overlap), (path.stem, overlap)


TINY = CaseSet(
    "tiny",
    (
        make_skill("regex-help", "Writes and explains regular expressions."),
        make_skill("deploy", "Ships the service to production servers."),
    ),
    (
        ("make a pattern that matches email addresses", "regex-help"),
        ("what does ^\\d+$ match?", "regex-help"),
        ("push the new build to prod", "deploy"),
        ("roll out version 2 to the servers", "deploy"),
        ("good morning!", None),
        ("thanks, that was helpful", None),
    ),
)


@pytest.fixture(scope="module")
def tiny_bank():
    return build_bank([TINY], get_embedder())


def test_bank_round_trips_through_its_file(tiny_bank, tmp_path: Path) -> None:
    path = tmp_path / "bank.npz"
    save_bank(tiny_bank, path)
    again = read_bank(path.read_bytes())
    assert again.model_id == tiny_bank.model_id
    assert again.source_sha256 == tiny_bank.source_sha256
    np.testing.assert_array_equal(again.label, tiny_bank.label)
    np.testing.assert_allclose(again.prompts, tiny_bank.prompts, atol=1e-6)
    np.testing.assert_allclose(again.descriptions, tiny_bank.descriptions, atol=1e-6)


@pytest.mark.parametrize("data", [b"", b"not a zip", b"PK\x03\x04broken"])
def test_unreadable_bank_is_a_config_error(data: bytes) -> None:
    with pytest.raises(ConfigError, match="exemplar bank"):
        read_bank(data)


def test_bank_from_another_model_is_refused(tiny_bank) -> None:
    from dataclasses import replace

    with pytest.raises(ConfigError, match="rebuild"):
        SkillMatcher(TINY.skills, bank=replace(tiny_bank, model_id="some-other-model"))


def test_neighbours_vote_for_the_catalog_skill_like_their_own(tiny_bank) -> None:
    # The catalog's skills are worded differently from the bank's; votes go through
    # description similarity, and "nothing" neighbours vote for no skill.
    catalog = [
        make_skill("pattern-matching", "Builds regex patterns and tests them on samples."),
        make_skill("release-rollout", "Deploys releases to the production fleet."),
    ]
    feats = SkillMatcher(catalog, bank=tiny_bank).features(
        ["give me a regex for UK postcodes", "hello there!"]
    )
    vote = feats.x[:, :, FEATURES.index("exemplar_vote")]
    assert vote[0].argmax() == 0
    assert feats.nothing[1] > 0.5 > feats.nothing[0]
    assert vote[1].sum() < vote[0].sum()
