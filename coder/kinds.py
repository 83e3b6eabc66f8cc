"""The named states and roles of a coding, as string enums.

The values are what the database stores (the ``state`` and ``role`` columns), so a
member compares equal to its string and can be written to a row or a JSON document
as it is. :mod:`coder.analysis_set` re-exports both enums.
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
