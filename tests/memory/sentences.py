"""Varied English sentences for vector tests (real text, so the embeddings are realistic)."""

from __future__ import annotations

import itertools
import random

_SUBJECTS = [
    "the deploy pipeline",
    "our staging cluster",
    "the billing service",
    "the mobile app",
    "the search index",
    "the nightly backup",
    "the auth gateway",
    "the data warehouse",
    "the onboarding flow",
    "the release train",
    "the on-call rotation",
    "the design review",
    "the load balancer",
    "the payment provider",
    "the feature flag system",
    "the CI runners",
    "the customer dashboard",
    "the email queue",
    "the cache layer",
    "the logging agent",
]
_PREDICATES = [
    "fails when the disk fills up",
    "runs every Tuesday after standup",
    "needs two approvals",
    "was migrated to Postgres last spring",
    "times out under heavy load",
    "is owned by the platform team",
    "sends alerts to the ops channel",
    "uses a token that rotates monthly",
    "is documented in the wiki",
    "was rewritten in Rust",
    "depends on the old LDAP server",
    "is blocked by a licence question",
    "should be retired next quarter",
    "keeps three days of history",
    "breaks when DNS is slow",
    "is scheduled to scale down at night",
    "has flaky integration tests",
    "is paged only for sev1 incidents",
    "caches results for five minutes",
    "reads its config from environment variables",
]
_TAILS = [
    "",
    " according to the last retro",
    " since the March incident",
    " unless someone overrides it",
    " which surprised the new hires",
    " and nobody remembers why",
    " per the security audit",
    " so plan around it",
    " as of this sprint",
    " in the EU region only",
]


def sentences(n: int, seed: int = 0) -> list[str]:
    """`n` distinct sentences in a fixed shuffled order."""
    pool = [f"{s} {p}{t}." for s, p, t in itertools.product(_SUBJECTS, _PREDICATES, _TAILS)]
    random.Random(seed).shuffle(pool)
    if n > len(pool):
        raise ValueError(f"only {len(pool)} sentences available")
    return [s[0].upper() + s[1:] for s in pool[:n]]
