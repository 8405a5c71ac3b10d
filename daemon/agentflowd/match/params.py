"""The calibrated parameters of the matcher (fitted by `agentflowd.match.calibrate`)."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np

from agentflowd.errors import ConfigError

PARAMS_FILE = "params.json"


@dataclass(frozen=True)
class Accept:
    """Logistic acceptance model on the winner: bias + top*u + margin*(u - u_2nd)
    + background*b + nothing*share_of_nothing_exemplars + trigger*trigger_phrase_hit."""

    bias: float
    top: float
    margin: float
    background: float
    nothing: float
    trigger: float


@dataclass(frozen=True)
class Params:
    model_id: str
    features: tuple[str, ...]
    weights: np.ndarray  # one per feature: utility u = x . weights
    accept: Accept
    threshold: float  # route only when the winner's calibrated confidence reaches this
    lone_margin: float  # margin credited to the only skill of a one-skill catalog
    provenance: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "model_id": self.model_id,
            "features": list(self.features),
            "weights": [round(float(w), 6) for w in self.weights],
            "accept": {
                "bias": self.accept.bias,
                "top": self.accept.top,
                "margin": self.accept.margin,
                "background": self.accept.background,
                "nothing": self.accept.nothing,
                "trigger": self.accept.trigger,
            },
            "threshold": self.threshold,
            "lone_margin": self.lone_margin,
            "provenance": self.provenance,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Params:
        try:
            a = data["accept"]
            return cls(
                model_id=str(data["model_id"]),
                features=tuple(data["features"]),
                weights=np.asarray(data["weights"], dtype=np.float64),
                accept=Accept(
                    float(a["bias"]),
                    float(a["top"]),
                    float(a["margin"]),
                    float(a["background"]),
                    float(a["nothing"]),
                    float(a["trigger"]),
                ),
                threshold=float(data["threshold"]),
                lone_margin=float(data["lone_margin"]),
                provenance=dict(data.get("provenance", {})),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"matcher parameters are malformed: {exc}") from exc


@functools.cache
def load_params() -> Params:
    """The shipped parameters (package data `params.json`), read once per process."""
    from agentflowd.match.matcher import FEATURES

    text = (resources.files("agentflowd.match") / PARAMS_FILE).read_text("utf-8")
    params = Params.from_json(json.loads(text))
    if params.features != FEATURES:
        raise ConfigError(
            f"matcher parameters were fitted for features {params.features}, "
            f"the code computes {FEATURES}: re-run agentflowd.match.calibrate"
        )
    return params
