from __future__ import annotations

import re

import jsonschema
import pytest
from tests.conftest import REPO

from agentflowd.skills import codes
from agentflowd.skills.schema import load_schema, spec_keys


@pytest.mark.parametrize("kind", ["skill", "agent", "command"])
def test_schema_is_valid_draft_2020_12(kind: str) -> None:
    schema = load_schema(kind)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("kind", ["skill", "agent", "command"])
def test_every_key_is_documented_with_examples(kind: str) -> None:
    def walk(node: dict, path: str) -> None:
        for key, sub in node.get("properties", {}).items():
            assert sub.get("description"), f"{path}{key} has no description"
            assert sub.get("examples"), f"{path}{key} has no examples"
            walk(sub, f"{path}{key}.")
            if isinstance(sub.get("items"), dict):
                walk(sub["items"], f"{path}{key}[].")

    walk(load_schema(kind), "")


def test_three_layers_are_marked() -> None:
    props = load_schema("skill")["properties"]
    assert set(spec_keys()) == {
        "name",
        "description",
        "license",
        "allowed-tools",
        "metadata",
        "compatibility",
    }
    assert props["coordination"]["x-layer"] == "agentflow"
    assert props["when_to_use"]["x-layer"] == "claude-code"


def test_every_code_is_documented() -> None:
    doc = (REPO / "docs" / "diagnostics.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^## (AF\d{3})", doc, flags=re.M))
    assert documented == set(codes.ALL)
