"""Initial schema: project, scales, raters, pools, audio, sessions, plans, codings,
ratings, notes, spans, history.

Revision ID: r0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "r0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "project",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("settings_json", sa.Text, nullable=False),
    )
    op.create_table(
        "scales",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("scale_id", sa.String(100), nullable=False, index=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("added_at", TS, nullable=False),
        sa.UniqueConstraint("scale_id", "version"),
    )
    op.create_table(
        "raters",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(100), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "rater_pools",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
    )
    op.create_table(
        "rater_pool_members",
        sa.Column("pool_id", sa.Integer, sa.ForeignKey("rater_pools.id"), primary_key=True),
        sa.Column("rater_id", sa.Integer, sa.ForeignKey("raters.id"), primary_key=True),
    )
    op.create_table(
        "audio_files",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("size_bytes", sa.BigInteger),
        sa.Column("duration_ms", sa.Integer),
        sa.Column("sample_rate", sa.Integer),
        sa.Column("channels", sa.Integer),
        sa.Column("sha256", sa.String(64), index=True),
        sa.Column("format", sa.String(20)),
    )
    op.create_table(
        "sessions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("session_key", sa.String(200), nullable=False, unique=True),
        sa.Column("patient", sa.String(200), nullable=False),
        sa.Column("therapist", sa.String(200), nullable=False),
        sa.Column("session_number", sa.Integer),
        sa.Column("phase", sa.String(50), nullable=False),
        sa.Column("date", sa.String(40), nullable=False),
        sa.Column("metadata_json", sa.Text, nullable=False),
        sa.Column("audio_id", sa.Integer, sa.ForeignKey("audio_files.id")),
        sa.Column("audio_status", sa.String(20), nullable=False),
        sa.Column("audio_reason", sa.Text, nullable=False),
    )
    op.create_table(
        "plans",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("scale_pk", sa.Integer, sa.ForeignKey("scales.id"), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("params_json", sa.Text, nullable=False),
        sa.Column("summary_json", sa.Text, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
    )
    op.create_table(
        "codings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("session_id", sa.Integer, sa.ForeignKey("sessions.id"), nullable=False, index=True),
        sa.Column("rater_id", sa.Integer, sa.ForeignKey("raters.id"), nullable=False, index=True),
        sa.Column("scale_pk", sa.Integer, sa.ForeignKey("scales.id"), nullable=False),
        sa.Column("plan_id", sa.Integer, sa.ForeignKey("plans.id")),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("queue_position", sa.Integer, nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("uncodable_reason", sa.String(200), nullable=False),
        sa.Column("uncodable_text", sa.Text, nullable=False),
        sa.Column("started_at", TS),
        sa.Column("submitted_at", TS),
        sa.UniqueConstraint("session_id", "rater_id", "scale_pk"),
    )
    op.create_table(
        "ratings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("coding_id", sa.Integer, sa.ForeignKey("codings.id"), nullable=False, index=True),
        sa.Column("item_id", sa.String(100), nullable=False),
        sa.Column("value", sa.Float),
        sa.Column("text", sa.Text),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("coding_id", "item_id"),
    )
    op.create_table(
        "notes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("coding_id", sa.Integer, sa.ForeignKey("codings.id"), nullable=False, index=True),
        sa.Column("position_ms", sa.Integer, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("deleted", sa.Boolean, nullable=False),
    )
    op.create_table(
        "spans",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("coding_id", sa.Integer, sa.ForeignKey("codings.id"), nullable=False, index=True),
        sa.Column("item_id", sa.String(100), nullable=False),
        sa.Column("start_ms", sa.Integer, nullable=False),
        sa.Column("end_ms", sa.Integer),
        sa.Column("deleted", sa.Boolean, nullable=False),
    )
    op.create_table(
        "history",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("action", sa.String(50), nullable=False),
        sa.Column("entity", sa.String(50), nullable=False),
        sa.Column("entity_id", sa.String(200), nullable=False),
        sa.Column("coding_id", sa.Integer, index=True),
        sa.Column("field", sa.String(100), nullable=False),
        sa.Column("old", sa.Text),
        sa.Column("new", sa.Text),
    )
