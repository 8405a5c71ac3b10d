from __future__ import annotations

import pytest

from agentflowd.memory.redact import redact_json, redact_text

SECRETS = [
    ("anthropic-key", "use sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz012345 for claude"),
    ("openai-key", "OPENAI=sk-proj-AbCdEfGhIjKlMnOpQrStUvWx"),
    ("github-token", "clone with ghp_abcdefghijklmnopqrstuvwxyz0123456789"),
    ("github-token", "github_pat_11ABCDEFG0123456789_abcdefghijklmnop"),
    ("aws-access-key-id", "key AKIAIOSFODNN7EXAMPLE in the config"),
    ("google-api-key", "maps key AIzaSyA-1234567890abcdefghijklmnopqrstu"),
    ("slack-token", "bot xoxb-1234567890-abcdefghij"),
    ("stripe-key", "sk_live_abcdefghijklmnop1234"),
    ("jwt", "session eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N"),
    ("bearer-token", "Authorization: Bearer abcdefghijklmnopqrstuvwxyz012345"),
    ("url-password", "postgres://admin:s3cr3tpass@db.internal:5432/app"),
    ("assigned-secret", "password: hunter2hunter2"),
    ("assigned-secret", 'DB_PASSWORD="correct-horse-battery"'),
    ("assigned-secret", "client_secret = abcDEF123456ghi"),
    (
        "private-key",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7\nabc\n-----END RSA PRIVATE KEY-----",
    ),
    ("private-key", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n"),
]

HARMLESS = [
    "deploys happen on Tuesdays",
    "max_tokens = 40000000",
    "token_count: 123456789",
    "the password policy requires 12 characters",
    "we rotate the api key every 90 days",
    "see https://example.com/docs/auth@v2",
    "sk-short",
]


@pytest.mark.parametrize(("kind", "text"), SECRETS)
def test_secret_is_redacted_and_reported(kind: str, text: str) -> None:
    clean, found = redact_text(text)
    assert found[kind] >= 1, (kind, clean)
    assert f"[REDACTED:{kind}]" in clean
    # Nothing of the secret's distinctive middle survives.
    for fragment in ("AbCdEfGhIj", "abcdefghijklmnop", "hunter2", "s3cr3t", "MIIEpA", "b3BlbnNz"):
        if fragment in text:
            assert fragment not in clean


@pytest.mark.parametrize("text", HARMLESS)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert redact_text(text) == (text, {})


def test_json_values_are_walked_and_keys_kept() -> None:
    value = {
        "api_key": "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz012345",
        "n": 3,
        "list": ["ghp_" + "a" * 36],
    }
    clean, found = redact_json(value)
    assert clean == {
        "api_key": "[REDACTED:anthropic-key]",
        "n": 3,
        "list": ["[REDACTED:github-token]"],
    }
    assert found == {"anthropic-key": 1, "github-token": 1}


def test_redaction_is_idempotent() -> None:
    once, _ = redact_text(
        "password=hunter2hunter2 and sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz012345"
    )
    twice, found = redact_text(once)
    assert twice == once
    assert not found
