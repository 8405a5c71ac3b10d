"""Routing semantics of each topology: who received which message, through whom, and when."""

from __future__ import annotations

import pytest

from agentflowd.swarm import events
from agentflowd.swarm.consensus import ConsensusRule
from agentflowd.swarm.errors import CapabilityError
from agentflowd.swarm.events import EventBus
from agentflowd.swarm.model import OutMessage, Result, Subtask
from agentflowd.swarm.plan import TaskSpec
from agentflowd.swarm.topology import Hierarchy, Mesh, Ring, Router, Star, UnknownRecipient
from tests.swarm.support import Scripted, plan, run, slot


def inbox(agent: Scripted, n: int) -> list[tuple[str, object, tuple[str, ...]]]:
    return [(m.sender, m.content, m.path) for m in agent.tasks[n].inbox]


def test_paths_per_topology() -> None:
    assert Mesh(["a", "b", "c"]).path("a", "c") == ("a", "c")
    star = Star("h", ["a", "b"])
    assert star.path("a", "b") == ("a", "h", "b")
    assert star.path("h", "b") == ("h", "b")
    assert star.neighbours("a") == ("h",)
    ring = Ring(["a", "b", "c", "d"])
    assert ring.path("a", "d") == ("a", "b", "c", "d")
    assert ring.path("c", "a") == ("c", "d", "a")
    assert ring.neighbours("d") == ("a",)
    tree = Hierarchy.build(
        [
            ("r", "lead"),
            ("l1", "lead"),
            ("l2", "lead"),
            ("w1", "worker"),
            ("w2", "worker"),
            ("w3", "worker"),
        ]
    )
    assert tree.parent == {"l1": "r", "l2": "r", "w1": "l1", "w2": "l2", "w3": "l1"}
    assert tree.path("w1", "w2") == ("w1", "l1", "r", "l2", "w2")
    assert tree.path("w1", "w3") == ("w1", "l1", "w3")
    assert tree.path("r", "w2") == ("r", "l2", "w2")
    assert tree.neighbours("l1") == ("r", "w1", "w3")
    with pytest.raises(UnknownRecipient):
        Mesh(["a"]).path("a", "zz")


def test_router_rejects_self_and_unknown_and_records_every_delivery() -> None:
    seen = []
    router = Router(
        Star("h", ["a", "b"]), lambda kind, agent, data: seen.append((kind, data["path"]))
    )
    router.send("a", "b", "hi")
    assert [(m.sender, m.recipient, m.path) for m in router.delivered] == [
        ("a", "b", ("a", "h", "b"))
    ]
    assert router.take_inbox("b")[0].content == "hi"
    assert router.take_inbox("b") == ()
    assert router.take_inbox("h") == ()  # the hub relays; it is not a recipient
    assert seen == [(events.MESSAGE_ROUTED, ["a", "h", "b"])]
    with pytest.raises(UnknownRecipient):
        router.send("a", "a", "me")
    with pytest.raises(UnknownRecipient):
        router.send("a", "ghost", "boo")


def test_mesh_broadcasts_every_output_to_every_other_agent_between_rounds() -> None:
    a, b, c = (Scripted(x, work=lambda t, x=x: f"{x}@r{t.round}") for x in "abc")
    result = run(plan(a, b, c, topology="mesh", rounds=2))
    assert result.status == "succeeded"
    assert [t.round for t in a.tasks] == [1, 2]
    assert inbox(a, 0) == []
    assert sorted(inbox(a, 1)) == [("b", "b@r1", ("b", "a")), ("c", "c@r1", ("c", "a"))]
    assert sorted(inbox(c, 1)) == [("a", "a@r1", ("a", "c")), ("b", "b@r1", ("b", "c"))]
    # no broadcast after the last round when nothing follows it
    assert len(result.messages) == 6
    assert [o["output"] for o in result.output] == ["a@r2", "b@r2", "c@r2"]


def test_mesh_explicit_message_goes_only_to_its_recipient() -> None:
    a = Scripted(
        "a",
        work=lambda t: (
            Result(output="x", messages=(OutMessage("c", "psst"),)) if t.round == 1 else "x"
        ),
    )
    b, c = Scripted("b"), Scripted("c")
    result = run(plan(a, b, c, topology="mesh", rounds=2))
    psst = [m for m in result.messages if m.content == "psst"]
    assert [(m.sender, m.recipient, m.path) for m in psst] == [("a", "c", ("a", "c"))]
    assert ("a", "psst", ("a", "c")) in inbox(c, 1)
    assert all(content != "psst" for _, content, _ in inbox(b, 1))


