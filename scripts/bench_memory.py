"""Benchmark of the memory store: CLI latency, insert throughput, search at 100k vectors.

    .venv/bin/python scripts/bench_memory.py [--n 100000] [--base 4000] [--queries 200]

Prints, in order:
1. `agentflowd memory store k v`, `get` and `search` end to end (a fresh process per call, the
   way hooks and agents call them), p50/min/max over repeated runs;
2. batched inserts without embeddings (validation + redaction + write) and with embeddings;
3. at N vectors of 384 dims in one namespace: Annoy build time and index size, Annoy search p50
   and recall@10 against exact search (clean, then with rows added and deleted after the build),
   a search_k sweep, and exact sqlite-vec latency (float32 and int8) beside it.

The N vectors are not random (random vectors are the worst case for any ANN and unlike text).
They are built from real text: sentences from the docstrings of the Python standard library
on this machine are embedded with the project's MiniLM embedder (`--base` of them), and each of
the N vectors mixes two of those embeddings (weights 0.55-0.95 / rest) plus Gaussian noise, then
is L2-normalised. Queries are embeddings of held-out stdlib sentences not used as a base. The
script prints the neighbour-similarity profile of the real and the synthetic sets side by side so
the resemblance can be judged.
"""

from __future__ import annotations

import argparse
import ast
import os
import random
import re
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from agentflowd.embed import get_embedder
from agentflowd.memory import ann
from agentflowd.memory import vectors as vec
from agentflowd.memory.db import write_transaction
from agentflowd.memory.semantic import SemanticSearch
from agentflowd.memory.store import EMBED_BATCH, MemoryStore

NS = "bench"


