"""The swarm engine: a skill's agents really dispatched, their messages really routed, their votes
really counted, and every step published as an event.

Modules: `model` (tasks, results), `agent` (the Agent protocol), `plan` / `build` (what runs),
`scheduler` (concurrency, retries, reassignment), `topology` (routing), `consensus` (counting),
`budget`, `events`, `engine` (the run), `executors` (command, python, claude, anthropic, openai),
`outputs` (report, metrics, SARIF files).
"""

from __future__ import annotations
