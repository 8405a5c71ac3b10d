"""Who may talk to whom, and through whom.

A topology answers two questions: which agents are one hop away from a sender (what `*` reaches),
and which hops a message to a named agent takes. The Router applies them: it records every
delivery with its full path and puts it in the recipient's inbox, which the recipient receives
with its next task.

- mesh:      everyone is one hop from everyone.
- star:      the hub is one hop from every spoke; a spoke reaches another spoke only via the hub.
- ring:      each agent's one hop is the next agent; anything further travels hop by hop.
- hierarchy: a tree; one hop is the parent and the children; other agents are reached up to the
             nearest common lead and down again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from agentflowd.skills.schema import enum_at
from agentflowd.swarm import events
from agentflowd.swarm.model import Message

TOPOLOGIES = enum_at("skill", ("coordination", "topology"))


class UnknownRecipient(LookupError):
    pass


class Topology:
    name = "topology"

    def __init__(self, members: Sequence[str]) -> None:
        self.members = tuple(members)
        self._set = frozenset(members)

    def neighbours(self, sender: str) -> tuple[str, ...]:
        raise NotImplementedError

    def path(self, sender: str, recipient: str) -> tuple[str, ...]:
        raise NotImplementedError

    def _known(self, *ids: str) -> None:
        for agent_id in ids:
            if agent_id not in self._set:
                raise UnknownRecipient(f"no agent {agent_id!r} in this swarm")


class Mesh(Topology):
    name = "mesh"

    def neighbours(self, sender: str) -> tuple[str, ...]:
        return tuple(m for m in self.members if m != sender)

    def path(self, sender: str, recipient: str) -> tuple[str, ...]:
        self._known(sender, recipient)
        return (sender, recipient)


class Star(Topology):
    name = "star"

    def __init__(self, hub: str, spokes: Sequence[str]) -> None:
        super().__init__((hub, *spokes))
        self.hub = hub
        self.spokes = tuple(spokes)

    def neighbours(self, sender: str) -> tuple[str, ...]:
        return self.spokes if sender == self.hub else (self.hub,)

    def path(self, sender: str, recipient: str) -> tuple[str, ...]:
        self._known(sender, recipient)
        if self.hub in (sender, recipient):
            return (sender, recipient)
        return (sender, self.hub, recipient)


class Ring(Topology):
    name = "ring"

    def __init__(self, order: Sequence[str]) -> None:
        super().__init__(order)
        self._next = {a: order[(i + 1) % len(order)] for i, a in enumerate(order)}

    def next(self, agent_id: str) -> str:
        return self._next[agent_id]

    def neighbours(self, sender: str) -> tuple[str, ...]:
        nxt = self._next[sender]
        return () if nxt == sender else (nxt,)

    def path(self, sender: str, recipient: str) -> tuple[str, ...]:
        self._known(sender, recipient)
        hops = [sender]
        while hops[-1] != recipient:
            hops.append(self._next[hops[-1]])
        return tuple(hops)


class Hierarchy(Topology):
    """A tree: `parent` maps every agent but the root to its lead."""

    name = "hierarchy"

    def __init__(self, root: str, parent: Mapping[str, str], order: Sequence[str]) -> None:
        super().__init__(order)
        self.root = root
        self.parent = dict(parent)
        self.children: dict[str, tuple[str, ...]] = {
            a: tuple(c for c in order if self.parent.get(c) == a) for a in order
        }

    def level(self, agent_id: str) -> int:
        depth = 0
        while agent_id in self.parent:
            agent_id = self.parent[agent_id]
            depth += 1
        return depth

    def _ancestry(self, agent_id: str) -> list[str]:
        chain = [agent_id]
        while chain[-1] in self.parent:
            chain.append(self.parent[chain[-1]])
        return chain

    def neighbours(self, sender: str) -> tuple[str, ...]:
        up = (self.parent[sender],) if sender in self.parent else ()
        return up + self.children.get(sender, ())

    def path(self, sender: str, recipient: str) -> tuple[str, ...]:
        self._known(sender, recipient)
        up = self._ancestry(sender)
        down = self._ancestry(recipient)
        common = next(a for a in up if a in set(down))
        return (*up[: up.index(common) + 1], *reversed(down[: down.index(common)]))

    @classmethod
    def build(cls, agents: Sequence[tuple[str, str]]) -> Hierarchy:
        """From (id, role) pairs: the first lead is the root; further leads report to it and
        share the workers round-robin; with no other lead, every worker reports to the root."""
        ids = [a for a, _ in agents]
        leads = [a for a, role in agents if role == "lead"] or ids[:1]
        root, sub_leads = leads[0], leads[1:]
        parent: dict[str, str] = {s: root for s in sub_leads}
        workers = [a for a in ids if a not in leads]
        for i, worker in enumerate(workers):
            parent[worker] = sub_leads[i % len(sub_leads)] if sub_leads else root
        return cls(root, parent, ids)


class Router:
    """Delivers messages along a topology and keeps every agent's unread inbox."""

    def __init__(self, topology: Topology, emit: Callable[..., None]) -> None:
        self.topology = topology
        self._emit = emit
        self.inboxes: dict[str, list[Message]] = {m: [] for m in topology.members}
        self.delivered: list[Message] = []
        self.round = 1

    def send(self, sender: str, to: str, content: Any) -> tuple[Message, ...]:
        """Deliver `content` from `sender` to `to` (an agent id, or `*` for every neighbour)."""
        if to == sender:
            raise UnknownRecipient(f"{sender} cannot send a message to itself")
        recipients = self.topology.neighbours(sender) if to == "*" else (to,)
        out = []
        for recipient in recipients:
            path = self.topology.path(sender, recipient)
            msg = Message(len(self.delivered) + 1, sender, recipient, content, self.round, path)
            self.delivered.append(msg)
            self.inboxes[recipient].append(msg)
            out.append(msg)
            self._emit(
                events.MESSAGE_ROUTED,
                sender,
                {
                    "id": msg.id,
                    "from": sender,
                    "to": recipient,
                    "path": list(path),
                    "round": self.round,
                },
            )
        return tuple(out)

    def take_inbox(self, agent_id: str) -> tuple[Message, ...]:
        box = self.inboxes.get(agent_id)
        if not box:
            return ()
        taken = tuple(box)
        box.clear()
        return taken

    def unread(self) -> dict[str, int]:
        return {a: len(box) for a, box in self.inboxes.items() if box}
