"""Shared fixtures. The Qt platform and the user's folders are set before anything can
create a QApplication or import the app."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _ram_folder() -> str | None:
    """/dev/shm if it is a writable tmpfs (RAM): SQLite's fsync on every commit costs
    nothing there, and it was a third of the time of the tests that write a lot."""
    if os.environ.get("SESSION_CODER_TESTS_ON_DISK") or not os.access("/dev/shm", os.W_OK):
        return None
    try:
        with open("/proc/mounts", encoding="utf-8") as mounts:
            kinds = {f[1]: f[2] for f in (line.split() for line in mounts) if len(f) > 2}
    except OSError:
        return None
    return "/dev/shm" if kinds.get("/dev/shm") == "tmpfs" else None


# Every file of the run (pytest's tmp_path folders, tempfile's, the PostgreSQL data
# folder, the home below) goes into one folder, in RAM where the machine has it
# (SESSION_CODER_TESTS_ON_DISK=1 keeps it on disk), removed when the run ends. Its mode
# lets the 'postgres' user reach the data folder that tests/pg_server.py gives it.
SCRATCH = tempfile.mkdtemp(prefix="session-coder-tests-", dir=_ram_folder())
os.chmod(SCRATCH, 0o711)
atexit.register(shutil.rmtree, SCRATCH, ignore_errors=True)
os.environ["TMPDIR"] = tempfile.tempdir = os.path.join(SCRATCH, "tmp")
os.mkdir(tempfile.tempdir, 0o711)

# The whole run gets a private home, set here, before any test module imports the app:
# caches (waveform peaks), settings (QSettings reads XDG_CONFIG_HOME once per process),
# logs and Path.home() all land in it. The per-test folders below refine this, but code
# that runs outside a test (at import, in a worker thread that outlives its test, at
# exit) would otherwise write into the real ~/.cache/session-coder.
REAL_HOME = os.path.expanduser("~")
SESSION_HOME = tempfile.mkdtemp(prefix="session-coder-tests-home-")
os.environ["HOME"] = SESSION_HOME
for _name, _sub in (
    ("XDG_CONFIG_HOME", ".config"),
    ("XDG_DATA_HOME", ".local/share"),
    ("XDG_CACHE_HOME", ".cache"),
    ("XDG_STATE_HOME", ".local/state"),
):
    os.environ[_name] = os.path.join(SESSION_HOME, _sub)

import subprocess  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

from tests.pg_server import PostgresServer, start_postgres  # noqa: E402

# CI explores the same examples on every run (a run that passed on main passes again);
# developers' runs keep drawing new ones, which is how new edge cases are found.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


def pytest_configure(config: pytest.Config) -> None:
    """pytest's temporary folders go into the run's scratch folder too (unless given)."""
    if config.option.basetemp is None:
        config.option.basetemp = os.path.join(SCRATCH, "pytest")


@pytest.fixture(autouse=True)
def _isolated_user_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Settings, caches and logs of the app go to a per-test folder, never $HOME."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL server on loopback: $SESSION_CODER_TEST_PG_URL, or one started here.

    Skipped with the reason when no server can be had locally; in CI (CI=true) that is
    a failure instead, so the PostgreSQL half of the suite can never silently vanish.
    """
    server, why = start_postgres()
    if server is None:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI: {why}")
        pytest.skip(f"no PostgreSQL server: {why}")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_with_passwords() -> Iterator[PostgresServer]:
    """A PostgreSQL server of its own that checks passwords (scram-sha-256 on TCP).

    For the lab-mode logins: the usual server trusts every login, so it cannot tell a
    wrong password from a right one. Skipped or failed as ``postgres`` is.
    """
    server, why = start_postgres(password="owner-pw-" + uuid.uuid4().hex[:8])
    if server is None:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI: {why}")
        pytest.skip(f"no PostgreSQL server: {why}")
    yield server
    server.stop()


