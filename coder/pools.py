"""The rules of named rater pools, kept apart from storage (no database code here).

A *separate* pool is a coder team that must stay apart from the other separate
pools (e.g. the raters of one scale never code another scale on the same sessions,
SPEC section 4). Two rules follow, each written once, here:

* :func:`check_teams_apart`: no rater belongs to two separate pools;
* :func:`check_plan_raters`: a plan's raters never come from two separate pools.

:mod:`coder.store.pools` stores pools and calls the first rule before every write;
:mod:`coder.planning` calls the second before a plan is made.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from coder.changes import OpChanges
from coder.errors import InputError
from coder.text_limits import CODE_LIMIT, check_text

# The project setting that lists the names of the separate pools.
SEPARATE_POOLS_SETTING = "separate_pools"


@dataclass(frozen=True)
class RaterPool:
    """A named group of raters; ``separate``: a team kept apart from the other teams."""

    name: str
    raters: tuple[str, ...]
    separate: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "raters": list(self.raters), "separate": self.separate}


@dataclass(frozen=True)
class PoolChange:
    """What a pool mutation did (:mod:`coder.store.pools`): the lead's window broadcasts it.

    Attributes:
        pool: The pool after the change (as it was, for a removed pool).
        changed: False when the edit asked for what the pool already was.
    """

    pool: RaterPool
    changed: bool = True

    @property
    def changes(self) -> OpChanges:
        """The pools changed (nothing else: raters and their codings stay)."""
        return OpChanges(pools=self.changed)


def check_pool_name(name: str) -> str:
    """The name, stripped.

    Raises:
        InputError: an empty name, one with a comma, or one that is too long.
    """
    name = name.strip()
    if not name or "," in name:
        raise InputError(f"pool name {name!r} is not valid: give a name without commas")
    check_text("rater pool name", name, CODE_LIMIT)
    return name


def check_teams_apart(pools: Iterable[RaterPool]) -> None:
    """Refuse a rater who would be in two separate pools.

    Raises:
        InputError: naming the rater(s) and both pools; the caller writes nothing.
    """
    team_of: dict[str, str] = {}
    clashes: list[str] = []
    for found in sorted(pools, key=lambda p: p.name):
        if not found.separate:
            continue
        for rater in found.raters:
            other = team_of.setdefault(rater, found.name)
            if other != found.name:
                clashes.append(f"{rater} is in both {other!r} and {found.name!r}")
    if clashes:
        raise InputError(
            "separate pools (coder teams kept apart) must not share raters: "
            + "; ".join(clashes)
            + "; take the rater out of one pool first (nothing was changed)"
        )


def check_plan_raters(raters: Sequence[str], pools: Iterable[RaterPool]) -> None:
    """Refuse a plan whose raters come from two separate pools (teams never pair).

    Raters in no separate pool may join any plan.

    Raises:
        InputError: naming each team and its raters in the plan.
    """
    teams: dict[str, list[str]] = {}
    for found in pools:
        if found.separate:
            inside = sorted(set(found.raters) & set(raters))
            if inside:
                teams[found.name] = inside
    if len(teams) > 1:
        listed = "; ".join(f"{name}: {', '.join(codes)}" for name, codes in sorted(teams.items()))
        raise InputError(
            "the raters of this plan come from separate coder teams, which never code "
            f"together ({listed}); plan one team with --pool NAME, or drop raters of the "
            "other team from --raters"
        )
