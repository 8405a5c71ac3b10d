"""Counting votes on proposals. Pure functions: no I/O, no clock, no randomness.

Every ballot is one of approve, reject, abstain; a voter that did not answer in time is recorded
as `timeout`, one that failed as `failed`. Only approve and reject carry weight. Quorum counts
everyone who answered (abstentions included) against every agent eligible to vote.

Rules (share = approving weight / (approving + rejecting weight)):
- majority:      share > 1/2 (exactly 1/2 is a tie, which decides nothing)
- supermajority: share >= threshold (default 2/3)
- unanimous:     no rejection and at least one approval
- weighted:      like supermajority, each vote weighing agent weight x confidence
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

from agentflowd.skills.schema import enum_at
from agentflowd.swarm.model import Ballot, Proposal, Result

Rule = Literal["majority", "supermajority", "unanimous", "weighted"]
RULES = enum_at("skill", ("coordination", "consensus"))
Outcome = Literal["accepted", "rejected", "tie", "no_quorum", "no_votes"]
DEFAULT_THRESHOLD = Fraction(2, 3)
_CAST = ("approve", "reject")
_ANSWERED = ("approve", "reject", "abstain")


@dataclass(frozen=True)
class ConsensusRule:
    rule: Rule
    threshold: float | None = None  # supermajority and weighted; None means 2/3
    quorum: float | None = None  # share of eligible agents that must answer

    @property
    def effective_threshold(self) -> Fraction | None:
        if self.rule in ("supermajority", "weighted"):
            return DEFAULT_THRESHOLD if self.threshold is None else Fraction(self.threshold)
        return None

    def to_json(self) -> dict[str, Any]:
        threshold = self.effective_threshold
        return {
            "rule": self.rule,
            "threshold": None if threshold is None else float(threshold),
            "quorum": self.quorum,
        }


@dataclass(frozen=True)
class VoteRecord:
    proposal: str
    voter: str
    vote: str  # approve | reject | abstain | timeout | failed
    weight: float  # the voter's weight
    confidence: float | None
    counted: float  # what the vote weighed in the count (0 unless approve or reject)
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "proposal": self.proposal,
            "voter": self.voter,
            "vote": self.vote,
            "weight": self.weight,
            "confidence": self.confidence,
            "counted": self.counted,
        }
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True)
class Decision:
    proposal: Proposal
    rule: ConsensusRule
    eligible: int
    approve: int
    reject: int
    abstain: int
    absent: int
    approve_weight: float
    reject_weight: float
    share: float | None
    outcome: Outcome
    reason: str
    votes: tuple[VoteRecord, ...]

    @property
    def accepted(self) -> bool:
        return self.outcome == "accepted"

    def to_json(self) -> dict[str, Any]:
        return {
            "proposal": self.proposal.to_json(),
            **self.rule.to_json(),
            "eligible": self.eligible,
            "approve": self.approve,
            "reject": self.reject,
            "abstain": self.abstain,
            "absent": self.absent,
            "approve_weight": self.approve_weight,
            "reject_weight": self.reject_weight,
            "share": self.share,
            "outcome": self.outcome,
            "reason": self.reason,
        }


def record_vote(
    rule: ConsensusRule,
    proposal: str,
    voter: str,
    vote: str,
    *,
    weight: float = 1.0,
    confidence: float | None = None,
    note: str | None = None,
) -> VoteRecord:
    """One voter's vote on one proposal, with the weight it carries under `rule`."""
    if vote not in _CAST:
        counted = 0.0
    elif rule.rule == "weighted":
        conf = 1.0 if confidence is None else min(max(confidence, 0.0), 1.0)
        counted = weight * conf
    else:
        counted = 1.0
    return VoteRecord(proposal, voter, vote, weight, confidence, counted, note)


def decide(
    rule: ConsensusRule, proposal: Proposal, votes: Sequence[VoteRecord], eligible: int
) -> Decision:
    """Apply `rule` to the votes cast on `proposal` by a swarm of `eligible` voters."""
    mine = tuple(v for v in votes if v.proposal == proposal.id)
    approve = sum(1 for v in mine if v.vote == "approve")
    reject = sum(1 for v in mine if v.vote == "reject")
    abstain = sum(1 for v in mine if v.vote == "abstain")
    answered = approve + reject + abstain
    absent = max(eligible - answered, 0)
    yes = sum((Fraction(v.counted) for v in mine if v.vote == "approve"), Fraction(0))
    no = sum((Fraction(v.counted) for v in mine if v.vote == "reject"), Fraction(0))
    share = yes / (yes + no) if yes + no > 0 else None

    def done(outcome: Outcome, reason: str) -> Decision:
        return Decision(
            proposal,
            rule,
            eligible,
            approve,
            reject,
            abstain,
            absent,
            float(yes),
            float(no),
            None if share is None else float(share),
            outcome,
            reason,
            mine,
        )

    if (
        rule.quorum is not None
        and eligible > 0
        and Fraction(answered, eligible) < Fraction(rule.quorum)
    ):
        return done(
            "no_quorum", f"{answered} of {eligible} agents answered; quorum is {rule.quorum:.0%}"
        )
    if share is None:
        return done("no_votes", "nobody approved or rejected")
    tally = f"{float(yes):g} for, {float(no):g} against"
    if rule.rule == "majority":
        if share > Fraction(1, 2):
            return done("accepted", f"majority: {tally}")
        if share == Fraction(1, 2):
            return done("tie", f"tie: {tally}")
        return done("rejected", f"no majority: {tally}")
    if rule.rule == "unanimous":
        if no == 0:
            return done("accepted", f"unanimous: {tally}")
        return done("rejected", f"not unanimous: {tally}")
    threshold = rule.effective_threshold
    assert threshold is not None
    if share >= threshold:
        return done("accepted", f"{float(share):.0%} >= {float(threshold):.0%}: {tally}")
    if yes == no:
        return done("tie", f"tie below {float(threshold):.0%}: {tally}")
    return done("rejected", f"{float(share):.0%} < {float(threshold):.0%}: {tally}")


def ballots_for(
    result: Result, proposals: Sequence[Proposal]
) -> dict[str, tuple[Ballot, str | None]]:
    """Each proposal's ballot from one vote answer, with a note when it was not given explicitly."""
    ids = {p.id for p in proposals}
    out: dict[str, tuple[Ballot, str | None]] = {}
    missing = "no ballot given"
    if result.choice is not None:
        if result.choice in ids:
            for p in proposals:
                vote = "approve" if p.id == result.choice else "reject"
                out[p.id] = (Ballot(vote, result.confidence), f"chose {result.choice}")
        else:
            missing = f"chose {result.choice!r}, which is not a proposal"
    for pid, ballot in result.ballots.items():
        if pid in ids:
            conf = ballot.confidence if ballot.confidence is not None else result.confidence
            out[pid] = (Ballot(ballot.vote, conf), None)
    for p in proposals:
        if p.id not in out:
            out[p.id] = (Ballot("abstain", None), missing)
    return out


def tally(decisions: Sequence[Decision]) -> Mapping[str, int]:
    counts: dict[str, int] = {}
    for d in decisions:
        counts[d.outcome] = counts.get(d.outcome, 0) + 1
    return counts