@pytest.fixture
def pg_url(postgres: PostgresServer) -> Iterator[str]:
    """The URL of a fresh, empty database on the test server (dropped afterwards)."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    postgres.create_database(name)
    yield postgres.url(name)
    postgres.drop_database(name)


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def new_project_args(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> dict[str, object]:
    """Arguments for Project.create on the backend under test."""
    path = tmp_path / "study.scproj"
    if backend == "postgres":
        return {"path": path, "db_url": request.getfixturevalue("pg_url")}
    return {"path": path, "db_url": None}


# The demo build makes 24 synthetic recordings (about 28 s of CPU, most of it Vorbis
# encoding). It runs as a real `session-coder demo` process, started as soon as the
# tests are collected, beside them; the tests that use it run last, so by then it is
# usually done. Under pytest-xdist (./dev test
# runs a worker per core) the workers share one build: the first to create the shared
# folder starts it, and every worker waits for the exit code it writes.
_DEMO: dict[str, object] = {}
DEMO_TIMEOUT_S = 600.0


def _uses_demo(item: pytest.Item) -> bool:
    return "demo_project" in getattr(item, "fixturenames", ())


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the tests on the demo project last (a stable sort keeps every other order)."""
    items.sort(key=_uses_demo)


def _demo_folder(config: pytest.Config) -> Path:
    """The demo's folder, the same for every process of this run.

    An xdist worker's pytest base folder is a subfolder of the controller's (made before
    the workers start), so the folder above it is the one all workers share. A run in
    one process uses its scratch folder (pytest empties its base folder after
    collection).
    """
    if hasattr(config, "workerinput"):
        return Path(config.option.basetemp).parent / "demo-build"
    return Path(SCRATCH) / "demo-build"


def _wait_and_record(process: subprocess.Popen[bytes], folder: Path) -> None:
    """Write the build's exit code where every worker looks for it (atomically)."""
    code = process.wait()
    partial = folder / "exitcode.partial"
    partial.write_text(str(code))
    partial.replace(folder / "exitcode")


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start building the demo project in the background if a selected test needs it."""
    if session.config.option.collectonly or not any(_uses_demo(i) for i in session.items):
        return
    folder = _demo_folder(session.config)
    _DEMO["folder"] = folder
    try:
        folder.mkdir(parents=True)
    except FileExistsError:
        return  # another worker of this run builds it
    log = (folder / "build.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "launcher", "demo", str(folder / "demo"), "--no-gui"],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        # At the tests' own priority: with a worker per core nothing is left idle, and at
        # a low priority a busy machine starved it past the tests' 5-minute timeout.
    )
    recorder = threading.Thread(target=_wait_and_record, args=(process, folder), daemon=True)
    recorder.start()
    _DEMO.update(log=log, process=process, recorder=recorder)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Let a demo build that other workers may still wait for finish; stop it when the
    run was interrupted (its pool workers die with it)."""
    process = _DEMO.pop("process", None)
    if isinstance(process, subprocess.Popen):
        if exitstatus == pytest.ExitCode.INTERRUPTED or not hasattr(session.config, "workerinput"):
            process.kill()
        try:
            process.wait(timeout=DEMO_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        recorder = _DEMO.pop("recorder", None)
        if isinstance(recorder, threading.Thread):
            recorder.join()
    log = _DEMO.pop("log", None)
    if log is not None:
        log.close()  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def demo_project(request: pytest.FixtureRequest) -> Path:
    """The built-in demo project, built once per run by a real ``session-coder demo``.

    It is shared by every test (and every xdist worker) that asks for it: tests must not
    change it (copy it first).
    """
    folder = _DEMO.get("folder")
    assert isinstance(folder, Path), "the demo build was not started at collection"
    exitcode = folder / "exitcode"
    deadline = time.monotonic() + DEMO_TIMEOUT_S
    while not exitcode.exists():
        assert time.monotonic() < deadline, "the demo build did not finish in time"
        time.sleep(0.1)
    code = int(exitcode.read_text())
    log = folder / "build.log"
    assert code == 0, f"session-coder demo failed with exit {code}:\n{log.read_text()}"
    assert "demo project built" in log.read_text()
    return folder / "demo" / "demo.scproj"
