"""Re-codes under a newer scale version: a coding the lead planned with ``--recode``
names the coding it re-codes (``codings.recode_of``); once finished it counts in that
coding's place (see :func:`coder.analysis_set.analysis_codings`).

Revision ID: r0004
Revises: r0003
"""

import sqlalchemy as sa
from alembic import op

revision = "r0004"
down_revision = "r0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("codings") as batch:
        batch.add_column(sa.Column("recode_of", sa.Integer, nullable=True))

