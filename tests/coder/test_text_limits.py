"""Text limits and NUL bytes: the same refusal on SQLite and PostgreSQL (issue 9, item 10).

PostgreSQL alone used to refuse a NUL character (with a raw driver error) and a rater
code longer than its column; SQLite stored both. Now both refuse before the database
is touched, with one message naming the field and the limit, and nothing is stored.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from coder.cli import main
from coder.errors import TextLimitError
from coder.importer import import_manifest
from coder.scales import load_builtin_scale
from coder.store.project import Project
from coder.text_limits import CODE_LIMIT, LONG_TEXT_LIMIT, METADATA_VALUE_LIMIT
from tests.factories import add_plain_sessions


@pytest.fixture
def project(new_project_args: dict[str, object]) -> Project:
    proj = Project.create(new_project_args["path"], db_url=new_project_args["db_url"])  # type: ignore[arg-type]
    proj.add_scale(load_builtin_scale("ghes"))
    proj.add_raters(["R1"])
    add_plain_sessions(proj, ["S1"])
    proj.add_coding("S1", "R1", "ghes")
    return proj


def _coding(project: Project) -> int:
    return project.rater_view("R1").queue()[0].coding_id


@pytest.mark.parametrize(
    "code,match",
    [
        (
            "R" * (CODE_LIMIT + 1),
            f"rater code 'RRRR.*is {CODE_LIMIT + 1} characters long; "
            f"the limit is {CODE_LIMIT} characters",
        ),
        ("R\x005", r"rater code 'R\\x005' contains a NUL character"),
    ],
)
def test_a_bad_rater_code_is_refused_alike_on_both_backends(
    project: Project, code: str, match: str
) -> None:
    with pytest.raises(TextLimitError, match=match):
        project.add_raters(["R2", code])
    assert [r.code for r in project.raters()] == ["R1"]  # R2 was not added either
    project.add_raters(["R" * CODE_LIMIT])  # the limit itself is fine
    project.close()


@pytest.mark.parametrize("bad", ["x" * (LONG_TEXT_LIMIT + 1), "before\x00after"])
def test_long_texts_and_nul_bytes_are_refused_in_every_rater_field(
    project: Project, bad: str
) -> None:
    view = project.rater_view("R1")
    cid = _coding(project)
    text_item = next(i.id for i in project.scale("ghes").items if i.kind == "text")
    writes = {
        "note": lambda: view.add_note(cid, 1_000, bad),
        "text answer": lambda: view.set_text(cid, text_item, bad),
        "uncodable explanation": lambda: view.set_uncodable(cid, "Other", bad),
    }
    for field, write in writes.items():
        with pytest.raises(TextLimitError, match=f"the {field} (is|contains)"):
            write()
    state = view.coding(cid)
    assert state.notes == () and not state.texts.get(text_item) and state.state != "uncodable"
    # A note at the limit is stored and read back whole.
    view.add_note(cid, 2_000, "y" * LONG_TEXT_LIMIT)
    assert view.coding(cid).notes[0].text == "y" * LONG_TEXT_LIMIT
    project.close()


def test_manifest_values_over_the_limits_are_reported_per_line(
    project: Project, tmp_path: Path
) -> None:
    manifest = tmp_path / "manifest.csv"
    long_value = "m" * (METADATA_VALUE_LIMIT + 1)
    manifest.write_text(
        "session_id,audio,patient,site\n"
        f"S2,,P2,{long_value}\n"
        "S3,,P3,north\n"
        f"S4,,{'p' * 201},north\n",
        encoding="utf-8",
    )
    report = import_manifest(project, manifest)
    reasons = {p.line: p.reason for p in report.problems if not p.imported}
    assert "value in the manifest column 'site'" in reasons[2]
    assert f"the limit is {METADATA_VALUE_LIMIT:,} characters" in reasons[2]
    assert "the patient id 'ppp" in reasons[4] and "the limit is 200 characters" in reasons[4]
    assert sorted(s.key for s in project.sessions()) == ["S1", "S3"]
    project.close()


def test_the_cli_says_which_rater_code_is_too_long(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "lab.scproj"
    assert main(["init", str(path)]) == 0
    assert main(["raters", "add", str(path), "R1", "X" * 70]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "rater code 'XXXX" in err and "limit is 64" in err
    with Project.open(path) as project:
        assert project.raters() == []
