"""Lab mode: the database keeps a finished coding locked against its own rater.

Column privileges let a rater's login change the columns of its coding the rater
workflow needs (state, uncodable reason and text, times, playhead, reopen_allowed),
so with raw SQL a rater could reopen their own submitted coding or change its scores,
notes and spans after the lead's lock. Triggers (SECURITY INVOKER) now re-check,
for logins that act as the ``<db>_rater`` group only (not a lead, not the owner):

- codings: nothing but those columns changes; ``reopen_allowed`` may only be turned
  off (the lead turns it on); a finished coding (submitted or uncodable) not reopened
  by the lead changes in nothing but the playhead; a finished coding stays finished.
- ratings, notes, spans: no INSERT, UPDATE or DELETE in a finished coding the lead
  has not reopened (:func:`coder.coding_rules.is_editable`, here as the server's rule).

PostgreSQL only; on SQLite this revision changes nothing.

Revision ID: r0006
Revises: r0005
"""

from alembic import op

revision = "r0006"
down_revision = "r0005"
branch_labels = None
depends_on = None

_CHILD_TABLES = ("ratings", "notes", "spans")

# Whether this login acts as one of the lab's raters: uses the rater group's rights
# (a lead is a member only to administer it, without them), is no lead and not the
# owner (a superuser is a member of every role).
_IS_RATER = """
CREATE OR REPLACE FUNCTION public.sc_is_rater() RETURNS boolean
LANGUAGE sql STABLE SECURITY INVOKER SET search_path = pg_catalog, pg_temp AS $$
SELECT EXISTS (
    SELECT 1 FROM pg_roles g WHERE g.rolname = left(current_database() || '_rater', 63)
    AND pg_has_role(current_user, g.oid, 'USAGE'))
  AND NOT EXISTS (
    SELECT 1 FROM pg_roles g WHERE g.rolname = left(current_database() || '_lead', 63)
    AND pg_has_role(current_user, g.oid, 'USAGE'))
  AND NOT pg_has_role(current_user,
    (SELECT relowner FROM pg_class WHERE oid = 'public.codings'::regclass), 'MEMBER')
$$
"""

_CODING_LOCK = """
CREATE OR REPLACE FUNCTION public.sc_coding_lock() RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp AS $$
DECLARE
  rater_columns constant text[] := ARRAY['state', 'uncodable_reason', 'uncodable_text',
    'started_at', 'submitted_at', 'playhead_ms', 'reopen_allowed'];
BEGIN
  IF NOT public.sc_is_rater() THEN
    RETURN NEW;
  END IF;
  IF (to_jsonb(NEW) - rater_columns) IS DISTINCT FROM (to_jsonb(OLD) - rater_columns) THEN
    RAISE EXCEPTION 'only the lead may change a coding''s assignment, role, plan, '
      'scale or re-code link' USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF NEW.reopen_allowed AND NOT OLD.reopen_allowed THEN
    RAISE EXCEPTION 'only the lead may allow reopening a coding'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF OLD.state IN ('submitted', 'uncodable') THEN
    IF NOT OLD.reopen_allowed
       AND (to_jsonb(NEW) - 'playhead_ms') IS DISTINCT FROM (to_jsonb(OLD) - 'playhead_ms') THEN
      RAISE EXCEPTION 'coding % is finished; only the lead may allow reopening it', OLD.id
        USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.state NOT IN ('submitted', 'uncodable') THEN
      RAISE EXCEPTION 'coding % is finished and stays finished (submitted or uncodable)', OLD.id
        USING ERRCODE = 'insufficient_privilege';
    END IF;
  END IF;
  RETURN NEW;
END $$
"""

_CHILD_LOCK = """
CREATE OR REPLACE FUNCTION public.sc_coding_child_lock() RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp AS $$
DECLARE
  coding integer;
BEGIN
  IF public.sc_is_rater() THEN
    FOREACH coding IN ARRAY (CASE TG_OP
        WHEN 'INSERT' THEN ARRAY[NEW.coding_id]
        WHEN 'DELETE' THEN ARRAY[OLD.coding_id]
        ELSE ARRAY[OLD.coding_id, NEW.coding_id] END) LOOP
      IF EXISTS (SELECT 1 FROM public.codings c WHERE c.id = coding
                 AND c.state IN ('submitted', 'uncodable') AND NOT c.reopen_allowed) THEN
        RAISE EXCEPTION 'coding % is finished; only the lead may allow reopening it '
          '(% of % refused)', coding, TG_OP, TG_TABLE_NAME
          USING ERRCODE = 'insufficient_privilege';
      END IF;
    END LOOP;
  END IF;
  IF TG_OP = 'DELETE' THEN
    RETURN OLD;
  END IF;
  RETURN NEW;
END $$
"""


def _run(sql: str) -> None:
    # No parameters, but the driver still reads % as a placeholder: double them.
    op.get_bind().exec_driver_sql(sql.replace("%", "%%"))


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for sql in (_IS_RATER, _CODING_LOCK, _CHILD_LOCK):
        _run(sql)
    _run("DROP TRIGGER IF EXISTS sc_coding_lock ON public.codings")
    _run(
        "CREATE TRIGGER sc_coding_lock BEFORE UPDATE ON public.codings "
        "FOR EACH ROW EXECUTE FUNCTION public.sc_coding_lock()"
    )
    for table in _CHILD_TABLES:
        _run(f"DROP TRIGGER IF EXISTS sc_coding_lock ON public.{table}")
        _run(
            f"CREATE TRIGGER sc_coding_lock BEFORE INSERT OR UPDATE OR DELETE ON public.{table} "
            "FOR EACH ROW EXECUTE FUNCTION public.sc_coding_child_lock()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in ("codings", *_CHILD_TABLES):
        _run(f"DROP TRIGGER IF EXISTS sc_coding_lock ON public.{table}")
    _run("DROP FUNCTION IF EXISTS public.sc_coding_child_lock()")
    _run("DROP FUNCTION IF EXISTS public.sc_coding_lock()")
    _run("DROP FUNCTION IF EXISTS public.sc_is_rater()")
