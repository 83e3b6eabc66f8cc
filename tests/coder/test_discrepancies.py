"""The reliability input of a project: long frame, drift order, discrepancies, progress."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from coder.discrepancies import (
    find_discrepancies,
    pair_matrix,
    progress_by_rater,
    reliability_frame,
    stored_plan_params,
    submission_order,
)
from coder.errors import InputError
from coder.planning import PlanRequest, plan_and_save
from coder.reliability import reliability_report
from coder.scales import load_builtin_scale
from coder.store.models import CodingRow, SessionRow
from coder.store.project import Project
from tests.factories import add_plain_sessions, session

ORDINAL = ("specification", "rationale", "troubleshooting", "review", "praise")


@dataclass(frozen=True)
class Study:
    path: Path
    double: set[str]  # sessions with two submitted analysis codings
    single: set[str]  # planned double-coded, but one coding still in progress
    coders: dict[str, list[str]]  # session -> raters of its analysis codings
    apart: set[str]  # double-coded sessions whose coders differ by 2 on troubleshooting


def _truth(session: str) -> int:
    return int(session[1:]) % 5


def build_study(path: Path) -> Study:
    """8 sessions, raters A/B/C, 6 planned double-coded, training session T01.

    Scores of coder position ``first`` (the lower rater code) and ``second``:
    specification agrees exactly; rationale is always 2 (no variance); troubleshooting
    differs by 2 on two double-coded sessions and by 1 on a third; review differs by
    at most one;
    praise agrees; duration 60 + the session number. Training codings differ wildly.
    """
    with Project.create(path) as project:
        project.add_scale(load_builtin_scale("thabs"))
        project.add_raters(["A", "B", "C"])
        add_plain_sessions(
            project,
            [
                session(
                    key,
                    patient="P1" if key < "S05" else "P2",
                    therapist="T1",
                    session_number=2,
                    phase="I",
                )
                for key in ["T01", *(f"S{i:02d}" for i in range(1, 9))]
            ],
        )
        request = PlanRequest("thabs", ("A", "B", "C"), 6, ("patient",), seed=3, training=("T01",))
        plan, _ = plan_and_save(project, request)
        coders: dict[str, list[str]] = {}
        for c in plan.codings:
            if c.role != "training":
                coders.setdefault(c.session_id, []).append(c.rater)
        planned_double = sorted(k for k, rs in coders.items() if len(rs) == 2)
        assert len(planned_double) == 6
        left_open = planned_double[-1]
        apart, one_point = {planned_double[0], planned_double[2]}, planned_double[1]
        ids = {
            (entry.session_key, code): int(entry.coding_id)
            for code in ("A", "B", "C")
            for entry in project.rater_view(code).queue()
        }
        for (key, code), cid in sorted(ids.items()):
            view = project.rater_view(code)
            if key == "T01":
                wild = {"A": 0, "B": 4, "C": 2}[code]
                for item in ORDINAL:
                    view.set_value(cid, item, wild)
                view.set_value(cid, "duration", 10)
                view.add_note(cid, 1_000, f"{code} training note")
                view.submit(cid)
                continue
            raters = sorted(coders[key])
            second = len(raters) == 2 and code == raters[1]
            t = _truth(key)
            values = {
                "specification": t,
                "rationale": 2,
                "troubleshooting": t,
                "review": t,
                "praise": t,
                "duration": 60 + int(key[1:]),
            }
            if second:
                if key in apart:
                    values["troubleshooting"] = t + 2 if t <= 2 else t - 2
                elif key == one_point:
                    values["troubleshooting"] = t + 1 if t < 4 else t - 1
                if int(key[1:]) % 2:
                    values["review"] = t + 1 if t < 4 else t - 1
            for item, value in values.items():
                view.set_value(cid, item, value)
            view.add_note(cid, 61_000 + int(key[1:]) * 1000, f"{code} on {key}")
            if second and key == left_open:
                continue  # in progress: the session is not double-coded yet
            view.submit(cid)
    double = {k for k in planned_double if k != left_open}
    return Study(path, double, {left_open}, coders, apart)


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Study:
    return build_study(tmp_path_factory.mktemp("disc") / "study.scproj")


@pytest.fixture
def project(study: Study):  # type: ignore[no-untyped-def]
    with Project.open(study.path) as project:
        yield project


def test_the_frame_holds_only_double_coded_analysis_sessions(study: Study, project) -> None:  # type: ignore[no-untyped-def]
    frame, ranges = reliability_frame(project, "thabs")
    assert list(frame.columns) == ["session_id", "rater_id", "item_id", "score"]
    assert frame["score"].dtype == "float64"
    assert set(frame["session_id"]) == study.double
    # Training session, single-coded sessions and a half-finished pair are all left out.
    assert "T01" not in set(frame["session_id"])
    assert not set(frame["session_id"]) & study.single
    for key in study.double:
        assert sorted(frame.loc[frame["session_id"] == key, "rater_id"].unique()) == sorted(
            study.coders[key]
        )
    # Items in the scale's order: numeric items (text items none here), then composites.
    assert list(dict.fromkeys(frame["item_id"])) == [*ORDINAL, "duration", "behaviour_mean"]
    assert ranges == {item: (0, 4) for item in ORDINAL}
    assert len(frame) == len(study.double) * 2 * 7


def test_composites_are_computed_per_coding(project) -> None:  # type: ignore[no-untyped-def]
    frame, _ = reliability_frame(project, "thabs")
    wide = frame.pivot_table(index=["session_id", "rater_id"], columns="item_id", values="score")
    expected = wide[list(ORDINAL)].mean(axis=1)
    pd.testing.assert_series_equal(wide["behaviour_mean"], expected, check_names=False)
    assert (wide["duration"] > 60).all()


def test_the_frame_feeds_the_reliability_report(project) -> None:  # type: ignore[no-untyped-def]
    frame, ranges = reliability_frame(project, "thabs")
    items = reliability_report(frame, ranges).to_json()["items"]
    assert items["specification"]["icc"]["ICC2"]["value"] == pytest.approx(1.0)
    assert items["rationale"]["icc"]["ICC2"]["value"] is None  # no variance: not defined
    assert items["behaviour_mean"]["n_sessions"] == 5


def test_submission_order_is_when_the_last_coder_submitted(study: Study, project) -> None:  # type: ignore[no-untyped-def]
    order = submission_order(project, "thabs")
    assert set(order) == study.double
    with project.store.read() as s:
        rows = s.execute(
            select(SessionRow.session_key, CodingRow.submitted_at).join(
                CodingRow, CodingRow.session_id == SessionRow.id
            )
        ).all()
        latest: dict[str, object] = {}
        for key, at in rows:
            if key in study.double and at is not None:
                latest[key] = max(latest.get(key, at), at)  # type: ignore[type-var]
    for key, at in order.items():
        assert at.tzinfo is not None
        assert at.replace(tzinfo=None) == latest[key]


def test_discrepancies_are_the_pairs_more_than_one_point_apart(study: Study, project) -> None:  # type: ignore[no-untyped-def]
    found = find_discrepancies(project, "thabs")
    assert len(study.apart) == 2
    assert {(d.session_id, d.item_id) for d in found} == {
        (k, "troubleshooting") for k in study.apart
    }
    for d in found:
        a, b = sorted(study.coders[d.session_id])
        assert (d.rater_a, d.rater_b) == (a, b)
        assert d.difference == 2
        assert d.score_a == _truth(d.session_id)
        assert [n.text for n in d.notes_a] == [f"{a} on {d.session_id}"]
        assert [n.text for n in d.notes_b] == [f"{b} on {d.session_id}"]
        assert d.notes_a[0].position_ms == 61_000 + int(d.session_id[1:]) * 1000
    # Threshold 0: every difference, including the one-point ones.
    loose = find_discrepancies(project, "thabs", threshold=0)
    assert {d.item_id for d in loose} >= {"troubleshooting", "review"}
    assert all(d.difference > 0 for d in loose)
    assert not any(d.session_id == "T01" for d in loose)


def test_progress_and_stored_plan_of_one_scale(study: Study, project) -> None:  # type: ignore[no-untyped-def]
    progress = progress_by_rater(project, "thabs")
    assert set(progress) == {"A", "B", "C"}
    assert sum(c["in_progress"] for c in progress.values()) == 1
    total = sum(sum(c.values()) for c in progress.values())
    assert total == 8 + 6 + 3  # primaries, second codings, training
    stored = stored_plan_params(project, "thabs")
    assert stored is not None
    assert stored.params["training"] == ["T01"] and stored.params["double"] == 6
    assert stored.summary["double_coded"] == 6
    assert stored_plan_params(project, "nothing") is None


def test_master_codings_never_count_as_a_second_coder(study: Study, tmp_path: Path) -> None:
    copy = tmp_path / "copy.scproj"
    copy.write_bytes(study.path.read_bytes())
    single = sorted(k for k, rs in study.coders.items() if len(rs) == 1 and k != "T01")[0]
    with Project.open(copy) as project:
        project.add_raters(["M"])
        coding = project.add_coding(single, "M", "thabs", role="master")
        master = project.rater_view("M")
        for item in ORDINAL:
            master.set_value(coding, item, 4)
        master.set_value(coding, "duration", 1)
        master.submit(coding)
        frame, _ = reliability_frame(project, "thabs")
        assert single not in set(frame["session_id"]) and "M" not in set(frame["rater_id"])
        assert not any(d.session_id == single for d in find_discrepancies(project, "thabs"))


def test_unknown_scale_is_a_clear_error(project) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError, match="no scale 'nope'"):
        reliability_frame(project, "nope")


def test_pair_matrix_is_symmetric() -> None:
    m = pair_matrix(
        ["A", "B", "C"],
        [
            {"raters": ["A", "B"], "count": 2},
            {"raters": ["A", "C"], "count": 1},
            {"raters": ["B", "C"], "count": 0},
        ],
    )
    assert m == [[0, 2, 1], [2, 0, 0], [1, 0, 0]]


def test_a_project_without_double_coding_gives_an_empty_frame(tmp_path: Path) -> None:
    with Project.create(tmp_path / "p.scproj") as project:
        project.add_scale(load_builtin_scale("hw_adherence"))
        frame, ranges = reliability_frame(project, "hw_adherence")
        assert frame.empty and list(frame.columns) == ["session_id", "rater_id", "item_id", "score"]
        assert ranges == {"adherence": (0, 6)}
        assert submission_order(project, "hw_adherence") == {}
        assert find_discrepancies(project, "hw_adherence") == []
