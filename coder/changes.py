"""What a lead-side mutation changed, as Anki's ``OpChanges``.

A mutation the lead's window can run (a plan save, a consensus score, allowing a
coding to be reopened, an import, a certification override, ...) returns an
:class:`OpChanges`, or a result that carries one as its ``changes`` attribute. The GUI
broadcasts it once; each view compares it with what it shows and refreshes only when
they share a field. The CLI ignores it.

The fields say what kind of data changed, not which rows:

- ``sessions``: sessions and their recordings, metadata and training marks;
- ``raters``: the raters of the project;
- ``scales``: the scales (and their versions);
- ``plan``: a stored assignment plan and its parameters;
- ``assignments``: which codings exist and who codes them (plans, training,
  master codings, recalibration);
- ``codings``: the state, scores, notes or reopen permission of existing codings;
- ``certification``: certification settings, criteria and the lead's overrides, and
  the codings certification rests on (master, training and drift-check codings, which
  also set ``assignments``);
- ``consensus``: consensus scores;
- ``pools``: the named rater pools, their members and their keep-apart marks;
- ``packages``: the offline rater packages exported, their imports and open conflicts.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class OpChanges:
    """Which kinds of data a mutation changed (all False: nothing did)."""

    sessions: bool = False
    raters: bool = False
    scales: bool = False
    plan: bool = False
    assignments: bool = False
    codings: bool = False
    certification: bool = False
    consensus: bool = False
    pools: bool = False
    packages: bool = False

    def __or__(self, other: OpChanges) -> OpChanges:
        """Everything either changed: the changes of two mutations run as one."""
        if not isinstance(other, OpChanges):
            return NotImplemented
        return OpChanges(**{f: getattr(self, f) or getattr(other, f) for f in _FIELDS})

    def __and__(self, other: OpChanges) -> OpChanges:
        """What both name: ``changes & shown`` is what a view must redraw."""
        if not isinstance(other, OpChanges):
            return NotImplemented
        return OpChanges(**{f: getattr(self, f) and getattr(other, f) for f in _FIELDS})

    def __bool__(self) -> bool:
        """True when any field is set."""
        return any(getattr(self, f) for f in _FIELDS)

    def names(self) -> tuple[str, ...]:
        """The names of the fields that are set, in field order."""
        return tuple(f for f in _FIELDS if getattr(self, f))

    @classmethod
    def everything(cls) -> OpChanges:
        """Every field set: for a change whose extent is unknown (a merged package)."""
        return cls(**dict.fromkeys(_FIELDS, True))


_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(OpChanges))


def changes_of(result: Any) -> OpChanges:
    """The changes a mutation's result reports.

    Args:
        result: What the mutation returned: an :class:`OpChanges`, or an object with a
            ``changes`` attribute holding one (an import report, a saved plan).

    Raises:
        TypeError: the result reports no changes (the function is not a mutation that
            says what it changed).
    """
    if isinstance(result, OpChanges):
        return result
    changes = getattr(result, "changes", None)
    if isinstance(changes, OpChanges):
        return changes
    raise TypeError(
        f"a mutation must return OpChanges or a result with a 'changes' attribute, "
        f"not {type(result).__name__}"
    )