def test_star_spokes_report_to_the_hub_and_talk_to_each_other_only_through_it() -> None:
    hub = Scripted("hub", aggregate=lambda t: "summary@" + ",".join(r.agent for r in t.reports))
    s1 = Scripted(
        "s1",
        work=lambda t: (
            Result(output="s1 out", messages=(OutMessage("s2", "from s1"),))
            if t.round == 1
            else "s1 out"
        ),
    )
    s2 = Scripted("s2", work="s2 out")
    s3 = Scripted("s3", work="s3 out")
    result = run(plan(slot(hub, role="lead"), s1, s2, s3, topology="star", rounds=2))
    assert result.status == "succeeded"
    # the hub only aggregates; each round it gets one report per spoke
    assert [t.kind for t in hub.tasks] == ["aggregate", "aggregate"]
    assert [(r.agent, r.output) for r in hub.tasks[0].reports] == [
        ("s1", "s1 out"),
        ("s2", "s2 out"),
        ("s3", "s3 out"),
    ]
    assert hub.tasks[0].inbox == ()  # the reports are not repeated in the inbox
    # round 2: each spoke hears the hub's round-1 summary; s2 also gets s1's note, relayed by the hub
    assert inbox(s3, 1) == [("hub", "summary@s1,s2,s3", ("hub", "s3"))]
    assert sorted(inbox(s2, 1)) == [
        ("hub", "summary@s1,s2,s3", ("hub", "s2")),
        ("s1", "from s1", ("s1", "hub", "s2")),
    ]
    # no spoke ever received a spoke's output directly
    spoke_to_spoke = [
        m for m in result.messages if m.sender.startswith("s") and m.recipient.startswith("s")
    ]
    assert all(m.path[1] == "hub" for m in spoke_to_spoke)
    assert result.output == "summary@s1,s2,s3"


def test_ring_hands_each_output_to_the_next_agent_for_n_rounds() -> None:
    order: list[str] = []

    def step(name: str):
        def work(task):
            order.append(name)
            return f"{task.previous or 'start'}>{name}{task.round}"

        return work

    a, b, c = (Scripted(x, work=step(x)) for x in "abc")
    result = run(plan(a, b, c, topology="ring", rounds=2))
    assert order == ["a", "b", "c", "a", "b", "c"]
    assert a.tasks[0].previous is None
    assert a.tasks[1].previous == "start>a1>b1>c1"
    assert result.output == "start>a1>b1>c1>a2>b2>c2"
    hops = [(m.sender, m.recipient) for m in result.messages]
    assert hops == [("a", "b"), ("b", "c"), ("c", "a"), ("a", "b"), ("b", "c")]
    assert all(t.inbox == () for t in b.tasks)  # the hand-off arrives as `previous`, not twice


def test_ring_message_to_a_far_agent_travels_hop_by_hop() -> None:
    a = Scripted("a", work=lambda t: Result(output="a", messages=(OutMessage("d", "far"),)))
    b, c, d = Scripted("b"), Scripted("c"), Scripted("d")
    result = run(plan(a, b, c, d, topology="ring"))
    [far] = [m for m in result.messages if m.content == "far"]
    assert far.path == ("a", "b", "c", "d")
    assert [(m.sender, m.content) for m in d.tasks[0].inbox] == [("a", "far")]


def test_ring_skips_a_failed_agent_and_says_so() -> None:
    a = Scripted("a", "first", work="A")
    b = Scripted("b", "second", fail=5)
    c = Scripted("c", "third", work=lambda t: f"{t.previous}+C")
    result = run(plan(a, b, c, topology="ring"))
    assert result.status == "partial"
    assert c.tasks[0].previous == "A"
    assert result.output == "A+C"
    assert any("ring: b failed in round 1" in line for line in result.account)


