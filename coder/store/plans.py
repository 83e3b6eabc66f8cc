"""Reads and writes of assignment plans (the planning rules are in :mod:`coder.planning`).

:func:`scale_codings` and :func:`active_plan_params` give the planner the work already
stored; :func:`store_plans` writes a plan as codings in one transaction, with its
history row.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from coder.assignment import PlannedCoding
from coder.kinds import CodingStatus
from coder.store.models import (
    CodingRow,
    PlanRow,
    RaterRow,
    ScaleGroupRow,
    ScaleRow,
    SessionRow,
)
from coder.store.project import Project
from coder.store.rows import latest_scale_pk, log_change, queue_end


def raters_coding(project: Project, scale_id: str) -> set[str]:
    """The codes of the raters with any coding of a scale (every stored version)."""
    with project.store.read() as s:
        return set(
            s.scalars(
                select(RaterRow.code)
                .join(CodingRow, CodingRow.rater_id == RaterRow.id)
                .join(ScaleRow, ScaleRow.id == CodingRow.scale_pk)
                .where(ScaleRow.scale_id == scale_id)
            ).all()
        )


@dataclass(frozen=True)
class StoredCoding:
    """A stored coding of a scale as the planner sees it."""

    session_key: str
    rater: str
    role: str
    queue_position: int
    state: str
    version: int = 1  # the scale version the coding is made under
    recode_of: int | None = None  # the coding it re-codes (assign --recode)


def scale_codings(
    project: Project, scale_id: str, *, leave_out_roles: Collection[str]
) -> tuple[list[StoredCoding], dict[str, Any]]:
    """A scale's codings (but those with ``leave_out_roles``) and the inputs of its
    active plan (``{}`` without one), in one read."""
    with project.store.read() as s:
        rows = s.execute(
            select(
                SessionRow.session_key,
                RaterRow.code,
                CodingRow.role,
                CodingRow.queue_position,
                CodingRow.state,
                ScaleRow.version,
                CodingRow.recode_of,
            )
            .join(SessionRow, SessionRow.id == CodingRow.session_id)
            .join(RaterRow, RaterRow.id == CodingRow.rater_id)
            .join(ScaleRow, ScaleRow.id == CodingRow.scale_pk)
            .where(ScaleRow.scale_id == scale_id)
            .where(CodingRow.role.not_in([str(role) for role in leave_out_roles]))
        ).all()
        params_json = s.scalar(
            select(PlanRow.params_json)
            .join(ScaleRow, ScaleRow.id == PlanRow.scale_pk)
            .where(ScaleRow.scale_id == scale_id, PlanRow.active.is_(True))
            .order_by(PlanRow.id.desc())
            .limit(1)
        )
    codings = [StoredCoding(*row) for row in rows]
    return codings, json.loads(params_json) if params_json else {}


def store_plans(
    project: Project,
    scale_ids: Sequence[str],
    codings: Sequence[PlannedCoding],
    *,
    params: Mapping[str, Any],
    summary: Mapping[str, Any],
    keep_roles: Collection[str],
    actor: str,
    recode: bool = False,
) -> list[int]:
    """Store a plan of one scale, or of several planned together, in one transaction;
    each scale's older plans become inactive.

    The plan's codings replace each scale's unstarted ones: new (session, rater) pairs
    are added, unstarted codings take the planned role and queue position, started
    ones keep their role and take the planned position, and unstarted codings the plan
    no longer has are deleted. The raters' queues keep their order: codings that stay
    keep their place (``queue_order``), new ones go after each rater's other work, in
    the plan's order (:func:`coder.store.rows.queue_end`). Codings with ``keep_roles``
    are never touched. One history row per scale counts what was added, moved and removed.

    Scale versions: a session keeps the version its started work is coded under (the
    newest such version); its unstarted and new codings use that version too, so a
    new version of the scale never plans a session that is already coded a second
    time. Sessions without started work use the newest version. With ``recode`` the
    sessions coded under an older version are planned again under the newest one:
    each planned rater gets a new coding there whose ``recode_of`` names the rater's
    earlier coding (:func:`coder.analysis_set.analysis_codings` counts it in that
    coding's place once it is finished); a re-code stays planned on later re-plans.

    Scales planned together (more than one id): every scale gets the same (session,
    rater, role, position) codings, one coding per session, rater and scale, and every
    coding the plan names, started or not, is linked to the group of ``scale_ids``
    (``codings.scale_group_id``; the group row is made the first time these scales are
    planned together and reused after). A plan of one scale takes its unstarted
    codings out of any group; started ones stay in theirs.

    Returns:
        The stored plans' ids, one per scale in the order of ``scale_ids``.
    """
    with project.store.transaction() as s:
        group_id = _group_of(s, scale_ids, actor) if len(scale_ids) > 1 else None
        orders: dict[tuple[int, int], int] = {}
        return [
            _store_scale_plan(
                s,
                scale_id,
                codings,
                params=params,
                summary=summary,
                keep_roles=keep_roles,
                actor=actor,
                recode=recode,
                group_id=group_id,
                orders=orders,
            )
            for scale_id in scale_ids
        ]


def _group_of(s: DbSession, scale_ids: Sequence[str], actor: str) -> int:
    """The id of the group of these scales (the same set in any order), made if new."""
    wanted = set(scale_ids)
    for row in s.scalars(select(ScaleGroupRow).order_by(ScaleGroupRow.id)):
        if set(group_scale_ids(row.scales)) == wanted:
            return row.id
    row = ScaleGroupRow(scales=",".join(scale_ids), created_by=actor)
    s.add(row)
    s.flush()
    log_change(s, actor, "create", "scale_group", str(row.id), new={"scales": list(scale_ids)})
    return row.id


def group_scale_ids(stored: str) -> tuple[str, ...]:
    """The scale ids of a stored group (``scale_groups.scales``), in the lead's order."""
    return tuple(part for part in stored.split(",") if part)


def _store_scale_plan(
    s: DbSession,
    scale_id: str,
    codings: Sequence[PlannedCoding],
    *,
    params: Mapping[str, Any],
    summary: Mapping[str, Any],
    keep_roles: Collection[str],
    actor: str,
    recode: bool,
    group_id: int | None,
    orders: dict[tuple[int, int], int],
) -> int:
    """One scale's part of :func:`store_plans`; ``group_id`` is the group the plan's
    codings join (None: a plan of this scale alone). ``orders`` maps (session, rater)
    to the queue place of the coding of an earlier scale of the same plan, so the
    codings of scales planned together stand side by side in the rater's queue."""
    scale_pk = latest_scale_pk(s, scale_id)
    versions: dict[int, int] = {
        int(pk): int(version)
        for pk, version in s.execute(
            select(ScaleRow.id, ScaleRow.version).where(ScaleRow.scale_id == scale_id)
        ).all()
    }
    for old in s.scalars(
        select(PlanRow).where(PlanRow.scale_pk.in_(list(versions)), PlanRow.active.is_(True))
    ):
        old.active = False
    plan_row = PlanRow(
        scale_pk=scale_pk,
        created_by=actor,
        params_json=json.dumps(params),
        summary_json=json.dumps(summary),
        active=True,
    )
    s.add(plan_row)
    s.flush()
    sessions = dict(s.execute(select(SessionRow.session_key, SessionRow.id)).all())
    raters = dict(s.execute(select(RaterRow.code, RaterRow.id)).all())
    rows = s.scalars(
        select(CodingRow).where(CodingRow.scale_pk.in_(list(versions))).order_by(CodingRow.id)
    ).all()
    existing: dict[tuple[int, int], list[CodingRow]] = defaultdict(list)
    coded_under: dict[int, int] = {}
    for stored in rows:
        existing[(stored.session_id, stored.rater_id)].append(stored)
        if stored.state != CodingStatus.NOT_STARTED.value and stored.role not in keep_roles:
            held = coded_under.get(stored.session_id)
            if held is None or versions[stored.scale_pk] > versions[held]:
                coded_under[stored.session_id] = stored.scale_pk
    wanted = set()
    added = moved = removed = recoded = 0
    next_order: dict[int, int] = {}
    for coding in sorted(codings, key=lambda c: (c.rater, c.queue_position)):
        key = (sessions[coding.session_id], raters[coding.rater])
        wanted.add(key)
        own = existing.get(key, [])
        if any(row.role in keep_roles for row in own):
            continue  # the rater already codes it as master, training or drift check
        target = coded_under.get(key[0], scale_pk)
        if target != scale_pk and (recode or any(r.recode_of is not None for r in own)):
            target = scale_pk  # the session is (being) coded again under the newest
        waiting = [r for r in own if r.state == CodingStatus.NOT_STARTED.value]
        row: CodingRow | None = next((r for r in own if r.scale_pk == target), None)
        if row is None and waiting:
            row = waiting[0]  # unstarted work moves to the session's version
            row.scale_pk = target
        if row is not None:
            orders.setdefault(key, row.queue_order)
        if row is None:
            started = [r for r in own if versions[r.scale_pk] < versions[target]]
            recode_of = max(r.id for r in started) if started else None
            order = orders.get(key)  # a scale planned together: beside its partner
            if order is None:
                order = next_order.get(key[1])
                if order is None:
                    order = queue_end(s, key[1])
                next_order[key[1]] = order + 1
                orders[key] = order
            s.add(
                CodingRow(
                    session_id=key[0],
                    rater_id=key[1],
                    scale_pk=target,
                    plan_id=plan_row.id,
                    role=coding.role,
                    queue_position=coding.queue_position,
                    queue_order=order,
                    state=CodingStatus.NOT_STARTED.value,
                    uncodable_reason="",
                    uncodable_text="",
                    playhead_ms=0,
                    recode_of=recode_of,
                    scale_group_id=group_id,
                )
            )
            if recode_of is None:
                added += 1
            else:
                recoded += 1
        elif row.state == CodingStatus.NOT_STARTED.value:
            if (row.role, row.queue_position) != (coding.role, coding.queue_position):
                moved += 1
            row.role, row.queue_position, row.plan_id = (
                coding.role,
                coding.queue_position,
                plan_row.id,
            )
            row.scale_group_id = group_id
        else:
            row.queue_position = coding.queue_position
            if group_id is not None:  # started work joins the group it is now planned in
                row.scale_group_id = group_id
        for other in waiting:
            if other is not row:
                s.delete(other)
                removed += 1
    for key, own in existing.items():
        for stored in own:
            if (
                key not in wanted
                and stored.state == CodingStatus.NOT_STARTED.value
                and stored.role not in keep_roles
            ):
                s.delete(stored)
                removed += 1
    log_change(
        s,
        actor,
        "plan",
        "plan",
        str(plan_row.id),
        new={
            "scale": scale_id,
            "version": versions[scale_pk],
            "added": added,
            "moved": moved,
            "removed": removed,
            "recoded": recoded,
            "params": dict(params),
            **({"scale_group": group_id} if group_id is not None else {}),
        },
    )
    return plan_row.id
