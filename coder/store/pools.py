"""Named rater pools: create, edit, list and remove them (SPEC sections 1 and 4).

A pool is a named group of raters (e.g. the coder team of one scale). A pool marked
*separate* is a team that must stay apart from every other separate pool: no rater
may belong to two of them (:func:`coder.pools.check_teams_apart` is that rule), and a
plan never pairs raters of two separate teams (:func:`coder.pools.check_plan_raters`).

The members live in ``rater_pools`` / ``rater_pool_members``; which pools are separate
is the project setting ``separate_pools`` (a sorted list of pool names), written in
the same transaction as the pool. Each function here is one transaction with its
history row, so the CLI and a GUI call the very same function for each job.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from coder.errors import InputError
from coder.pools import (
    SEPARATE_POOLS_SETTING,
    PoolChange,
    RaterPool,
    check_pool_name,
    check_teams_apart,
)
from coder.store.faults import retry_on_conflict
from coder.store.models import ProjectRow, RaterPoolMemberRow, RaterPoolRow, RaterRow
from coder.store.project import LEAD, Project
from coder.store.rows import locked_settings, log_change, rater_row


def _read_pools(s: DbSession) -> list[RaterPool]:
    row = s.get(ProjectRow, 1)
    separate = set(json.loads(row.settings_json).get(SEPARATE_POOLS_SETTING, ())) if row else set()
    members: dict[int, list[str]] = {}
    for pool_id, code in s.execute(
        select(RaterPoolMemberRow.pool_id, RaterRow.code).join(
            RaterRow, RaterRow.id == RaterPoolMemberRow.rater_id
        )
    ):
        members.setdefault(pool_id, []).append(code)
    return [
        RaterPool(p.name, tuple(sorted(members.get(p.id, ()))), p.name in separate)
        for p in s.scalars(select(RaterPoolRow).order_by(RaterPoolRow.name))
    ]


def list_pools(project: Project) -> list[RaterPool]:
    """Every pool of the project, by name, with its raters and whether it is separate."""
    with project.store.read() as s:
        return _read_pools(s)


def pool(project: Project, name: str) -> RaterPool:
    """One pool by name.

    Raises:
        InputError: the project has no such pool (the message lists the pools).
    """
    pools = list_pools(project)
    for found in pools:
        if found.name == name:
            return found
    raise InputError(_no_pool(name, pools))


def _no_pool(name: str, pools: Sequence[RaterPool]) -> str:
    known = ", ".join(p.name for p in pools) or "none yet"
    return (
        f"the project has no rater pool {name!r} (it has: {known}); create it with "
        "session-coder pool add"
    )


def _pool_row(s: DbSession, name: str) -> RaterPoolRow:
    row = s.scalar(select(RaterPoolRow).where(RaterPoolRow.name == name))
    if row is None:
        raise InputError(_no_pool(name, _read_pools(s)))
    return row


def _write(
    s: DbSession,
    row: RaterPoolRow,
    codes: Sequence[str],
    separate: bool,
) -> None:
    """Set a pool's members and separate mark, after checking the teams stay apart."""
    raters = [rater_row(s, code) for code in codes]  # an unknown code is refused here
    others = [p for p in _read_pools(s) if p.name != row.name]
    check_teams_apart([*others, RaterPool(row.name, tuple(sorted(codes)), separate)])
    for member in s.scalars(select(RaterPoolMemberRow).where(RaterPoolMemberRow.pool_id == row.id)):
        s.delete(member)
    s.flush()
    for rater in raters:
        s.add(RaterPoolMemberRow(pool_id=row.id, rater_id=rater.id))
    settings_row, settings = locked_settings(s)
    names = set(settings.get(SEPARATE_POOLS_SETTING, ()))
    names = names | {row.name} if separate else names - {row.name}
    if names:
        settings[SEPARATE_POOLS_SETTING] = sorted(names)
    else:
        settings.pop(SEPARATE_POOLS_SETTING, None)
    settings_row.settings_json = json.dumps(settings, sort_keys=True)


def _unique_codes(codes: Sequence[str]) -> list[str]:
    return sorted({c.strip() for c in codes if c.strip()})


def add_pool(
    project: Project,
    name: str,
    raters: Sequence[str],
    *,
    separate: bool = False,
    actor: str = LEAD,
) -> PoolChange:
    """Create a pool of raters (``separate``: a team kept apart from other teams).

    Raises:
        InputError: a bad or taken name, no or unknown raters, or a rater who is in
            another separate pool while this one is separate; nothing is written.
    """
    name = check_pool_name(name)
    codes = _unique_codes(raters)
    if not codes:
        raise InputError(f"pool {name!r} needs at least one rater, e.g. --raters R1,R2")

    def run() -> PoolChange:
        with project.store.transaction() as s:
            if s.scalar(select(RaterPoolRow).where(RaterPoolRow.name == name)) is not None:
                raise InputError(
                    f"the project already has a rater pool {name!r}; change it with "
                    "session-coder pool edit (nothing was changed)"
                )
            row = RaterPoolRow(name=name)
            s.add(row)
            s.flush()
            _write(s, row, codes, separate)
            log_change(s, actor, "add", "pool", name, new={"raters": codes, "separate": separate})
        return PoolChange(RaterPool(name, tuple(codes), separate))

    return retry_on_conflict(run)


def edit_pool(
    project: Project,
    name: str,
    *,
    raters: Sequence[str] | None = None,
    add: Sequence[str] = (),
    remove: Sequence[str] = (),
    separate: bool | None = None,
    actor: str = LEAD,
) -> PoolChange:
    """Change a pool: replace its raters, add or remove some, or change its separate mark.

    Raises:
        InputError: an unknown pool or rater, a rater to remove who is not in it, a
            pool left empty, or teams that would share a rater; nothing is written.
    """
    with project.store.transaction() as s:
        row = _pool_row(s, name)
        before = next(p for p in _read_pools(s) if p.name == name)
        codes = set(before.raters if raters is None else _unique_codes(raters))
        codes |= set(_unique_codes(add))
        not_in = [c for c in _unique_codes(remove) if c not in codes]
        if not_in:
            raise InputError(
                f"{', '.join(not_in)} not in pool {name!r} (it has: {', '.join(sorted(codes))}); "
                "nothing was changed"
            )
        codes -= set(_unique_codes(remove))
        if not codes:
            raise InputError(
                f"pool {name!r} would have no rater left; remove the pool with "
                "session-coder pool remove instead (nothing was changed)"
            )
        new_separate = before.separate if separate is None else separate
        after = RaterPool(name, tuple(sorted(codes)), new_separate)
        if after == before:
            return PoolChange(after, changed=False)
        _write(s, row, sorted(codes), new_separate)
        log_change(
            s,
            actor,
            "edit",
            "pool",
            name,
            old={"raters": list(before.raters), "separate": before.separate},
            new={"raters": list(after.raters), "separate": after.separate},
        )
    return PoolChange(after)


def remove_pool(project: Project, name: str, *, actor: str = LEAD) -> PoolChange:
    """Delete a pool (its raters stay in the project, their codings untouched).

    Raises:
        InputError: the project has no such pool.
    """
    with project.store.transaction() as s:
        row = _pool_row(s, name)
        before = next(p for p in _read_pools(s) if p.name == name)
        _write(s, row, (), False)
        s.delete(row)
        log_change(
            s,
            actor,
            "remove",
            "pool",
            name,
            old={"raters": list(before.raters), "separate": before.separate},
        )
    return PoolChange(before)
