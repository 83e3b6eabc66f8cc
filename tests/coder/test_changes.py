"""OpChanges: what a lead-side mutation changed, combined and compared."""

from __future__ import annotations

from dataclasses import dataclass, fields

import pytest

from coder.changes import OpChanges, changes_of


def test_combining_keeps_every_field_either_set() -> None:
    both = OpChanges(plan=True) | OpChanges(assignments=True, plan=False)
    assert both == OpChanges(plan=True, assignments=True)
    assert both.names() == ("plan", "assignments")


def test_a_view_redraws_only_for_a_field_it_shows() -> None:
    shown = OpChanges(sessions=True, codings=True)
    assert shown & OpChanges(codings=True, consensus=True) == OpChanges(codings=True)
    assert bool(shown & OpChanges(codings=True))
    assert not (shown & OpChanges(consensus=True, certification=True))
    assert not OpChanges()


def test_everything_sets_every_field() -> None:
    every = OpChanges.everything()
    assert every.names() == tuple(f.name for f in fields(OpChanges))
    assert every & OpChanges(raters=True) == OpChanges(raters=True)


def test_changes_of_a_result() -> None:
    @dataclass
    class Report:
        changes: OpChanges

    assert changes_of(OpChanges(scales=True)) == OpChanges(scales=True)
    assert changes_of(Report(OpChanges(sessions=True))) == OpChanges(sessions=True)
    with pytest.raises(TypeError, match="OpChanges"):
        changes_of(None)
    with pytest.raises(TypeError, match="tuple"):
        changes_of((1, 2))


# ---------------------------------------------------------------------- the mutations


def test_each_lead_mutation_says_what_it_changed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from coder.certification import set_criterion, set_override, set_require_certification
    from coder.consensus import record_consensus
    from coder.planning import PlanRequest, plan_and_save
    from tests.exports._project import build_coded_project

    project = build_coded_project(tmp_path / "study.scproj")
    try:
        saved = plan_and_save(project, PlanRequest("ghes", ("R1", "R2", "R3"), 2, (), seed=1))
        assert saved.changes == OpChanges(plan=True, assignments=True)
        plan, plan_id = saved  # still unpacks as before
        assert plan_id > 0 and len(plan.sessions) == 6
        # S01 is double-coded on thabs by R1 and R2.
        assert record_consensus(project, "thabs", "S01", "rationale", 3, "agreed") == OpChanges(
            consensus=True
        )
        # The same score again changes nothing, and says so.
        assert record_consensus(project, "thabs", "S01", "rationale", 3, "agreed") == OpChanges()
        finished = project.rater_view("R1").queue()[0].coding_id
        assert project.allow_reopen(finished) == OpChanges(codings=True)
        assert project.set_training(["S06"]) == OpChanges(sessions=True)
        certification = OpChanges(certification=True)
        assert set_override(project, "thabs", "R2", True, reason="watched live") == certification
        assert set_criterion(project, "thabs", None) == certification
        assert set_require_certification(project, True) == certification
    finally:
        project.close()


def test_import_reports_carry_their_changes() -> None:
    from coder.importer import ImportReport
    from coder.packages import ImportReport as PackageReport

    assert ImportReport("m.csv", added=1).changes == OpChanges(sessions=True)
    assert ImportReport("m.csv", updated=2).changes == OpChanges(sessions=True)
    assert ImportReport("m.csv", unchanged=5).changes == OpChanges()
    assert ImportReport("m.csv", added=1, cancelled=True).changes == OpChanges()
    merged = PackageReport("p1", "R1", {"ratings": 2, "notes": 0}, (), True)
    assert merged.changes == OpChanges(codings=True, packages=True)
    # A package whose changes were all conflicts wrote no coding, only its open conflicts.
    assert PackageReport("p1", "R1", {"ratings": 0}, (), True).changes == OpChanges(packages=True)
    # The same package again changed nothing.
    assert PackageReport("p1", "R1", {"ratings": 0}, (), False).changes == OpChanges()


def test_relink_and_recalibration_reports_carry_their_changes() -> None:
    from coder.certification import RecalibrationReport
    from coder.importer import RelinkReport

    assert RelinkReport([("S1", "/audio/s1.wav")]).changes == OpChanges(sessions=True)
    assert RelinkReport([], ["S2"]).changes == OpChanges()
    assert RecalibrationReport(5, {"A": ["S3"]}).changes == OpChanges(
        assignments=True, certification=True
    )
    assert RecalibrationReport(5, {}, rate_changed=True).changes == OpChanges(certification=True)
    assert RecalibrationReport(5, {"A": []}, {"A": 1}).changes == OpChanges()
