"""Scales planned together (issue 13, item 5): ``scale_groups`` names the scales of one
plan whose sessions get the same raters on every scale, and ``codings.scale_group_id``
links each coding to its group, so a rater codes the group's scales of a session in
one listening while the codings (and so reliability and exports) stay per scale.

Revision ID: r0008
Revises: r0007
"""

import sqlalchemy as sa
from alembic import op

revision = "r0008"
down_revision = "r0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scale_groups",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("scales", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
    )
    with op.batch_alter_table("codings") as batch:
        batch.add_column(sa.Column("scale_group_id", sa.Integer, nullable=True))
        batch.create_foreign_key(
            "fk_codings_scale_group_id_scale_groups", "scale_groups", ["scale_group_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("codings") as batch:
        batch.drop_constraint("fk_codings_scale_group_id_scale_groups", type_="foreignkey")
        batch.drop_column("scale_group_id")
    op.drop_table("scale_groups")
