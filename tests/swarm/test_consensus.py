"""How votes are counted: each rule, quorum, ties, abstentions, timeouts, weights, confidence."""

from __future__ import annotations

import pytest

from agentflowd.swarm.consensus import ConsensusRule, ballots_for, decide, record_vote
from agentflowd.swarm.model import Ballot, Proposal, Result

P = Proposal("p1", "finding", "SQL injection in login()", ("a",))


def tally(
    rule: ConsensusRule, votes: list[tuple[str, float, float | None]], eligible: int | None = None
):
    records = [
        record_vote(rule, "p1", f"v{i}", vote, weight=weight, confidence=conf)
        for i, (vote, weight, conf) in enumerate(votes)
    ]
    return decide(rule, P, records, eligible if eligible is not None else len(votes))


def plain(*votes: str) -> list[tuple[str, float, float | None]]:
    return [(v, 1.0, None) for v in votes]


@pytest.mark.parametrize(
    ("rule", "votes", "eligible", "outcome", "approve", "reject", "abstain", "absent"),
    [
        # majority: strictly more than half of the cast (approve + reject) votes
        (
            ConsensusRule("majority"),
            plain("approve", "approve", "reject"),
            None,
            "accepted",
            2,
            1,
            0,
            0,
        ),
        (ConsensusRule("majority"), plain("approve", "reject"), None, "tie", 1, 1, 0, 0),
        (
            ConsensusRule("majority"),
            plain("approve", "reject", "reject"),
            None,
            "rejected",
            1,
            2,
            0,
            0,
        ),
        # abstentions do not count toward the share
        (
            ConsensusRule("majority"),
            plain("approve", "abstain", "abstain"),
            None,
            "accepted",
            1,
            0,
            2,
            0,
        ),
        # timeouts and failures are absent voters
        (
            ConsensusRule("majority"),
            plain("approve", "timeout", "failed"),
            None,
            "accepted",
            1,
            0,
            0,
            2,
        ),
        (ConsensusRule("majority"), plain("abstain", "timeout"), None, "no_votes", 0, 0, 1, 1),
        # supermajority: default threshold 2/3, inclusive
        (
            ConsensusRule("supermajority"),
            plain("approve", "approve", "reject"),
            None,
            "accepted",
            2,
            1,
            0,
            0,
        ),
        (
            ConsensusRule("supermajority"),
            plain("approve", "approve", "reject", "reject"),
            None,
            "tie",
            2,
            2,
            0,
            0,
        ),
        (
            ConsensusRule("supermajority"),
            plain("approve", "approve", "approve", "reject", "reject"),
            None,
            "rejected",
            3,
            2,
            0,
            0,
        ),
        (
            ConsensusRule("supermajority", threshold=0.75),
            plain("approve", "approve", "reject"),
            None,
            "rejected",
            2,
            1,
            0,
            0,
        ),
        (
            ConsensusRule("supermajority", threshold=0.75),
            plain("approve", "approve", "approve", "reject"),
            None,
            "accepted",
            3,
            1,
            0,
            0,
        ),
        # unanimous: no rejection, at least one approval
        (
            ConsensusRule("unanimous"),
            plain("approve", "approve", "abstain"),
            None,
            "accepted",
            2,
            0,
            1,
            0,
        ),
        (
            ConsensusRule("unanimous"),
            plain("approve", "approve", "reject"),
            None,
            "rejected",
            2,
            1,
            0,
            0,
        ),
        # quorum: share of eligible agents that answered (abstaining is answering)
        (
            ConsensusRule("majority", quorum=0.5),
            plain("approve", "abstain"),
            4,
            "accepted",
            1,
            0,
            1,
            2,
        ),
        (
            ConsensusRule("majority", quorum=0.75),
            plain("approve", "abstain"),
            4,
            "no_quorum",
            1,
            0,
            1,
            2,
        ),
        (
            ConsensusRule("unanimous", quorum=1.0),
            plain("approve", "approve", "timeout"),
            None,
            "no_quorum",
            2,
            0,
            0,
            1,
        ),
    ],
)
def test_rules(rule, votes, eligible, outcome, approve, reject, abstain, absent) -> None:
    d = tally(rule, votes, eligible)
    assert (d.outcome, d.approve, d.reject, d.abstain, d.absent) == (
        outcome,
        approve,
        reject,
        abstain,
        absent,
    )
    assert len(d.votes) == len(votes)


def test_exact_two_thirds_is_not_lost_to_float_rounding() -> None:
    d = tally(ConsensusRule("supermajority"), plain(*["approve"] * 20, *["reject"] * 10))
    assert d.outcome == "accepted"
    assert d.share == pytest.approx(2 / 3)


