"""Lab mode's people: each rater's own database login, and the login that wrote each
history row (set by the server in lab mode, see coder.store.lab_security).

Revision ID: r0005
Revises: r0004
"""

import sqlalchemy as sa
from alembic import op

revision = "r0005"
down_revision = "r0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("raters") as batch:
        batch.add_column(sa.Column("login", sa.String(100), nullable=True))
        batch.create_unique_constraint("uq_raters_login", ["login"])
    with op.batch_alter_table("history") as batch:
        batch.add_column(sa.Column("login", sa.String(100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("history") as batch:
        batch.drop_column("login")
    with op.batch_alter_table("raters") as batch:
        batch.drop_constraint("uq_raters_login", type_="unique")
        batch.drop_column("login")
