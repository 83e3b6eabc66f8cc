"""Information prepared by the lab, shown to raters read-only (issue 13, item 6).

In Haller & Watzke, research assistants filled in the second homework log before the
rating, and the raters saw it. The lead chooses per scale which manifest columns or
lead-entered values the raters see; everything else stays hidden, the choice is in the
history (never the texts), and the texts reach an export only when asked.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pandas as pd
import psycopg
import pytest
from sqlalchemy.engine import make_url

from coder.errors import InputError
from coder.export_data import build_export_bundle
from coder.packages import export_package, open_package
from coder.prepared_fields import overview, set_value, show_fields
from coder.scales import load_builtin_scale
from coder.store.project import Project
from exports import write_export
from tests.cli import run_cli
from tests.factories import add_plain_sessions, make_project, session

LOG = "completed the thought record twice, skipped the walk (confidential)"
SECRET = "referral: Dr Secret"


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    project = make_project(
        tmp_path / "prep.scproj",
        scales=("ghes", "thabs"),
        raters=("R1", "R2"),
        sessions=[
            session(
                "S1",
                patient="P1",
                session_number=2,
                metadata={"homework_log": LOG, "referral": SECRET, "window_offset": "10"},
            ),
            session("S2", patient="P1", session_number=3, metadata={"homework_log": "none"}),
        ],
    )
    yield project
    project.close()


def test_raters_see_the_chosen_fields_of_their_scale_only(project: Project) -> None:
    set_value(project, "S1", "assistant_log", "walked twice")
    assert show_fields(project, "ghes", ["homework_log", "assistant_log"])
    assert not show_fields(project, "ghes", ["homework_log", "assistant_log"])  # unchanged
    ghes = project.add_coding("S1", "R1", "ghes", role="primary")
    thabs = project.add_coding("S1", "R1", "thabs", role="primary")
    other = project.add_coding("S2", "R2", "ghes", role="primary")
    view = project.rater_view("R1")
    state = view.coding(ghes)
    assert [(f.name, f.value) for f in state.prepared] == [
        ("homework_log", LOG),
        ("assistant_log", "walked twice"),
    ]
    assert view.coding(thabs).prepared == ()  # THABS shows nothing
    # S2 has no entered value: an empty field, in the lead's order.
    assert [(f.name, f.value) for f in project.rater_view("R2").coding(other).prepared] == [
        ("homework_log", "none"),
        ("assistant_log", ""),
    ]
    # The lead's entered value wins over the manifest's, and "" removes it again.
    set_value(project, "S1", "homework_log", "checked by the RA")
    assert view.coding(ghes).prepared[0].value == "checked by the RA"
    set_value(project, "S1", "homework_log", "")
    assert view.coding(ghes).prepared[0].value == LOG
    # The choice and each entry are in the history; no text ever is.
    history = project.history()
    shown = [h for h in history if h.action == "show_fields"]
    assert [(h.entity_id, h.old, h.new) for h in shown] == [
        ("ghes", [], ["homework_log", "assistant_log"])
    ]
    entered = [(h.entity_id, h.field, h.new) for h in history if h.action == "prepare_field"]
    assert entered == [
        ("S1", "assistant_log", "entered"),
        ("S1", "homework_log", "entered"),
        ("S1", "homework_log", "removed"),
    ]
    dumped = json.dumps([[str(h.old), str(h.new)] for h in history])
    assert LOG not in dumped and "walked twice" not in dumped and "RA" not in dumped


def test_bad_choices_are_refused_and_change_nothing(project: Project) -> None:
    with pytest.raises(InputError, match="no session has the field 'nope'.*homework_log"):
        show_fields(project, "ghes", ["homework_log", "nope"])
    with pytest.raises(InputError, match="window_offset moves the coding window"):
        show_fields(project, "ghes", ["window_offset"])
    with pytest.raises(InputError, match="named twice"):
        show_fields(project, "ghes", ["homework_log", "homework_log"])
    with pytest.raises(InputError):
        show_fields(project, "nosuchscale", ["homework_log"])
    with pytest.raises(InputError, match="no session 'S9'"):
        set_value(project, "S9", "assistant_log", "x")
    with pytest.raises(InputError, match="limit is 2,000"):
        set_value(project, "S1", "assistant_log", "x" * 2001)
    assert overview(project).shown == {}
    assert overview(project).entered == {}
    assert not [h for h in project.history() if h.action in ("show_fields", "prepare_field")]


def test_the_texts_reach_an_export_only_when_asked(project: Project, tmp_path: Path) -> None:
    set_value(project, "S1", "assistant_log", "walked twice")
    show_fields(project, "ghes", ["homework_log", "assistant_log"])
    coding = project.add_coding("S1", "R1", "ghes", role="primary")
    view = project.rater_view("R1")
    for item in ("engagement", "as_agreed", "difficult_times", "intensity"):
        view.set_value(coding, item, 2)
    for item in ("difficulties", "benefit", "time_spent"):
        view.set_value(coding, item, 1)
    view.submit(coding)
    plain = build_export_bundle(project)
    written = write_export(plain, "csv", tmp_path / "plain.csv")
    written += write_export(plain, "xlsx", tmp_path / "plain.xlsx")
    for path in written:
        if path.suffix == ".csv" or path.suffix == ".txt":
            text = path.read_text(encoding="utf-8")
        else:
            wb = openpyxl.load_workbook(path, read_only=True)
            text = " ".join(
                str(c.value) for ws in wb.worksheets for r in ws.iter_rows() for c in r if c.value
            )
            wb.close()
        assert LOG not in text and "walked twice" not in text, path.name
    asked = build_export_bundle(project, include_metadata=True)
    xlsx = write_export(asked, "xlsx", tmp_path / "asked.xlsx")[0]
    final = pd.read_excel(xlsx, sheet_name="final_ghes").set_index("session_id")
    assert final.loc["S1", "meta_homework_log"] == LOG
    assert final.loc["S1", "meta_assistant_log"] == "walked twice"


def test_the_cli_chooses_enters_and_lists_without_printing_a_value(
    project: Project, tmp_path: Path
) -> None:
    path = str(project.store.location.path)
    project.close()
    value = tmp_path / "log.txt"
    value.write_text("assistant's notes on S2\n", encoding="utf-8")
    done = run_cli("fields", "set", path, "S2", "assistant_log", "--file", str(value))
    assert done.returncode == 0, done.stderr
    assert "assistant" not in done.stdout.replace("assistant_log", "")
    done = run_cli("fields", "show", path, "--scale", "ghes", "homework_log", "assistant_log")
    assert done.returncode == 0 and "homework_log, assistant_log" in done.stdout
    listed = run_cli("fields", "list", path, "--json")
    doc = json.loads(listed.stdout)
    assert doc["shown"] == {"ghes": ["homework_log", "assistant_log"]}
    assert doc["manifest_fields"] == {"homework_log": 2, "referral": 1}
    assert doc["entered_fields"] == {"assistant_log": 1}
    text = run_cli("fields", "list", path).stdout
    assert LOG not in text and "notes on S2" not in text and "ghes: raters see" in text
    bad = run_cli("fields", "show", path, "--scale", "ghes", "patient_name")
    assert bad.returncode == 2 and "no session has the field 'patient_name'" in bad.stderr
    bad = run_cli("fields", "set", path, "S2", "assistant_log")
    assert bad.returncode == 2 and "--text TEXT or --file PATH" in bad.stderr
    done = run_cli("fields", "hide", path, "--scale", "ghes", "--field", "homework_log")
    assert done.stdout.strip() == "raters of ghes see, read-only: assistant_log"
    done = run_cli("fields", "hide", path, "--scale", "ghes")
    assert "no prepared field" in done.stdout
    with Project.open(path) as again:
        assert overview(again).shown == {}


@pytest.mark.postgres
def test_in_lab_mode_a_raters_login_gets_only_the_chosen_fields(
    pg_url: str, tmp_path: Path
) -> None:
    pointer = tmp_path / "lab.scproj"
    with Project.create(pointer, db_url=pg_url) as project:
        for scale_id in ("ghes", "thabs"):
            project.add_scale(load_builtin_scale(scale_id))
        add_plain_sessions(
            project,
            [
                session(
                    "S1",
                    patient="P-secret",
                    metadata={"homework_log": LOG, "referral": SECRET, "window_offset": "10"},
                ),
                session("S2", metadata={"homework_log": "other rater's log"}),
            ],
        )
        r1 = project.add_person(kind="rater", code="R1")
        project.add_person(kind="rater", code="R2")
        mine = project.add_coding("S1", "R1", "ghes", role="primary")
        thabs = project.add_coding("S1", "R1", "thabs", role="primary")
        theirs = project.add_coding("S2", "R2", "ghes", role="primary")
        set_value(project, "S1", "assistant_log", "walked twice")
        show_fields(project, "ghes", ["assistant_log", "homework_log"])
    login = make_url(pg_url).set(username=r1.login, password=r1.password)
    with Project.open(login.render_as_string(hide_password=False)) as project:
        assert project.login_kind() == "rater"
        view = project.rater_view("R1")
        assert [(f.name, f.value) for f in view.coding(mine).prepared] == [
            ("assistant_log", "walked twice"),
            ("homework_log", LOG),
        ]
        assert view.coding(thabs).prepared == ()
        assert view.coding(mine).window_offset_ms == 10_000
    libpq = login.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq, autocommit=True) as conn:
        # Another rater's coding: nothing. The metadata and settings stay closed.
        assert conn.execute("SELECT public.sc_prepared_fields(%s)", (theirs,)).fetchall() == [
            ("[]",)
        ]
        assert conn.execute("SELECT metadata_json FROM sessions").fetchall() == [
            ('{"window_offset": "10"}',)
        ]
        assert conn.execute("SELECT settings_json FROM project").fetchall() == [("{}",)]
        with pytest.raises(psycopg.Error, match="permission denied"):
            conn.execute("SELECT settings_json FROM public.project")
        raw = conn.execute("SELECT public.sc_prepared_fields(%s)", (mine,)).fetchone()
        assert raw is not None and SECRET not in raw[0]


def test_an_offline_package_carries_the_shown_fields_and_nothing_else(
    project: Project, tmp_path: Path
) -> None:
    set_value(project, "S1", "assistant_log", "walked twice")
    show_fields(project, "ghes", ["homework_log", "assistant_log"])
    project.add_coding("S1", "R1", "ghes", role="primary")
    project.add_coding("S2", "R2", "ghes", role="primary")  # not R1's: not in the package
    project.add_coding("S1", "R1", "thabs", role="primary")
    out = tmp_path / "R1.scpkg"
    export_package(project, "R1", out)
    with open_package(out) as package:
        by_scale = {q.scale_id: package.view.coding(q.coding_id) for q in package.view.queue()}
    assert [(f.name, f.value) for f in by_scale["ghes"].prepared] == [
        ("homework_log", LOG),
        ("assistant_log", "walked twice"),
    ]
    assert by_scale["thabs"].prepared == ()
    assert set(by_scale) == {"ghes", "thabs"}
    # The file holds the shown texts of R1's session only: no other column, no S2.
    raw = b"".join(
        str(row).encode()
        for row in sqlite3.connect(out).execute("SELECT settings_json FROM project")
    )
    assert b"walked twice" in raw and SECRET.encode() not in raw and b"none" not in raw
    assert SECRET.encode() not in out.read_bytes()
