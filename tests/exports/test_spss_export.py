"""The SPSS export, read back with pyreadstat."""

from __future__ import annotations

from pathlib import Path

import pyreadstat
import pytest

from coder.export_data import ExportBundle, build_export_bundle
from coder.store.project import Project
from exports import write_export
from exports.spss_export import spss_names, write_sav
from tests.exports._project import AUDIO_DIR, SECRET_METADATA
from tests.factories import add_plain_sessions

THABS_ANCHORS = {
    0.0: "not done",
    1.0: "(placeholder) done minimally",
    2.0: "(placeholder) done adequately",
    3.0: "(placeholder) done well",
    4.0: "very well done",
}


@pytest.fixture(scope="module")
def sav(bundle: ExportBundle, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sav(bundle, tmp_path_factory.mktemp("sav") / "study.sav")


def test_scores_with_variable_and_value_labels(sav: Path, bundle: ExportBundle) -> None:
    frame, meta = pyreadstat.read_sav(str(sav))
    assert len(frame) == len(bundle.scores)
    labels = meta.column_names_to_labels
    assert labels["thabs_specification"] == "Specification of the task"
    assert labels["thabs_behaviour_mean"] == "Mean of the five behaviour ratings"
    assert labels["ghes_completed_log"] == "Homework reportedly completed since the last session"
    assert labels["rater"] == "Rater code"
    assert meta.variable_value_labels["thabs_specification"] == THABS_ANCHORS
    assert meta.variable_value_labels["ghes_engagement"][4.0] == "considerably"
    assert meta.variable_value_labels["double_coded"] == {0.0: "no", 1.0: "yes"}
    assert meta.variable_measure["thabs_specification"] == "ordinal"
    assert meta.variable_measure["thabs_duration"] == "scale"
    assert "thabs_duration" not in meta.variable_value_labels
    row = frame[(frame["session_id"] == "S02") & (frame["rater"] == "R3")].iloc[0]
    assert (row["thabs_specification"], row["thabs_duration"], row["double_coded"]) == (2, 36, 1)
    assert row["thabs_behaviour_mean"] == pytest.approx(1.4)
    ghes = frame[(frame["scale_id"] == "ghes") & (frame["rater"] == "R3")].iloc[0]
    assert ghes["ghes_assigned_log"] == "none"
    assert frame["submitted_at"].notna().all()
    assert any("Final rule: primary" in line for line in meta.notes)
    assert meta.file_label.startswith("Session Coder scores")


def test_names_are_spss_safe() -> None:
    names = spss_names(
        ["global", "AND", "2nd item", "a" * 70, "a" * 70 + "b", "Score", "score", "x.y-z", "_"]
    )
    assert names["global"] == "global"
    assert names["AND"] == "AND_"
    assert names["2nd item"] == "v_2nd_item"
    assert len(names["a" * 70]) == 64 and names["a" * 70 + "b"] == "a" * 62 + "_2"
    assert (names["Score"], names["score"]) == ("Score", "score_2")
    assert names["x.y-z"] == "x_y_z"
    assert names["_"] == "var"
    assert len({n.upper() for n in names.values()}) == len(names)


def test_a_renamed_column_keeps_its_name_in_the_label(tmp_path: Path, bundle: ExportBundle) -> None:
    renamed = bundle.scores.rename(columns={"thabs_specification": "2 spec"})
    odd = ExportBundle(**{**bundle.__dict__, "scores": renamed})
    _, meta = pyreadstat.read_sav(str(write_sav(odd, tmp_path / "odd.sav")))
    assert "v_2_spec" in meta.column_names
    assert meta.column_names_to_labels["v_2_spec"].startswith("2 spec")


def test_no_audio_path_or_metadata_unless_asked(
    sav: Path, project: Project, tmp_path: Path
) -> None:
    raw = sav.read_bytes()
    assert AUDIO_DIR.encode() not in raw and SECRET_METADATA.encode() not in raw
    full = build_export_bundle(project, include_audio_paths=True, include_metadata=True)
    frame, _ = pyreadstat.read_sav(str(write_export(full, "sav", tmp_path / "f.sav")[0]))
    assert frame["audio_path"].str.startswith(AUDIO_DIR).all()
    assert (frame["meta_referral"] == SECRET_METADATA).all()


def test_nominal_items_get_their_categories_as_value_labels(tmp_path: Path) -> None:
    from coder.scales import parse_scale

    source = """\
id: mood
name: Mood
version: 1
citation: none
instructions: Rate.
rated: client
window: whole
applies_to: all
items:
  - {id: mood, label: Client mood, kind: nominal, categories: [calm, tense, angry]}
  - {id: turns, label: Turns of talk, kind: count}
"""
    with Project.create(tmp_path / "m.scproj") as project:
        project.add_scale(parse_scale(source))
        project.add_raters(["A1"])
        add_plain_sessions(project, ["X1"])
        coding = project.add_coding("X1", "A1", "mood")
        view = project.rater_view("A1")
        view.set_value(coding, "mood", 2)
        view.set_value(coding, "turns", 14)
        view.submit(coding)
        bundle = build_export_bundle(project)
    frame, meta = pyreadstat.read_sav(str(write_sav(bundle, tmp_path / "m.sav")))
    assert meta.variable_value_labels["mood_mood"] == {1.0: "calm", 2.0: "tense", 3.0: "angry"}
    assert meta.variable_measure["mood_mood"] == "nominal"
    assert (
        meta.variable_measure["mood_turns"] == "scale"
        and "mood_turns" not in meta.variable_value_labels
    )
    assert (frame["mood_mood"].iloc[0], frame["mood_turns"].iloc[0]) == (2, 14)
