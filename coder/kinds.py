"""The named states and roles of a coding, and the kinds of a scale item, as string enums.

The values are what the database stores (the ``state`` and ``role`` columns), so a
member compares equal to its string and can be written to a row or a JSON document
as it is. :mod:`coder.analysis_set` re-exports the coding enums, :mod:`coder.scales`
:class:`ItemKind`. This module needs only the standard library, so the command line
can name them without loading a scale parser.
"""

from __future__ import annotations

from enum import StrEnum


class CodingStatus(StrEnum):
    """The state of a coding (the ``state`` column of a coding)."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    UNCODABLE = "uncodable"


class CodingRole(StrEnum):
    """Why a rater codes a session (the ``role`` column; never shown to raters)."""

    PRIMARY = "primary"
    SECOND = "second"
    TRAINING = "training"
    MASTER = "master"
    CERTIFICATION = "certification"
    RECALIBRATION = "recalibration"


#: States of a finished coding: submitted ones carry scores, uncodable ones a reason.
FINISHED_STATUSES: frozenset[str] = frozenset({CodingStatus.SUBMITTED, CodingStatus.UNCODABLE})


class ItemKind(StrEnum):
    """How an item is scored (the ``kind`` key of an item in a scale file).

    Ordinal, nominal and count items take whole numbers, a duration item seconds
    (usually the sum of its marked spans), a text item free text.
    """

    ORDINAL = "ordinal"
    DURATION = "duration"
    COUNT = "count"
    NOMINAL = "nominal"
    TEXT = "text"
