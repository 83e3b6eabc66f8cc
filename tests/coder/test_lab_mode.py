"""Lab mode: several rater machines (processes) write to one database at once.

Each worker is a separate process with its own connection pool, as a copy of the app on
another machine would be. Afterwards every score and history row must be there exactly
once.
"""

from __future__ import annotations

import multiprocessing as mp
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from coder.scales import load_builtin_scale
from coder.store.models import HistoryRow, RatingRow
from coder.store.project import Project
from tests.factories import add_plain_sessions, session

ITEMS = ("specification", "rationale", "troubleshooting", "review", "praise")
RATERS = ("R1", "R2", "R3", "R4")
N_SESSIONS = 12
PER_RATER = 6
# Per coding: in_progress, 5 items set then changed, the duration from a span, a span, a
# note, the submit.
HISTORY_PER_CODING = 1 + 2 * len(ITEMS) + 1 + 1 + 1 + 1


def _setup(project: Project) -> None:
    project.add_scale(load_builtin_scale("thabs"))
    project.add_raters(RATERS)
    add_plain_sessions(
        project,
        [
            session(f"S{i:02d}", patient=f"P{i}", therapist="T1", session_number=2, phase="I")
            for i in range(N_SESSIONS)
        ],
    )
    # Rater k codes sessions 3k .. 3k+5: every session has two raters writing to it.
    for k, rater in enumerate(RATERS):
        for j in range(PER_RATER):
            project.add_coding(f"S{(3 * k + j) % N_SESSIONS:02d}", rater, "thabs", queue_position=j)


def _value(rater: str, session: str, item: str, final: bool) -> int:
    return (int(rater[1:]) + int(session[1:]) + ITEMS.index(item) + (1 if final else 0)) % 5


def _score_queue(url: str, rater: str, start: Any, errors: Any) -> None:
    """One rater machine: score the whole queue, one transaction per change."""
    try:
        start.wait(timeout=60)
        with Project.open(url) as project:
            view = project.rater_view(rater)
            for entry in view.queue():
                cid, key = entry.coding_id, entry.session_key
                for item in ITEMS:
                    view.set_value(cid, item, _value(rater, key, item, final=False))
                for item in ITEMS:
                    view.set_value(cid, item, _value(rater, key, item, final=True))
                view.add_span(cid, "duration", 1_000, 31_000)
                view.add_note(cid, 5_000, f"{rater} on {key}")
                view.submit(cid)
    except BaseException:  # noqa: BLE001 - reported to the parent process
        errors.put(f"{rater}: {traceback.format_exc()}")


def _same_scores(url: str, rater: str, start: Any, errors: Any) -> None:
    """A rater with the same codings open on two machines, typing the same scores."""
    try:
        with Project.open(url) as project:
            view = project.rater_view(rater)
            queue = view.queue()
            start.wait(timeout=60)
            for entry in queue:
                for item in ITEMS:
                    view.set_value(entry.coding_id, item, 2)
    except BaseException:  # noqa: BLE001 - reported to the parent process
        errors.put(f"{rater}: {traceback.format_exc()}")


def _run(target: Any, url: str, raters: list[str]) -> None:
    ctx = mp.get_context("spawn")  # a fresh interpreter per "machine", no shared engine
    start = ctx.Barrier(len(raters))
    errors = ctx.Queue()
    workers = [ctx.Process(target=target, args=(url, r, start, errors)) for r in raters]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    problems = []
    while not errors.empty():
        problems.append(errors.get())
    assert not problems, "\n".join(problems)
    assert [w.exitcode for w in workers] == [0] * len(workers)


@pytest.mark.postgres
def test_four_rater_machines_lose_and_duplicate_nothing(pg_url: str, tmp_path: Path) -> None:
    with Project.create(tmp_path / "lab.scproj", db_url=pg_url) as project:
        _setup(project)
        with project.store.read() as s:
            history_before = s.scalar(select(func.count()).select_from(HistoryRow))
    _run(_score_queue, pg_url, list(RATERS))
    with Project.open(pg_url) as project:
        for rater in RATERS:
            view = project.rater_view(rater)
            queue = view.queue()
            assert len(queue) == PER_RATER and {q.state for q in queue} == {"submitted"}
            for entry in queue:
                state = view.coding(entry.coding_id)
                assert {i: state.values[i] for i in ITEMS} == {
                    i: _value(rater, entry.session_key, i, final=True) for i in ITEMS
                }
                assert state.values["duration"] == 30.0
                assert [n.text for n in state.notes] == [f"{rater} on {entry.session_key}"]
                assert len(state.spans) == 1
        with project.store.read() as s:
            ratings = s.execute(select(RatingRow.coding_id, RatingRow.item_id)).all()
            history = s.scalars(select(HistoryRow).where(HistoryRow.id > 0)).all()
        assert len(ratings) == len(set(ratings)) == len(RATERS) * PER_RATER * (len(ITEMS) + 1)
        new = [h for h in history][history_before:]
        assert Counter(h.actor for h in new) == {r: PER_RATER * HISTORY_PER_CODING for r in RATERS}
        # Each rating change is there once: (coding, item, old, new) never repeats.
        changes = [(h.coding_id, h.field, h.old, h.new) for h in new if h.entity == "rating"]
        assert len(changes) == len(set(changes))
        assert len({h.id for h in history}) == len(history)


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_one_rater_on_four_machines_typing_the_same_scores(
    new_project_args: dict[str, Any],
) -> None:
    path, url = new_project_args["path"], new_project_args["db_url"]
    with Project.create(path, db_url=url) as project:
        _setup(project)
    # Without locking (FOR UPDATE on PostgreSQL, BEGIN IMMEDIATE on SQLite) several
    # machines see no score yet, all insert it, and all but one fail on the unique
    # constraint (or log the same change twice).
    _run(_same_scores, url or str(path), ["R1", "R1", "R1", "R1"])
    with Project.open(url or path) as project:
        view = project.rater_view("R1")
        for entry in view.queue():
            assert {i: view.coding(entry.coding_id).values[i] for i in ITEMS} == dict.fromkeys(
                ITEMS, 2
            )
            history = project.history(coding_id=entry.coding_id)
            assert Counter((h.entity, h.field) for h in history if h.actor == "R1") == {
                ("coding", "state"): 1,
                **{("rating", item): 1 for item in ITEMS},
            }
