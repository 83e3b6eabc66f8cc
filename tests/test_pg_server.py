"""The throw-away PostgreSQL server of the test suite dies with the test run."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.pg_server import _bin
from tests.processes import alive, wait_until

REPO = Path(__file__).resolve().parent.parent

_STARTER = """
import sys
from tests.pg_server import start_postgres
server, why = start_postgres()
if server is None:
    print("SKIP", why, flush=True)
    sys.exit(0)
# The postmaster's pid, from its own lock file (however the helper started it).
pid_file = server._cleanup[0] / "db" / "postmaster.pid"
print("PID", pid_file.read_text().split()[0], server._cleanup[0], flush=True)
sys.stdin.read()  # wait to be killed
"""


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
@pytest.mark.skipif(_bin("initdb") is None, reason="PostgreSQL (initdb) is not installed")
def test_killing_the_test_run_ends_its_postgres_server() -> None:
    env = {k: v for k, v in os.environ.items() if k != "SESSION_CODER_TEST_PG_URL"}
    proc = subprocess.Popen(
        [sys.executable, "-c", _STARTER],
        cwd=REPO,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    server_pid = None
    data: Path | None = None
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().split()
        if line[:1] == ["SKIP"]:
            pytest.skip(" ".join(line[1:]))
        assert line[:1] == ["PID"], f"the helper did not start a server: {line}"
        server_pid, data = int(line[1]), Path(line[2])
        assert alive({server_pid})
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        wait_until(lambda: not alive({server_pid}), timeout=30, what="the postgres server to end")
    finally:
        proc.kill()
        proc.wait()
        if server_pid is not None and alive({server_pid}):
            os.kill(server_pid, signal.SIGKILL)  # the server this test started
        if data is not None:  # its data folder: the killed helper could not remove it
            shutil.rmtree(data, ignore_errors=True)
