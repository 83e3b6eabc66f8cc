"""Consensus scores of double-coded sessions, and the lead's record of offline rater
packages. (Certification needs no table: master codings are codings with role
"master", drift checks codings with role "recalibration", criteria live in settings.)

Revision ID: r0003
Revises: r0002
"""

import sqlalchemy as sa
from alembic import op

revision = "r0003"
down_revision = "r0002"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "consensus_scores",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("session_id", sa.Integer, sa.ForeignKey("sessions.id"), nullable=False, index=True),
        sa.Column("scale_pk", sa.Integer, sa.ForeignKey("scales.id"), nullable=False),
        sa.Column("item_id", sa.String(100), nullable=False),
        sa.Column("value", sa.Float),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("actor", sa.String(100), nullable=False, server_default=""),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("session_id", "scale_pk", "item_id"),
    )
    op.create_table(
        "rater_packages",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("rater_id", sa.Integer, sa.ForeignKey("raters.id"), nullable=False, index=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False, server_default=""),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("with_audio", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("state_json", sa.Text, nullable=False, server_default="{}"),
        sa.Column("imported_at", TS),
        sa.Column("import_count", sa.Integer, nullable=False, server_default="0"),
    )