def test_weighted_counts_weight_times_confidence() -> None:
    rule = ConsensusRule("weighted")  # threshold 2/3
    # a senior (weight 3, sure) approves; two juniors (weight 1) reject, one only half sure
    d = tally(rule, [("approve", 3.0, None), ("reject", 1.0, None), ("reject", 1.0, 0.5)])
    assert [v.counted for v in d.votes] == [3.0, 1.0, 0.5]
    assert (d.approve_weight, d.reject_weight) == (3.0, 1.5)
    assert d.outcome == "accepted"  # 3 / 4.5 = 2/3
    heads = tally(rule, [("approve", 1.0, None), ("reject", 1.0, None), ("reject", 1.0, None)])
    assert heads.outcome == "rejected"


def test_weighted_confidence_is_clamped_and_only_matters_when_weighted() -> None:
    assert (
        record_vote(
            ConsensusRule("weighted"), "p1", "v", "approve", weight=2, confidence=1.7
        ).counted
        == 2.0
    )
    assert (
        record_vote(
            ConsensusRule("majority"), "p1", "v", "approve", weight=5, confidence=0.1
        ).counted
        == 1.0
    )
    assert record_vote(ConsensusRule("weighted"), "p1", "v", "abstain", weight=5).counted == 0.0


def test_ballots_from_an_answer() -> None:
    props = [
        Proposal("p1", "answer", "42", ("a",)),
        Proposal("p2", "answer", "41", ("b",)),
        Proposal("p3", "answer", "7", ("c",)),
    ]
    explicit = ballots_for(Result(ballots={"p1": Ballot("reject", 0.9)}, confidence=0.4), props)
    assert explicit["p1"] == (Ballot("reject", 0.9), None)
    assert explicit["p2"] == (Ballot("abstain", None), "no ballot given")
    chose = ballots_for(Result(choice="p2", confidence=0.8), props)
    assert [chose[p.id][0].vote for p in props] == ["reject", "approve", "reject"]
    assert chose["p1"][0].confidence == 0.8
    bogus = ballots_for(Result(choice="p9"), props)
    assert all(b.vote == "abstain" for b, _ in bogus.values())
    assert "not a proposal" in (bogus["p1"][1] or "")


def test_engine_weighted_vote_uses_slot_weights_and_ballot_confidence() -> None:
    from tests.swarm.support import Scripted, plan, run, slot

    def votes(vote: str, confidence: float | None = None):
        return lambda task: Result(ballots={p.id: Ballot(vote, confidence) for p in task.proposals})  # type: ignore[arg-type]

    lead = Scripted("lead", work="ship it", vote=votes("approve"))
    j1 = Scripted("j1", work="ship it", vote=votes("reject", 0.5))
    j2 = Scripted("j2", work="ship it", vote=votes("reject"))
    result = run(plan(slot(lead, weight=3.0), j1, j2, consensus=ConsensusRule("weighted")))
    [decision] = result.decisions
    assert decision.proposal.by == ("lead", "j1", "j2")
    assert [(v.voter, v.vote, v.weight, v.confidence, v.counted) for v in result.votes] == [
        ("lead", "approve", 3.0, None, 3.0),
        ("j1", "reject", 1.0, 0.5, 0.5),
        ("j2", "reject", 1.0, None, 1.0),
    ]
    assert decision.outcome == "accepted" and decision.share == pytest.approx(3 / 4.5)


def test_engine_records_timeouts_failures_and_unhealthy_voters_per_proposal() -> None:
    import asyncio

    from agentflowd.swarm.plan import ExecutionPolicy
    from tests.swarm.support import Scripted, plan, run

    class SlowVoter(Scripted):
        async def run(self, task, ctx):
            if task.kind == "vote":
                await asyncio.sleep(5)
            return await super().run(task, ctx)

    yes = Scripted("yes", "a", work="42", vote=lambda t: Result(choice=t.proposals[0].id))
    slow = SlowVoter("slow", "b", work="42")
    broken = Scripted("broken", "c", work="42", vote=lambda t: 1 / 0)
    dead = Scripted("dead", "d", fail=9)
    p = plan(
        yes,
        slow,
        broken,
        dead,
        consensus=ConsensusRule("majority", quorum=0.5),
        policy=ExecutionPolicy(attempt_timeout=0.1),
    )
    result = run(p)
    by_voter = {v.voter: (v.vote, v.note) for v in result.votes}
    assert by_voter["yes"] == ("approve", "chose p1")
    assert by_voter["slow"] == ("timeout", "timed out after 0.1s")
    assert by_voter["broken"] == ("failed", "ZeroDivisionError: division by zero")
    assert by_voter["dead"] == ("failed", "agent was unhealthy")
    [d] = result.decisions
    # one of four answered: below the 50% quorum, so nothing is decided
    assert (d.approve, d.absent, d.outcome) == (1, 3, "no_quorum")
