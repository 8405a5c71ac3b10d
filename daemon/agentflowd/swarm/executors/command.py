"""The `command` executor: a subprocess that reads its task as JSON on stdin and answers on stdout.

No shell unless the skill sets `shell: true` (then `script` runs under /bin/sh -c). The child gets
only the environment variables on its allowlist plus AGENTFLOW_* identifiers, runs in its own
process group, and is killed with everything it started on timeout, cancel or exit.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
from pathlib import Path

from agentflowd.swarm import events
from agentflowd.swarm.agent import AgentContext
from agentflowd.swarm.errors import ExecutorError, SwarmConfigError
from agentflowd.swarm.executors.answer import result_from_json
from agentflowd.swarm.executors.base import AgentSetup, ProcessAgent, charged
from agentflowd.swarm.model import Result, Task

DEFAULT_OUTPUT_LIMIT = 1024 * 1024
# Passed through when the skill gives no `env` allowlist: enough to find programs and run them.
DEFAULT_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TZ", "USER", "LOGNAME")


class CommandAgent(ProcessAgent):
    kind = "command"

    def __init__(self, setup: AgentSetup) -> None:
        super().__init__(setup, default_cwd=setup.workdir)
        opts, where = self.options, setup.where
        self.shell = opts.bool("shell")
        if self.shell:
            script = opts.str("script")
            if not script:
                raise SwarmConfigError(f"{where}: `shell: true` needs a `script`")
            self.argv: tuple[str, ...] = ("/bin/sh", "-c", script)
        else:
            if opts.data.get("script") is not None:
                raise SwarmConfigError(
                    f"{where}: `script` runs only with `shell: true`; use `argv` to run without a shell"
                )
            argv = opts.string_list("argv")
            if argv is None:
                raise SwarmConfigError(
                    f"{where}: a command executor needs `argv` (or `shell: true` and `script`)"
                )
            self.argv = argv
        self.env_names = opts.strings("env") or DEFAULT_ENV
        self.output_limit = opts.int("output_limit", DEFAULT_OUTPUT_LIMIT) or DEFAULT_OUTPUT_LIMIT

    def preflight(self) -> list[str]:
        problems = []
        if not self.cwd.is_dir():
            problems.append(f"{self.id}: working directory {self.cwd} does not exist")
        elif self._resolve() is None:
            problems.append(f"{self.id}: program {self.argv[0]!r} not found (PATH or {self.cwd})")
        return problems

    def _resolve(self) -> str | None:
        program = self.argv[0]
        if os.sep in program:
            path = Path(program) if Path(program).is_absolute() else self.cwd / program
            return str(path) if os.access(path, os.X_OK) else None
        # Found with our PATH, so an allowlist without PATH still runs the program it names.
        return shutil.which(program)

    def _env(self, task: Task, ctx: AgentContext) -> dict[str, str]:
        env = {k: os.environ[k] for k in self.env_names if k in os.environ}
        env.update(
            AGENTFLOW_RUN_ID=ctx.run_id,
            AGENTFLOW_AGENT_ID=self.id,
            AGENTFLOW_AGENT_TYPE=self.type,
            AGENTFLOW_TASK_KIND=task.kind,
            AGENTFLOW_PROJECT=str(ctx.project),
        )
        return env

    async def run(self, task: Task, ctx: AgentContext) -> Result:
        program = self._resolve()
        if program is None:
            raise ExecutorError(f"program {self.argv[0]!r} not found", retryable=False)
        payload = {
            "run_id": ctx.run_id,
            "agent": {"id": self.id, "type": self.type, "capabilities": sorted(self.capabilities)},
            **task.to_json(),
        }
        data = (json.dumps(payload, ensure_ascii=False, default=str) + "\n").encode()

        proc = await self.spawn(
            (program, *self.argv[1:]),
            stdin=data,
            env=self._env(task, ctx),
            output_limit=self.output_limit,
            task=task,
            ctx=ctx,
            program=self.argv[0],
            name=repr(self.argv[0]),
        )
        if ctx.bus.active:
            ctx.emit(events.PROCESS_EXITED, {"pid": proc.pid, "returncode": proc.returncode})
        if proc.overflow:
            raise ExecutorError(
                f"wrote more than {self.output_limit} bytes on stdout (output_limit); killed",
                retryable=False,
            )
        if proc.returncode != 0:
            raise ExecutorError(f"{_status(proc.returncode)}{_tail(proc.stderr)}")
        return charged(ctx, answer_from_stdout(proc.stdout))


def answer_from_stdout(stdout: bytes) -> Result:
    """A JSON object is an answer; anything else (including JSON that is not an object) is text."""
    text = stdout.decode("utf-8", errors="replace")
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            obj = json.loads(stripped)
        except ValueError:
            return Result(output=text)
        return result_from_json(obj)
    return Result(output=stripped)


def _status(code: int) -> str:
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"killed by {name}"
    return f"exit status {code}"


def _tail(stderr: bytes, lines: int = 5) -> str:
    text = stderr.decode("utf-8", errors="replace").strip()
    if not text:
        return ""
    return ": " + " | ".join(text.splitlines()[-lines:])
