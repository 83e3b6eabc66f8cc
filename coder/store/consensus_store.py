"""Writing consensus scores: one item of a double-coded session, with its history row.

:mod:`coder.consensus` holds the rules of a consensus (a reason is required, the value
must be a score of a numeric item) and calls :func:`write_consensus`; the session's
reliability pair, and so whether it may have a consensus at all, is decided inside the
same transaction by :func:`coder.store.queries.read_consensus_pair`.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from coder.scales import RatingScale
from coder.store.models import ConsensusScoreRow, ScaleRow, SessionRow, utcnow
from coder.store.project import Project
from coder.store.queries import pair_scale_pk, read_consensus_pair
from coder.store.rows import log_change


def write_consensus(
    project: Project,
    scale_id: str,
    session_key: str,
    item_id: str,
    value: float | None,
    reason: str,
    *,
    actor: str,
    check: Callable[[RatingScale], None],
) -> bool:
    """Set (or, with ``value=None``, withdraw) one item's consensus score, in one transaction.

    The session is locked first, so two leads recording at once cannot both insert the
    row. The change and its history row (entity ``consensus``, id
    ``"<scale>:<session>"``, field = the item) are committed together; recording what
    is already stored changes nothing and logs nothing.

    Args:
        project: The open project.
        scale_id: The scale.
        session_key: The session.
        item_id: The item.
        value: The agreed score, or None to withdraw it.
        reason: Why (already stripped; kept in the row and in the history).
        actor: Who records it.
        check: Called with the scale version of the consensus before anything is
            written; it raises to refuse the item or value.

    Returns:
        True when something changed.

    Raises:
        InputError: no such session, it is not double-coded on the scale, or
            ``check`` refused.
    """
    with project.store.transaction() as s:
        s.execute(
            select(SessionRow.id).where(SessionRow.session_key == session_key).with_for_update()
        )
        session_pk, pair = read_consensus_pair(s, scale_id, session_key)
        scale_pk = pair_scale_pk(pair)
        check(project.scale_by_pk(s, scale_pk))
        row = s.scalar(
            select(ConsensusScoreRow)
            .join(ScaleRow, ScaleRow.id == ConsensusScoreRow.scale_pk)
            .where(
                ConsensusScoreRow.session_id == session_pk,
                ScaleRow.scale_id == scale_id,
                ConsensusScoreRow.item_id == item_id,
            )
        )
        old = None if row is None else {"value": row.value, "reason": row.reason}
        new = None if value is None else {"value": float(value), "reason": reason}
        if old == new or (row is None and value is None):
            return False
        if value is None:
            assert row is not None
            s.delete(row)
        else:
            if row is None:
                row = ConsensusScoreRow(session_id=session_pk, scale_pk=scale_pk, item_id=item_id)
                s.add(row)
            row.value, row.reason, row.actor, row.updated_at = (
                float(value),
                reason,
                actor,
                utcnow(),
            )
        log_change(
            s,
            actor,
            "set" if value is not None else "delete",
            "consensus",
            f"{scale_id}:{session_key}",
            field=item_id,
            old=old,
            new=new if new is not None else {"reason": reason},
        )
        return True


__all__ = ["write_consensus"]
