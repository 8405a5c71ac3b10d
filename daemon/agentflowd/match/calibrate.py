"""Fit and evaluate the matcher's parameters on labelled case files.

A case file has the format of the shared development set: ``skills`` (name -> description, and
optionally triggers, when_to_use) and ``cases`` (a list of ``[prompt, skill-name-or-null]``).

    python -m agentflowd.match.calibrate fit OUT.json FILE...   # fit on all files together
    python -m agentflowd.match.calibrate eval FILE...           # score the shipped parameters
    python -m agentflowd.match.calibrate loo FILE...            # each file scored by a fit on the rest
    python -m agentflowd.match.calibrate bank OUT.npz FILE...   # build the exemplar bank

The exemplar bank (`agentflowd.match.exemplars`) is built first, from its own case files; the
parameters are then fitted on other files, so the exemplar features they see are honest.

Fitting has two stages, both convex and solved exactly with Newton steps:
1. feature weights: a conditional logit over each catalog's skills on the on-topic prompts;
2. acceptance: a logistic model of "the winner is right" against "the prompt is off-topic",
   on the winner's utility, its margin over the runner-up, the prompt's background similarity,
   the share of its nearest exemplars that activated nothing and whether one of the winner's
   trigger phrases occurs in the prompt.
Then the threshold on the acceptance probability is the one that maximises the mean balanced
accuracy over the files (right routes and right silences weigh the same within a file, and each
file counts the same, so one large catalog cannot dominate).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from agentflowd.embed import get_embedder
from agentflowd.match.exemplars import build_bank, save_bank
from agentflowd.match.matcher import FEATURES, TRIGGER, Evidence, SkillMatcher, decide
from agentflowd.match.params import Accept, Params, load_params
from agentflowd.skills.model import Skill

L2 = 1e-3


@dataclass(frozen=True)
class CaseSet:
    name: str
    skills: tuple[Skill, ...]
    cases: tuple[tuple[str, str | None], ...]


def load_cases(path: Path) -> CaseSet:
    data = yaml.safe_load(path.read_text("utf-8"))
    skills = []
    for name, spec in data["skills"].items():
        skills.append(
            Skill(
                name=name,
                description=" ".join(str(spec.get("description", "")).split()),
                path=path.parent / name / "SKILL.md",
                source="project",
                kind="skill",
                when_to_use=" ".join(str(spec.get("when_to_use", "")).split()),
                triggers=tuple(spec.get("triggers") or ()),
                disable_model_invocation=bool(spec.get("disable_model_invocation", False)),
            )
        )
    cases = tuple((str(p), None if w is None else str(w)) for p, w in data["cases"])
    return CaseSet(path.stem, tuple(skills), cases)


@dataclass(frozen=True)
class Prepared:
    name: str
    names: tuple[str, ...]
    x: np.ndarray
    evidence: tuple[Evidence, ...]
    want: tuple[str | None, ...]


def prepare(sets: Sequence[CaseSet], params: Params) -> list[Prepared]:
    out = []
    for cs in sets:
        matcher = SkillMatcher(cs.skills, params=params)
        feats = matcher.features([p for p, _ in cs.cases])
        names = tuple(t.name for t in matcher.texts)
        evidence = tuple(feats.evidence(i) for i in range(len(cs.cases)))
        out.append(Prepared(cs.name, names, feats.x, evidence, tuple(w for _, w in cs.cases)))
    return out


def _newton(grad_hess, theta: np.ndarray, iters: int = 100) -> np.ndarray:
    for _ in range(iters):
        g, h = grad_hess(theta)
        step = np.linalg.solve(h, g)
        theta = theta - step
        if np.abs(step).max() < 1e-9:
            break
    return theta


def fit_weights(data: Sequence[Prepared]) -> np.ndarray:
    rows = [
        (p.x[i], p.names.index(w))
        for p in data
        for i, w in enumerate(p.want)
        if w is not None and len(p.names) > 1
    ]
    d = rows[0][0].shape[1]

    def grad_hess(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        g = np.zeros(d)
        h = np.zeros((d, d))
        for x, y in rows:
            u = x @ w
            p = np.exp(u - u.max())
            p /= p.sum()
            mean = p @ x
            g += mean - x[y]
            h += (x * p[:, None]).T @ x - np.outer(mean, mean)
        return g / len(rows) + L2 * w, h / len(rows) + L2 * np.eye(d)

    return _newton(grad_hess, np.zeros(d))


def _acceptance_rows(
    data: Sequence[Prepared], weights: np.ndarray, lone_margin: float
) -> tuple[np.ndarray, np.ndarray]:
    z, y = [], []
    for p in data:
        for i, want in enumerate(p.want):
            u = p.x[i] @ weights
            order = np.argsort(-u)
            margin = u[order[0]] - u[order[1]] if len(u) > 1 else lone_margin
            evidence = p.evidence[i]
            trigger = p.x[i][order[0], TRIGGER]
            row = [1.0, u[order[0]], margin, evidence.background, evidence.nothing, trigger]
            if want is None:
                z.append(row)
                y.append(0.0)
            elif p.names[order[0]] == want:
                z.append(row)
                y.append(1.0)
            # A wrong winner is a miss whether accepted or not: it says nothing about acceptance.
    return np.asarray(z), np.asarray(y)


def fit_acceptance(data: Sequence[Prepared], weights: np.ndarray, lone_margin: float) -> Accept:
    z, y = _acceptance_rows(data, weights, lone_margin)

    def grad_hess(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        p = 1.0 / (1.0 + np.exp(-(z @ a)))
        g = z.T @ (p - y) / len(y) + L2 * a
        h = (z * (p * (1 - p))[:, None]).T @ z / len(y) + L2 * np.eye(len(a))
        return g, h

    a = _newton(grad_hess, np.zeros(z.shape[1]))
    return Accept(*(round(float(v), 6) for v in a))


def _lone_margin(data: Sequence[Prepared], weights: np.ndarray) -> float:
    margins = []
    for p in data:
        for i, want in enumerate(p.want):
            u = p.x[i] @ weights
            order = np.argsort(-u)
            if want is not None and len(u) > 1 and p.names[order[0]] == want:
                margins.append(u[order[0]] - u[order[1]])
    return round(float(np.median(margins)), 6) if margins else 0.0


_RATES = ("accuracy", "top1", "reject")


@dataclass(frozen=True)
class Score:
    accuracy: float
    top1: float
    reject: float
    n: int
    misses: tuple[str, ...]


def score(data: Prepared, params: Params) -> Score:
    right_on = total_on = right_off = total_off = 0
    misses = []
    for i, want in enumerate(data.want):
        got = decide(params, data.names, "", data.x[i], data.evidence[i]).skill
        if want is None:
            right_off += got is None
            total_off += 1
        else:
            right_on += got == want
            total_on += 1
        if got != want:
            misses.append(f"want={want} got={got}: #{i}")
    n = total_on + total_off
    return Score(
        accuracy=(right_on + right_off) / max(n, 1),
        top1=right_on / max(total_on, 1),
        reject=right_off / max(total_off, 1),
        n=n,
        misses=tuple(misses),
    )


_PLACEHOLDER = Params("", (), np.zeros(0), Accept(0, 0, 0, 0, 0, 0), 0.5, 0.0, {})


def fit(sets: Sequence[CaseSet]) -> Params:
    return fit_prepared(prepare(sets, _PLACEHOLDER))


def _balanced(s: Score) -> float:
    return (s.top1 + s.reject) / 2


def fit_prepared(data: Sequence[Prepared]) -> Params:
    weights = fit_weights(data)
    lone = _lone_margin(data, weights)
    accept = fit_acceptance(data, weights, lone)
    best: tuple[float, float] | None = None
    for threshold in np.round(np.arange(0.20, 0.81, 0.01), 2):
        trial = Params("", FEATURES, weights, accept, float(threshold), lone, {})
        # Balanced: a wrong route and a wrong silence cost the same, however few off-topic
        # prompts a file has.
        mean_acc = float(np.mean([_balanced(score(d, trial)) for d in data]))
        # Ties go to the threshold nearest 0.5: the least tuned choice.
        key = (mean_acc, -abs(threshold - 0.5))
        if best is None or key > (best[0], -abs(best[1] - 0.5)):
            best = (mean_acc, float(threshold))
    assert best is not None
    final = Params(get_embedder().model_id, FEATURES, weights, accept, best[1], lone, {})
    scores = {d.name: score(d, final) for d in data}
    provenance = {
        "fitted_on": [d.name for d in data],
        "fit_scores": {
            k: {
                "accuracy": round(s.accuracy, 3),
                "top1": round(s.top1, 3),
                "reject": round(s.reject, 3),
            }
            for k, s in scores.items()
        },
    }
    return Params(final.model_id, FEATURES, weights, accept, best[1], lone, provenance)


def leave_one_out(sets: Sequence[CaseSet]) -> dict[str, Score]:
    """Each file scored by parameters fitted on all the other files: the unseen-catalog estimate."""
    data = prepare(sets, _PLACEHOLDER)
    return {d.name: score(d, fit_prepared([o for o in data if o is not d])) for d in data}


def evaluate(sets: Sequence[CaseSet], params: Params) -> dict[str, Score]:
    return {d.name: score(d, params) for d in prepare(sets, params)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m agentflowd.match.calibrate")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_fit = sub.add_parser("fit")
    p_fit.add_argument("out", type=Path)
    p_fit.add_argument("files", nargs="+", type=Path)
    p_eval = sub.add_parser("eval")
    p_eval.add_argument("files", nargs="+", type=Path)
    p_eval.add_argument("-v", "--verbose", action="store_true")
    p_bank = sub.add_parser("bank", help="build the exemplar bank from case files")
    p_bank.add_argument("out", type=Path)
    p_bank.add_argument("files", nargs="+", type=Path)
    p_loo = sub.add_parser("loo", help="leave one file out: fit on the others, score it")
    p_loo.add_argument("files", nargs="+", type=Path)
    p_loo.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    sets = [load_cases(f) for f in args.files]
    if args.cmd == "bank":
        bank = build_bank(sets, get_embedder())
        save_bank(bank, args.out)
        print(
            f"{args.out}: {len(bank.prompts)} prompts, {len(bank.descriptions)} skills, "
            f"sha256 {bank.source_sha256[:12]}"
        )
        return 0
    if args.cmd == "fit":
        params = fit(sets)
        args.out.write_text(json.dumps(params.to_json(), indent=2) + "\n", "utf-8")
        print(json.dumps(params.to_json(), indent=2))
        return 0
    if args.cmd == "loo":
        if len(sets) < 2:
            parser.error("loo needs at least two files")
        results = leave_one_out(sets)
    else:
        results = evaluate(sets, load_params())
    for cs in sets:
        s = results[cs.name]
        print(
            f"{cs.name:24s} accuracy {s.accuracy:.3f} top1 {s.top1:.3f} reject {s.reject:.3f} n {s.n}"
        )
        if args.verbose:
            for miss in s.misses:
                idx = int(miss.rsplit("#", 1)[1])
                print(f"    {miss.rsplit(':', 1)[0]}: {cs.cases[idx][0]}")
    mean = {k: np.mean([getattr(s, k) for s in results.values()]) for k in _RATES}
    print(
        f"{'mean':24s} accuracy {mean['accuracy']:.3f} top1 {mean['top1']:.3f} "
        f"reject {mean['reject']:.3f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
