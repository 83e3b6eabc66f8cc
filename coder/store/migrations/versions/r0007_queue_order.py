"""A rater's queue keeps its order: ``codings.queue_order``.

The queue was sorted by ``queue_position``, the plan's order of a rater's work on
one scale, which every re-plan renumbers: saving a new plan slid new codings in
between finished ones and renumbered the rater's whole queue. ``queue_order`` is the
coding's place in its rater's queue over every scale, set when the coding is made
(after the rater's other work, :func:`coder.store.rows.queue_end`) and never
renumbered. Existing codings take their ``queue_position``, so every queue shows as
it did before (ties go by id, as they did).

Revision ID: r0007
Revises: r0006
"""

import sqlalchemy as sa
from alembic import op

revision = "r0007"
down_revision = "r0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("codings") as batch:
        batch.add_column(sa.Column("queue_order", sa.Integer, nullable=False, server_default="0"))
    op.execute("UPDATE codings SET queue_order = queue_position")
