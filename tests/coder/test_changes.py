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
