"""What the lead's progress view shows: the project's counts and its finished codings."""

from __future__ import annotations

from dataclasses import dataclass

from coder.store.progress import FinishedCoding, finished_codings
from coder.store.project import Project, ProjectStatus

__all__ = ["FinishedCoding", "ProgressData", "load_progress"]


@dataclass(frozen=True)
class ProgressData:
    """The project's status and its finished codings (those the lead may reopen)."""

    status: ProjectStatus
    finished: list[FinishedCoding]


def load_progress(project: Project) -> ProgressData:
    """Read the project's status and its finished codings (blocking: the GUI runs it in
    a worker). The number of queries does not grow with the number of raters."""
    return ProgressData(project.status(), finished_codings(project))
