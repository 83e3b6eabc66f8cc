"""Benchmark of lab mode's row-level security: a rater's scoring through the blinded
views and row policies, against the same work by the owner (no policies).

Run with ``python bench/lab_rls.py [--sessions N] [--raters R] [--changes K]``. It starts
a throw-away PostgreSQL server (as the tests do, or uses $SESSION_CODER_TEST_PG_URL),
makes a project of N sessions, each coded by two of R raters, and times K score changes
(each one transaction with its history row) and K loads of a coding, through a rater's
own login and through the owner's, alternately, best of three each. The ratio is rater
time / owner time. Target: the policies cost at most half again (ratio under 1.5).

The last printed line is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy.engine import make_url  # noqa: E402

from coder.scales import load_builtin_scale  # noqa: E402
from coder.store.project import Project  # noqa: E402
from tests.factories import add_plain_sessions, session  # noqa: E402
from tests.pg_server import start_postgres  # noqa: E402

TARGET_RATIO = 1.5
ITEMS = ("specification", "rationale", "troubleshooting", "review", "praise")


def _work(url: str, rater: str, changes: int) -> tuple[float, float]:
    """Seconds for ``changes`` score changes, and for ``changes`` coding loads."""
    with Project.open(url) as project:
        view = project.rater_view(rater)
        queue = view.queue()
        start = time.perf_counter()
        for i in range(changes):
            entry = queue[i % len(queue)]
            view.set_value(entry.coding_id, ITEMS[i % len(ITEMS)], i % 5)
        writes = time.perf_counter() - start
        start = time.perf_counter()
        for i in range(changes):
            view.coding(queue[i % len(queue)].coding_id)
        reads = time.perf_counter() - start
    return writes, reads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=400)
    parser.add_argument("--raters", type=int, default=10)
    parser.add_argument("--changes", type=int, default=300)
    args = parser.parse_args()
    server, why = start_postgres()
    if server is None:
        sys.exit(f"no PostgreSQL server: {why}")
    name = f"bench_{uuid.uuid4().hex[:8]}"
    server.create_database(name)
    try:
        url = server.url(name)
        codes = [f"R{i}" for i in range(args.raters)]
        with Project.create(Path(f"/tmp/{name}.scproj"), db_url=url) as project:
            project.add_scale(load_builtin_scale("thabs"))
            add_plain_sessions(project, [session(f"S{i}") for i in range(args.sessions)])
            people = {c: project.add_person(kind="rater", code=c) for c in codes[:2]}
            project.add_raters(codes)
            for i in range(args.sessions):
                for k in (0, 1):
                    project.add_coding(f"S{i}", codes[(i + k) % args.raters], "thabs")
        rater_url = (
            make_url(url)
            .set(username=people["R1"].login, password=people["R1"].password)
            .render_as_string(hide_password=False)
        )
        _work(url, "R0", 20)  # warm up the server's caches
        # Alternating, best of three each: the machine's other load hits both alike.
        runs = [(_work(url, "R1", args.changes), _work(rater_url, "R1", args.changes))]
        runs += [(_work(url, "R1", args.changes), _work(rater_url, "R1", args.changes))]
        runs += [(_work(url, "R1", args.changes), _work(rater_url, "R1", args.changes))]
        owner = (min(o[0] for o, _r in runs), min(o[1] for o, _r in runs))
        rater = (min(r[0] for _o, r in runs), min(r[1] for _o, r in runs))
        figures = {
            "sessions": args.sessions,
            "raters": args.raters,
            "changes": args.changes,
            "owner_write_s": round(owner[0], 4),
            "rater_write_s": round(rater[0], 4),
            "owner_read_s": round(owner[1], 4),
            "rater_read_s": round(rater[1], 4),
            "write_ratio": round(rater[0] / owner[0], 3),
            "read_ratio": round(rater[1] / owner[1], 3),
            "target_ratio": TARGET_RATIO,
        }
        print(
            f"{args.changes} score changes: owner {owner[0]:.3f} s, rater {rater[0]:.3f} s "
            f"(x{figures['write_ratio']}); loads: owner {owner[1]:.3f} s, rater "
            f"{rater[1]:.3f} s (x{figures['read_ratio']})"
        )
        print(json.dumps(figures))
    finally:
        server.drop_database(name)
        Path(f"/tmp/{name}.scproj").unlink(missing_ok=True)
        server.stop()


if __name__ == "__main__":
    main()
