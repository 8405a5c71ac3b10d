"""Stable diagnostic codes. `docs/diagnostics.md` documents each; a test keeps the two in step."""

from __future__ import annotations

UNREADABLE = "AF001"  # binary, non-UTF-8, oversized or unreadable file
NO_FRONTMATTER = "AF002"
UNCLOSED_FRONTMATTER = "AF003"
YAML_SYNTAX = "AF004"
NOT_A_MAPPING = "AF005"
DUPLICATE_KEY = "AF006"

MISSING_NAME = "AF010"
MISSING_DESCRIPTION = "AF011"
INVALID_NAME = "AF012"
NAME_MISMATCH = "AF013"
DESCRIPTION_TOO_LONG = "AF014"
COMPATIBILITY_TOO_LONG = "AF015"
EMPTY_VALUE = "AF016"

UNKNOWN_KEY = "AF020"
WRONG_TYPE = "AF021"
INVALID_ENUM = "AF022"
INVALID_VALUE = "AF023"
NONCANONICAL_KEY = "AF024"

YAML_NUMBER_TRAP = "AF030"
YAML_BOOLEAN_TRAP = "AF031"
UNQUOTED_COLON = "AF032"

BROKEN_LINK = "AF050"
LINK_ESCAPES = "AF051"
BODY_TOO_LONG = "AF052"

SHADOWED = "AF070"
COMMAND_SHADOWED = "AF071"

ALL: dict[str, str] = {
    UNREADABLE: "file cannot be read as text",
    NO_FRONTMATTER: "no front-matter",
    UNCLOSED_FRONTMATTER: "front-matter not closed",
    YAML_SYNTAX: "invalid YAML",
    NOT_A_MAPPING: "front-matter is not a mapping",
    DUPLICATE_KEY: "duplicate key",
    MISSING_NAME: "missing name",
    MISSING_DESCRIPTION: "missing description",
    INVALID_NAME: "invalid name",
    NAME_MISMATCH: "name differs from folder",
    DESCRIPTION_TOO_LONG: "description too long",
    COMPATIBILITY_TOO_LONG: "compatibility too long",
    EMPTY_VALUE: "empty value",
    UNKNOWN_KEY: "unknown key",
    WRONG_TYPE: "wrong type",
    INVALID_ENUM: "value not allowed",
    INVALID_VALUE: "invalid value",
    NONCANONICAL_KEY: "non-canonical key spelling",
    YAML_NUMBER_TRAP: "YAML 1.1 number trap",
    YAML_BOOLEAN_TRAP: "YAML 1.1 boolean trap",
    UNQUOTED_COLON: "unquoted value with `: `",
    BROKEN_LINK: "broken link",
    LINK_ESCAPES: "link escapes the skill folder",
    BODY_TOO_LONG: "body too long",
    SHADOWED: "skill shadowed by another",
    COMMAND_SHADOWED: "command shadowed by a skill",
}
