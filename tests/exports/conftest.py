"""The scored project of ``tests/exports/_project.py`` and its export bundles."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from coder.export_data import ExportBundle, build_export_bundle
from coder.store.project import Project
from tests.exports._project import build_coded_project


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    """Built once per test module: the export tests only read it."""
    project = build_coded_project(tmp_path_factory.mktemp("export") / "study.scproj")
    yield project
    project.close()


@pytest.fixture(scope="module")
def bundle(project: Project) -> ExportBundle:
    """Primary coder's scores, winsorized at 1.5 x IQR (one duration is adjusted)."""
    return build_export_bundle(project, winsorize_iqr=1.5)


@pytest.fixture(scope="session")
def study_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The study of :func:`tests.factories.make_study_project`, built once (read only)."""
    from tests.factories import make_study_project

    path = tmp_path_factory.mktemp("study") / "study.scproj"
    make_study_project(path).close()
    return path


@pytest.fixture(scope="session")
def study(study_file: Path) -> Iterator[Project]:
    """The study, open (tests only read it)."""
    project = Project.open(study_file)
    yield project
    project.close()
