"""Reads and writes of assignment plans (the planning rules are in :mod:`coder.planning`).

:func:`scale_codings` and :func:`active_plan_params` give the planner the work already
stored; :func:`store_plan` writes a plan as codings in one transaction, with its
history row.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from coder.assignment import PlannedCoding
from coder.kinds import CodingStatus
from coder.store.models import CodingRow, PlanRow, RaterRow, ScaleRow, SessionRow
from coder.store.project import Project
from coder.store.rows import latest_scale_pk, log_change


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


def store_plan(
    project: Project,
    scale_id: str,
    codings: Sequence[PlannedCoding],
    *,
    params: Mapping[str, Any],
    summary: Mapping[str, Any],
    keep_roles: Collection[str],
    actor: str,
) -> int:
    """Store a plan of a scale in one transaction; the older plans become inactive.

    The plan's codings replace the scale's unstarted ones: new (session, rater) pairs
    are added, unstarted codings take the planned role and queue position, started
    ones keep their role and take the planned position, and unstarted codings the plan
    no longer has are deleted. Codings with ``keep_roles`` are never touched. One
    history row counts what was added, moved and removed.

    Returns:
        The stored plan's id.
    """
    with project.store.transaction() as s:
        scale_pk = latest_scale_pk(s, scale_id)
        for old in s.scalars(
            select(PlanRow).where(PlanRow.scale_pk == scale_pk, PlanRow.active.is_(True))
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
        existing = {
            (row.session_id, row.rater_id): row
            for row in s.scalars(select(CodingRow).where(CodingRow.scale_pk == scale_pk))
        }
        wanted = set()
        added = moved = 0
        for coding in codings:
            key = (sessions[coding.session_id], raters[coding.rater])
            wanted.add(key)
            row = existing.get(key)
            if row is not None and row.role in keep_roles:
                continue  # the rater already codes it as master, training or drift check
            if row is None:
                s.add(
                    CodingRow(
                        session_id=key[0],
                        rater_id=key[1],
                        scale_pk=scale_pk,
                        plan_id=plan_row.id,
                        role=coding.role,
                        queue_position=coding.queue_position,
                        state=CodingStatus.NOT_STARTED.value,
                        uncodable_reason="",
                        uncodable_text="",
                        playhead_ms=0,
                    )
                )
                added += 1
            elif row.state == CodingStatus.NOT_STARTED.value:
                if (row.role, row.queue_position) != (coding.role, coding.queue_position):
                    moved += 1
                row.role, row.queue_position, row.plan_id = (
                    coding.role,
                    coding.queue_position,
                    plan_row.id,
                )
            else:
                row.queue_position = coding.queue_position
        removed = 0
        for key, row in existing.items():
            if (
                key not in wanted
                and row.state == CodingStatus.NOT_STARTED.value
                and row.role not in keep_roles
            ):
                s.delete(row)
                removed += 1
        log_change(
            s,
            actor,
            "plan",
            "plan",
            str(plan_row.id),
            new={
                "scale": scale_id,
                "added": added,
                "moved": moved,
                "removed": removed,
                "params": dict(params),
            },
        )
        return plan_row.id
