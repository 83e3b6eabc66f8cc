"""Resume and re-import support: playhead per coding, lead-allowed reopening,
training sessions, and audio mtime (a re-import skips re-hashing unchanged files).

Revision ID: r0002
Revises: r0001
"""

import sqlalchemy as sa
from alembic import op

revision = "r0002"
down_revision = "r0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("codings") as batch:
        batch.add_column(sa.Column("playhead_ms", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(
            sa.Column("reopen_allowed", sa.Boolean, nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("training", sa.Boolean, nullable=False, server_default=sa.false()))
    with op.batch_alter_table("audio_files") as batch:
        batch.add_column(sa.Column("mtime_ns", sa.BigInteger))
