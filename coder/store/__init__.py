"""The store: the one door to the database.

Only this package imports SQLAlchemy or Alembic (an import-linter contract in
``pyproject.toml`` holds it). Its modules:

- ``models``: the tables of the newest schema revision.
- ``migrations``: Alembic revisions that create and upgrade real files.
- ``engine``: opening a project file or server, locks, backups, copies.
- ``faults``: turning database errors into one-sentence messages; retries.
- ``project``: ``Project``, the lifecycle of an open project and its writes.
- ``rows``: helpers every store module uses in its transaction (history rows).
- ``codings``: writing a coding (ratings, notes, spans, state, reopening) with its
  history rows, once the rules of ``coder.coding_rules`` allow the change.
- ``sessions``: adding sessions (``add_session``), with the importer's checks.
- ``imports``: the reads and writes of a manifest import and of re-linking audio.
- ``packages_store``: the reads and writes of offline rater packages and their merge.
- ``bulk``: loading finished codings in bulk (benchmarks, large test projects).
- ``open_files``: which project files this process has open (no database library).
- ``text_checks``: the text limits applied to every row on flush.
- ``queries``: the analysis reads (coding facts for :mod:`coder.analysis_set`,
  reliability pairs with their scores, notes, consensus, export rows).
- ``consensus_store``: writing consensus scores.
- ``certification_store``: certification settings, master, training and drift-check
  codings, and the reads behind comparisons and feedback.
- ``plans``: the reads a plan is built from, and storing a plan.
- ``progress``: the counts of the progress view, in one query.

This ``__init__`` imports nothing, so ``coder.store.models`` can be loaded without
the rest (the modules import each other in one direction: models, faults, engine,
project).
"""