def stdlib_sentences(limit: int, seed: int = 1) -> list[str]:
    """Distinct docstring sentences (6-40 words) from the standard library, shuffled."""
    root = Path(sysconfig.get_paths()["stdlib"])
    seen: set[str] = set()
    out: list[str] = []
    for path in sorted(root.rglob("*.py")):
        if {"test", "tests", "site-packages", "idlelib", "lib2to3"} & set(path.parts):
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8", errors="ignore"))
        except (SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if not isinstance(
                node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef
            ):
                continue
            doc = ast.get_docstring(node)
            if not doc:
                continue
            for sentence in re.split(r"(?<=[.!?])\s+", " ".join(doc.split())):
                words = sentence.split()
                letters = sum(ch.isalpha() for ch in sentence)
                if 6 <= len(words) <= 40 and letters > 0.6 * len(sentence) and sentence not in seen:
                    seen.add(sentence)
                    out.append(sentence)
    random.Random(seed).shuffle(out)
    if len(out) < limit:
        raise SystemExit(f"only {len(out)} stdlib sentences found, need {limit}")
    return out[:limit]


def synthesize(base: np.ndarray, n: int, seed: int = 2) -> np.ndarray:
    rng = np.random.default_rng(seed)
    first = rng.integers(0, len(base), n)
    second = rng.integers(0, len(base), n)
    weight = rng.uniform(0.55, 0.95, n)[:, None].astype(np.float32)
    noise = rng.normal(0.0, 0.02, (n, base.shape[1])).astype(np.float32)
    mixed = weight * base[first] + (1 - weight) * base[second] + noise
    return (mixed / np.linalg.norm(mixed, axis=1, keepdims=True)).astype(np.float32)


def profile(matrix: np.ndarray, probes: np.ndarray) -> str:
    sims = probes @ matrix.T
    top = -np.sort(-sims, axis=1)
    rng = np.random.default_rng(3)
    pairs = rng.integers(0, len(matrix), (2000, 2))
    random_pairs = np.einsum("ij,ij->i", matrix[pairs[:, 0]], matrix[pairs[:, 1]])
    return (
        f"random-pair cosine {random_pairs.mean():.3f}, "
        f"query top-1 {top[:, 0].mean():.3f}, top-10 {top[:, 9].mean():.3f}"
    )


def pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def timed_runs(fn: Callable[[], object], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def line(label: str, ms: Sequence[float], extra: str = "") -> None:
    print(
        f"  {label:<44} p50 {statistics.median(ms):7.1f} ms   min {min(ms):7.1f}   "
        f"max {max(ms):7.1f}  (n={len(ms)}){extra}"
    )


# -- 1. CLI ------------------------------------------------------------------------------------


def bench_cli(folder: Path, sentences: list[str], runs: int) -> None:
    print("\n1. CLI end to end (fresh process per call)")
    project = folder / "project"
    (project / ".git").mkdir(parents=True)
    db = project / ".agentflow" / "memory.db"
    with MemoryStore(db, background="off") as mem:
        mem.store_many([mem.prepare("notes", f"n{i}", s) for i, s in enumerate(sentences[:1000])])
        mem.embed_pending()
    env = {**os.environ, "AGENTFLOWD_MEMORY_WORKER": "0"}
    env.pop("AGENTFLOWD_MEMORY_DB", None)
    cli = [sys.executable, "-m", "agentflowd", "memory"]

    def run(args: list[str], environ: dict[str, str] = env) -> None:
        done = subprocess.run(cli + args, cwd=project, env=environ, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"{args}: {done.stderr}")

    counter = iter(range(10**6))
    line(
        "memory store k v",
        timed_runs(lambda: run(["store", f"k{next(counter)}", "some value"]), runs),
    )
    worker_env = {k: v for k, v in env.items() if k != "AGENTFLOWD_MEMORY_WORKER"}
    line(
        "memory store k v (background embedding worker on)",
        timed_runs(
            lambda: run(["store", f"w{next(counter)}", "a value to embed"], worker_env), runs
        ),
    )
    time.sleep(3)  # let the worker finish before timing reads
    run(["search", "warm up", "--mode", "keyword"])
    line("memory get k", timed_runs(lambda: run(["get", "k0"]), runs))
    queries = iter(sentences[1000:])
    for mode in ("hybrid", "semantic", "keyword"):
        line(
            f"memory search QUERY --mode {mode} (1k entries)",
            timed_runs(lambda mode=mode: run(["search", next(queries), "--mode", mode]), runs),
        )
    # The same calls answered by a running project daemon (model already loaded).
    daemon = subprocess.Popen(
        [sys.executable, "-m", "agentflowd", "serve", "--no-lsp", "--project", str(project)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        from agentflowd.ipc import client

        client.wait_for_daemon(project, 60)
        run(["search", "warm up the daemon's model"])
        line(
            "memory store k v (daemon running: embeds at once)",
            timed_runs(lambda: run(["store", f"d{next(counter)}", "some value"]), runs),
        )
        line(
            "memory search QUERY --mode hybrid (daemon running)",
            timed_runs(lambda: run(["search", next(queries)]), runs),
        )
    finally:
        client.call(project, "shutdown", {})
        daemon.wait(timeout=30)


# -- 2. inserts --------------------------------------------------------------------------------


def bench_inserts(folder: Path, sentences: list[str]) -> None:
    print("\n2. Batched inserts")
    n = 50_000
    with MemoryStore(folder / "insert.db", background="off", embed_on_write=False) as mem:
        mem.configure_namespace("plain", embed=False)
        start = time.perf_counter()
        items = [
            mem.prepare(
                "plain",
                f"key-{i}",
                f"{sentences[i % len(sentences)]} #{i}",
                tags=["bench"],
                metadata={"i": i},
            )
            for i in range(n)
        ]
        prepared = time.perf_counter()
        mem.import_records(items)
        written = time.perf_counter()
    print(
        f"  without embeddings: {n / (written - start):,.0f} rows/s "
        f"(validate+redact {n / (prepared - start):,.0f}/s, write {n / (written - prepared):,.0f}/s; "
        f"{n} rows, batches of 2000)"
    )
    m = 2_000
    with MemoryStore(folder / "embed.db", background="off", embed_on_write=False) as mem:
        mem.embedder.embed(["warm up"])
        start = time.perf_counter()
        mem.import_records([mem.prepare("e", f"k{i}", sentences[i]) for i in range(m)])
        embedded = mem.embed_pending()
        elapsed = time.perf_counter() - start
    threads = os.environ.get("AGENTFLOWD_EMBED_THREADS", "1")
    print(
        f"  with embeddings:    {embedded / elapsed:,.0f} rows/s ({m} rows, insert + embed rounds of "
        f"{EMBED_BATCH}, {threads} embedder thread(s))"
    )


# -- 3. 100k -----------------------------------------------------------------------------------


def bench_vectors(folder: Path, base_vectors: np.ndarray, queries: np.ndarray, n: int) -> None:
    print(f"\n3. {n:,} vectors x {base_vectors.shape[1]} dims, one namespace")
    synthetic = synthesize(base_vectors, n)
    print(f"  real base sentences: {profile(base_vectors, queries)}")
    print(f"  synthetic vectors:   {profile(synthetic, queries)}")
    db = folder / "vectors.db"
    embedder = get_embedder()
    space = vec.VectorSpace(embedder.model_id, embedder.dim)
    mem = MemoryStore(db, background="off", embed_on_write=False, ann_threshold=25_000)
    start = time.perf_counter()
    mem.import_records(
        [mem.prepare(NS, f"v{i}", f"synthetic vector {i}") for i in range(n)], batch_size=10_000
    )
    write_vectors(mem, space, synthetic, 0)
    print(f"  load: {n:,} entries + vectors in {time.perf_counter() - start:.1f} s")

    start = time.perf_counter()
    state = ann.build(mem.conn, db, NS, space)
    build_s = time.perf_counter() - start
    size = ann.index_size(db, state)
    print(
        f"  Annoy build ({state.trees} trees, from the database): {build_s:.1f} s, index {size / 1e6:.0f} MB"
    )

    engine = SemanticSearch(mem)
    live = {i: synthetic[i] for i in range(n)}

    def evaluate(label: str) -> None:
        keys = list(live)
        matrix = np.stack([live[i] for i in keys])
        ms, recalls = [], []
        for q in queries[:3]:
            engine.search(q, 10, namespace=NS)  # warm the mmap
        for q in queries:
            start = time.perf_counter()
            hits = engine.search(q, 10, namespace=NS)
            ms.append((time.perf_counter() - start) * 1000)
            truth = {keys[i] for i in np.argsort(-(matrix @ q))[:10]}
            got = {entry_index[entry_id] for entry_id, _ in hits}
            recalls.append(len(truth & got) / 10)
        line(label, ms, f"  recall@10 {np.mean(recalls):.3f}")

    entry_index = {
        row[0]: int(row[1][1:]) for row in mem.conn.execute("SELECT id, key FROM entries")
    }
    evaluate("Annoy search (rescored), clean index")

    extra = synthesize(base_vectors, 1_000, seed=9)
    mem.import_records(
        [mem.prepare(NS, f"v{n + i}", f"late vector {i}") for i in range(len(extra))]
    )
    write_vectors(mem, space, extra, n)
    doomed = random.Random(4).sample(range(n), 500)
    write_transaction(
        mem.conn,
        lambda c: c.executemany(
            "DELETE FROM entries WHERE namespace = ? AND key = ?", ((NS, f"v{i}") for i in doomed)
        ),
    )
    for i, vector in enumerate(extra):
        live[n + i] = vector
    for i in doomed:
        del live[i]
    entry_index = {
        row[0]: int(row[1][1:]) for row in mem.conn.execute("SELECT id, key FROM entries")
    }
    evaluate("Annoy + 1,000 added, 500 deleted since build")

    print("  search_k sweep (same index, with the delta):")
    saved = (ann.SEARCH_K_MIN, ann.SEARCH_K_MAX)
    for search_k in (5_000, 10_000, 15_000, 20_000, 30_000):
        ann.SEARCH_K_MIN = ann.SEARCH_K_MAX = search_k
        evaluate(f"  search_k {search_k:,}")
    ann.SEARCH_K_MIN, ann.SEARCH_K_MAX = saved

    exact_runs = queries[:30]
    ms = timed_runs(
        iter_call(lambda q: vec.knn_exact(mem.conn, q, 10, namespaces=[NS]), exact_runs),
        len(exact_runs),
    )
    line("exact sqlite-vec float32 (vec0 KNN)", ms)
    start = time.perf_counter()
    write_transaction(mem.conn, lambda c: vec.enable_int8(c, NS))
    print(f"  int8 table fill + calibration: {time.perf_counter() - start:.1f} s")
    recalls = []
    keys = list(live)
    matrix = np.stack([live[i] for i in keys])
    ms = []
    for q in exact_runs:
        start = time.perf_counter()
        hits = vec.knn_exact(mem.conn, q, 10, namespaces=[NS], use_int8=True)
        ms.append((time.perf_counter() - start) * 1000)
        seq_to_key = dict(
            mem.conn.execute(
                f"SELECT v.seq, e.key FROM vectors v JOIN entries e ON e.id = v.entry_id WHERE v.seq IN ({','.join(str(s) for s, _ in hits)})"
            ).fetchall()
        )
        got = {int(seq_to_key[s][1:]) for s, _ in hits}
        truth = {keys[i] for i in np.argsort(-(matrix @ q))[:10]}
        recalls.append(len(truth & got) / 10)
    line("exact sqlite-vec int8 + float32 rescore", ms, f"  recall@10 {np.mean(recalls):.3f}")
    start = time.perf_counter()
    for q in queries[:20]:
        matrix @ q
    print(
        f"  (numpy brute force over the same matrix: {(time.perf_counter() - start) / 20 * 1000:.1f} ms/query)"
    )
    engine.close()
    mem.close()

    env = {**os.environ, "AGENTFLOWD_MEMORY_WORKER": "0"}
    env.pop("AGENTFLOWD_MEMORY_DB", None)
    cli = [
        sys.executable,
        "-m",
        "agentflowd",
        "memory",
        "search",
        "--db",
        str(db),
        "-n",
        NS,
        "--mode",
        "semantic",
    ]
    texts = iter(["how do I parse command line arguments"] * 10)
    line(
        f"memory search CLI on the {n // 1000}k namespace (Annoy)",
        timed_runs(
            lambda: subprocess.run([*cli, next(texts)], env=env, capture_output=True, check=True),
            10,
        ),
    )


def iter_call(fn: Callable[[np.ndarray], object], items: np.ndarray) -> Callable[[], object]:
    it = iter(items)
    return lambda: fn(next(it))


def write_vectors(
    mem: MemoryStore, space: vec.VectorSpace, matrix: np.ndarray, offset: int
) -> None:
    rows = mem.conn.execute(
        "SELECT id, key, updated_at FROM entries WHERE namespace = ? AND needs_embed = 1", (NS,)
    ).fetchall()
    pending = sorted(((int(key[1:]), entry_id, updated) for entry_id, key, updated in rows))
    for start in range(0, len(pending), 10_000):
        chunk = pending[start : start + 10_000]
        batch = [vec.PendingVector(entry_id, NS, updated) for _, entry_id, updated in chunk]
        block = matrix[[index - offset for index, _, _ in chunk]]

        def write(c, batch=batch, block=block):  # type: ignore[no-untyped-def]
            vec.ensure_space(c, space)
            vec.write_vectors(c, batch, block)

        write_transaction(mem.conn, write)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=100_000, help="vectors in the ANN test")
    parser.add_argument(
        "--base", type=int, default=4_000, help="real sentences embedded as the base"
    )
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--runs", type=int, default=15, help="CLI runs per command")
    parser.add_argument("--skip-cli", action="store_true")
    parser.add_argument("--skip-inserts", action="store_true")
    parser.add_argument(
        "--cache",
        type=Path,
        default=None,
        help="reuse the sentence embeddings saved in this .npy file",
    )
    args = parser.parse_args()

    print(
        f"machine: {os.cpu_count()} cpus, load average {os.getloadavg()[0]:.2f}; python {sys.version.split()[0]}"
    )
    sentences = stdlib_sentences(args.base + args.queries + 200)
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        folder = Path(tmp)
        if not args.skip_cli:
            bench_cli(folder, sentences, args.runs)
        if not args.skip_inserts:
            bench_inserts(folder, sentences)
        wanted = args.base + args.queries
        if args.cache is not None and args.cache.exists():
            embedded = np.load(args.cache)
            assert len(embedded) == wanted, "cache made with other --base/--queries"
        else:
            start = time.perf_counter()
            embedded = get_embedder().embed(sentences[:wanted])
            print(
                f"\n  (embedded {wanted} stdlib sentences in {time.perf_counter() - start:.1f} s for the vector test)"
            )
            if args.cache is not None:
                np.save(args.cache, embedded)
        base, queries = embedded[: args.base], embedded[args.base :]
        bench_vectors(folder, base, queries, args.n)


if __name__ == "__main__":
    main()
