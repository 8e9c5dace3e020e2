"""Word pools and small random helpers the family generators share."""

from __future__ import annotations

from random import Random
from typing import Any

PROJECTS = ("acme", "orion", "atlas", "nova", "zephyr", "helios", "quartz", "lumen", "cobalt",
            "ember", "falcon", "granite", "harbor", "iris", "juniper", "kepler", "lotus",
            "meridian", "nimbus", "onyx", "pioneer", "raven", "sierra", "tundra", "vertex")
PURPOSES = ("logs", "assets", "backups", "data", "media", "reports", "artifacts", "uploads",
            "exports", "archive", "events", "metrics", "billing", "orders", "users", "audit")
ENVS = ("dev", "staging", "prod", "test", "qa", "sandbox")
TEAMS = ("platform", "data", "payments", "search", "identity", "mobile", "web", "infra")
TAG_KEYS = ("Environment", "Team", "Project", "Owner", "CostCenter", "Service")


def words(rng: Random) -> tuple[str, str, str]:
    """A (project, purpose, environment) triple."""
    return rng.choice(PROJECTS), rng.choice(PURPOSES), rng.choice(ENVS)


def tags(rng: Random, project: str, env: str, *, p: float = 0.6) -> dict[str, str]:
    """Zero to three tags, with probability `p` of any."""
    if rng.random() > p:
        return {}
    values = {"Environment": env, "Team": rng.choice(TEAMS), "Project": project,
              "Owner": f"{rng.choice(TEAMS)}-team", "CostCenter": f"cc-{rng.randint(100, 999)}",
              "Service": rng.choice(PURPOSES)}
    keys = rng.sample(TAG_KEYS, rng.randint(1, 3))
    return {k: values[k] for k in keys}


def pick(rng: Random, choices: dict[str, tuple[Any, ...]], name: str) -> Any:
    """One of `choices[name]` (the alternatives a mutation may later change it to)."""
    return rng.choice(choices[name])


def maybe(rng: Random, p: float) -> bool:
    return rng.random() < p


def azs(region: str, n: int, rng: Random) -> list[str]:
    letters = rng.sample("abc", n)
    return [f"{region}{letter}" for letter in sorted(letters)]


def choose(rng: Random, choices: dict[str, tuple[Any, ...]], *, p: float = 1.0
           ) -> dict[str, Any]:
    """A value for each of `choices`, each kept with probability `p`."""
    return {name: rng.choice(values) for name, values in choices.items() if rng.random() < p}