def test_hierarchy_splits_down_reports_up_and_aggregates_per_level() -> None:
    def lead_split(task):
        return Result(
            subtasks=tuple(Subtask(f"{task.instruction}/{w['id']}", w["id"]) for w in task.workers)
        )

    def agg(task):
        return "[" + " ".join(str(r.output) for r in task.reports) + "]"

    root = Scripted("root", split=lead_split, aggregate=agg)
    l1 = Scripted("l1", split=lead_split, aggregate=agg)
    l2 = Scripted("l2", split=lead_split, aggregate=agg)
    workers = [Scripted(f"w{i}", work=lambda t: f"did:{t.instruction}") for i in range(1, 5)]
    bus = EventBus()
    levels = bus.subscribe([events.LEVEL_AGGREGATED])
    result = run(
        plan(
            slot(root, role="lead", instruction="ship"),
            slot(l1, role="lead"),
            slot(l2, role="lead"),
            *(slot(w, role="worker") for w in workers),
            topology="hierarchy",
        ),
        bus=bus,
    )
    assert result.status == "succeeded"
    # workers alternate between the two sub-leads
    assert [w.tasks[0].instruction for w in workers] == [
        "ship/l1/w1",
        "ship/l2/w2",
        "ship/l1/w3",
        "ship/l2/w4",
    ]
    assert [w["id"] for w in l1.tasks[0].workers] == ["w1", "w3"]
    # each lead aggregated exactly the reports of the agents below it
    assert [r.agent for r in l1.received("aggregate")[0].reports] == ["w1", "w3"]
    assert [r.agent for r in root.received("aggregate")[0].reports] == ["l1", "l2"]
    assert result.output == "[[did:ship/l1/w1 did:ship/l1/w3] [did:ship/l2/w2 did:ship/l2/w4]]"
    down = [(m.sender, m.recipient) for m in result.messages if m.recipient.startswith("w")]
    up = [(m.sender, m.recipient) for m in result.messages if m.sender.startswith("w")]
    assert sorted(down) == [("l1", "w1"), ("l1", "w3"), ("l2", "w2"), ("l2", "w4")]
    assert sorted(up) == [("w1", "l1"), ("w2", "l2"), ("w3", "l1"), ("w4", "l2")]
    seen = []
    while (e := levels.get_nowait()) is not None:
        seen.append((e.agent, e.data["level"], e.data["reports"]))
    assert sorted(seen) == [("l1", 1, 2), ("l2", 1, 2), ("root", 0, 2)]


def test_hierarchy_refuses_a_subtask_nobody_below_can_do() -> None:
    root = Scripted(
        "root",
        split=lambda t: Result(
            subtasks=(
                Subtask("write code", None, frozenset({"code"})),
                Subtask("fly", None, frozenset({"pilot"})),
            )
        ),
        aggregate="merged",
    )
    coder = Scripted("coder", "coder", ["code"])
    tester = Scripted("tester", "tester", ["test"])
    result = run(plan(slot(root, role="lead"), coder, tester, topology="hierarchy"))
    assert [t.instruction for t in coder.tasks] == ["write code"]
    assert tester.tasks == []
    assert result.status == "partial"
    assert any("needs pilot" in line and "refused" in line for line in result.account)


def test_explicit_tasks_go_to_agents_with_the_capabilities() -> None:
    sec = Scripted("sec", "reviewer", ["security"])
    perf = Scripted("perf", "reviewer", ["performance"])
    both = Scripted("both", "reviewer", ["security", "performance"])
    tasks = (
        TaskSpec("t1", "check auth", frozenset({"security"})),
        TaskSpec("t2", "check loops", frozenset({"performance"})),
        TaskSpec("t3", "check both", frozenset({"security", "performance"})),
    )
    result = run(plan(sec, perf, both, topology="mesh", tasks=tasks))
    assert result.status == "succeeded"
    assert [t.instruction for t in sec.tasks] == ["check auth"]
    assert [t.instruction for t in perf.tasks] == ["check loops"]
    assert [t.instruction for t in both.tasks] == ["check both"]
    assert both.tasks[0].requires == frozenset({"security", "performance"})


def test_a_task_no_agent_can_do_is_refused_before_anything_runs() -> None:
    a = Scripted("a", "reviewer", ["security"])
    tasks = (
        TaskSpec("t1", "fine", frozenset({"security"})),
        TaskSpec("t2", "deploy it", frozenset({"deploy"})),
    )
    with pytest.raises(CapabilityError) as refused:
        run(plan(a, tasks=tasks))
    assert "task 't2' needs deploy" in str(refused.value)
    assert "capabilities in this swarm: security" in str(refused.value)
    assert a.tasks == []


def test_votes_follow_the_work_and_every_agent_votes() -> None:
    agents = [
        Scripted(
            x,
            work=lambda t, x=x: "42" if x != "c" else "41",
            vote=lambda t: Result(choice=next(p.id for p in t.proposals if p.text == "42")),
        )
        for x in "abc"
    ]
    result = run(plan(*agents, consensus=ConsensusRule("majority")))
    assert {d.proposal.text: d.outcome for d in result.decisions} == {
        "42": "accepted",
        "41": "rejected",
    }
    forty_two = next(d for d in result.decisions if d.proposal.text == "42")
    assert forty_two.proposal.by == ("a", "b")
    # before voting, everyone heard everyone's answer
    assert sorted(m.sender for m in agents[2].received("vote")[0].inbox) == ["a", "b"]
