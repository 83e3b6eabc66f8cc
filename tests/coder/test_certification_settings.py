"""Typed certification settings: checked in one place, parsed and stored by the store."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from coder.certification import (
    certification_required,
    certification_settings,
    criterion_for,
    schedule_recalibration,
    set_criterion,
    set_override,
    set_require_certification,
)
from coder.certification_settings import (
    CertificationSettings,
    CriterionOverride,
    RaterOverride,
    RecalibrationRate,
)
from coder.errors import InputError
from coder.scales import CertificationCriterion, load_builtin_scale
from coder.store.project import Project


@pytest.fixture
def project(new_project_args: dict[str, Any]) -> Iterator[Project]:
    with Project.create(**new_project_args) as project:
        project.add_scale(load_builtin_scale("thabs"))
        project.add_raters(["A", "B"])
        yield project


def _setting_history(project: Project) -> list[tuple[str, object, object]]:
    return [(h.entity_id, h.old, h.new) for h in project.history() if h.entity == "setting"]


def test_settings_round_trip_through_their_stored_form() -> None:
    settings = (
        CertificationSettings()
        .with_required(True)
        .with_criterion("thabs", CertificationCriterion(min_icc=0.6, min_sessions=3))
        .with_override("thabs", "B", RaterOverride(False, "  left the study  "))
        .with_recalibration("thabs", RecalibrationRate(4, seed=7))
    )
    stored = settings.stored()
    assert stored["certification_overrides"] == {
        "thabs": {"B": {"allow": False, "reason": "left the study"}}
    }
    assert stored["recalibration"] == {"thabs": {"every": 4, "seed": 7}}
    assert CertificationSettings.from_stored(stored) == settings
    assert settings.override("thabs", "B") == RaterOverride(False, "left the study")
    assert settings.override("thabs", "A") is None
    # Removing the last entry of a table stores nothing for it.
    empty = settings.with_override("thabs", "B", None).with_criterion("thabs", None).stored()
    assert empty["certification_overrides"] is None and empty["certification_criteria"] is None
    with pytest.raises(TypeError):
        settings.criteria["x"] = CriterionOverride()  # type: ignore[index]


def test_a_stored_partial_criterion_keeps_the_scale_files_other_fields() -> None:
    settings = CertificationSettings.from_stored(
        {"certification_criteria": {"s": {"min_icc": 0.5}}}
    )
    base = CertificationCriterion(min_sessions=3)
    assert settings.criterion("s", base) == CertificationCriterion(min_icc=0.5, min_sessions=3)
    assert settings.criterion("other", base) == base


@pytest.mark.parametrize(
    ("stored", "message"),
    [
        ({"require_certification": "yes"}, "require_certification must be true or false"),
        ({"certification_criteria": ["ICC2"]}, "certification_criteria: expected a table"),
        (
            {"certification_criteria": {"thabs": {"min_icc": 2}}},
            r"certification_criteria\.thabs: the minimum ICC 2 is outside -1\.\.1",
        ),
        (
            {"certification_criteria": {"thabs": {"icc_form": "ICC9"}}},
            "ICC form 'ICC9' is not one of: ICC1, ICC2",
        ),
        (
            {"certification_criteria": {"thabs": {"min_kappa": 0.5}}},
            "expected some of icc_form, min_icc, min_within_one, min_sessions",
        ),
        (
            {"certification_overrides": {"thabs": {"B": {"allow": True, "reason": ""}}}},
            r"certification_overrides\.thabs\.B: say in a few words why",
        ),
        (
            {"certification_overrides": {"thabs": {"B": {"allow": "no", "reason": "x"}}}},
            "must either allow or bar",
        ),
        (
            {"recalibration": {"thabs": {"every": 1, "seed": 0}}},
            r"recalibration\.thabs: --every must be at least 2",
        ),
        ({"recalibration": {"thabs": {"seed": 0}}}, r"recalibration\.thabs: expected \{every"),
    ],
)
def test_malformed_stored_settings_name_the_setting_and_what_is_allowed(
    stored: dict[str, object], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        CertificationSettings.from_stored(stored)


def test_values_are_checked_when_settings_are_built() -> None:
    with pytest.raises(InputError, match="minimum number of training sessions must be at least 1"):
        CertificationSettings().with_criterion("s", CertificationCriterion(min_sessions=0))
    with pytest.raises(InputError, match="whole number"):
        RecalibrationRate(2.5)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="say in a few words"):
        RaterOverride(True, "   ")


def test_every_change_is_one_history_row_and_a_no_op_writes_nothing(project: Project) -> None:
    assert certification_settings(project) == CertificationSettings()
    set_require_certification(project, True)
    set_criterion(project, "thabs", CertificationCriterion(min_sessions=3))
    set_override(project, "thabs", "A", True, reason="certified before")
    assert _setting_history(project) == [
        ("require_certification", None, True),
        (
            "certification_criteria",
            None,
            {
                "thabs": {
                    "icc_form": "ICC2",
                    "min_icc": 0.7,
                    "min_within_one": 0.8,
                    "min_sessions": 3,
                }
            },
        ),
        (
            "certification_overrides",
            None,
            {"thabs": {"A": {"allow": True, "reason": "certified before"}}},
        ),
    ]
    set_require_certification(project, True)  # already on: nothing to write
    assert len(_setting_history(project)) == 3
    settings = certification_settings(project)
    assert settings.required and certification_required(project)
    assert criterion_for(project, "thabs").min_sessions == 3
    assert settings.override("thabs", "A") == RaterOverride(True, "certified before")
    set_override(project, "thabs", "A", None)
    assert _setting_history(project)[-1] == (
        "certification_overrides",
        {"thabs": {"A": {"allow": True, "reason": "certified before"}}},
        None,
    )
    assert "certification_overrides" not in project.settings()


def test_lead_inputs_are_checked_before_anything_is_written(project: Project) -> None:
    with pytest.raises(InputError, match="the criterion of thabs: .*write 0.8 for 80 %"):
        set_criterion(project, "thabs", CertificationCriterion(min_within_one=80))
    with pytest.raises(InputError, match="say in a few words why"):
        set_override(project, "thabs", "A", False, reason=" ")
    with pytest.raises(InputError, match="--every must be at least 2"):
        schedule_recalibration(project, "thabs", every=1)
    with pytest.raises(InputError, match="one in every N sessions"):
        schedule_recalibration(project, "thabs")
    assert _setting_history(project) == []
    schedule_recalibration(project, "thabs", every=3)
    assert certification_settings(project).recalibration == {"thabs": RecalibrationRate(3, 0)}
