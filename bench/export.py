"""Benchmark: the full xlsx export of a finished project vs pandas ``to_excel`` of one table.

Usage::

    python bench/export.py [--sessions 5000] [--items 30] [--repeats 1] [--seed 1]
                           [--keep DIR]

Builds a SQLite project in bulk through the store (``add_sessions``,
``load_codings``, with their checks and history rows): one scale of ``--items`` items (all ordinal
0-4 but the last, a duration item with a marked span) and three composites, every
session coded by two raters of a pool of six (every session double-coded: the
largest pairs sheet), one timestamped note per coding, a few uncodable codings and a
few still in progress. Then, in the same run:

- bundle: :func:`coder.export_data.build_export_bundle` (bulk reads, composites,
  pairs, final, reliability of every item, descriptives);
- ours: :func:`exports.xlsx_export.write_xlsx`, every sheet (README, codebook, the
  scale's scores, final and pairs, long, reliability, descriptives, notes, spans,
  uncodable, uncodable_counts, plan);
- baseline: ``bundle.scale_table("scores", scale).to_excel(path, index=False)``, the
  scale's scores sheet alone, the plain pandas way (openpyxl engine);
- extra figures: the csv and sav writers.

Each side's time is the best of ``--repeats`` rounds, interleaved. The last line of
output is one JSON object with the figures, the baseline, the ratio (ours / baseline)
and the target (<= 1.0: all sheets no slower than pandas' one sheet).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

try:
    import coder  # noqa: F401
except ImportError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from coder.export_data import build_export_bundle  # noqa: E402
from coder.scales import parse_scale  # noqa: E402
from coder.store.bulk import LoadedCoding, load_codings  # noqa: E402
from coder.store.project import Project  # noqa: E402
from coder.store.sessions import NewSession, add_sessions  # noqa: E402
from exports.csv_export import write_csv  # noqa: E402
from exports.spss_export import write_sav  # noqa: E402
from exports.xlsx_export import sheet_tables, write_xlsx  # noqa: E402

TARGET_RATIO = 1.0
RATERS = ("R1", "R2", "R3", "R4", "R5", "R6")


def scale_yaml(items: int) -> str:
    lines = [
        "id: bench",
        "name: Benchmark scale",
        "version: 1",
        "citation: none",
        "instructions: Rate each item.",
        "rated: client",
        "window: whole",
        "applies_to: all",
        "items:",
    ]
    for i in range(1, items):
        lines += [
            f"  - id: item{i:02d}",
            f"    label: Item {i}",
            "    kind: ordinal",
            "    min: 0",
            "    max: 4",
            "    anchors: {0: not at all, 4: very much}",
        ]
    lines += ["  - id: seconds", "    label: Time spent (seconds)", "    kind: duration"]
    half = max(1, (items - 1) // 2)
    first = ", ".join(f"item{i:02d}" for i in range(1, half + 1))
    second = ", ".join(f"item{i:02d}" for i in range(half + 1, items)) or "item01"
    every = ", ".join(f"item{i:02d}" for i in range(1, items))
    lines += [
        "composites:",
        f"  - {{id: part_a, label: Subscale A, method: sum, items: [{first}]}}",
        f"  - {{id: part_b, label: Subscale B, method: mean, items: [{second}]}}",
        f"  - {{id: total, label: Total, method: mean, items: [{every}]}}",
    ]
    return "\n".join(lines) + "\n"


def build_project(path: Path, sessions: int, items: int, seed: int) -> Project:
    """A finished project, written in bulk through the store (seconds, not per keystroke)."""
    rng = np.random.default_rng(seed)
    project = Project.create(path, name="bench")
    project.add_scale(parse_scale(scale_yaml(items)))
    project.add_raters(RATERS)
    ordinal = [f"item{i:02d}" for i in range(1, items)]
    start = datetime(2025, 1, 1, tzinfo=UTC)
    add_sessions(
        project,
        [
            NewSession(
                key=f"S{i:05d}",
                patient=f"P{i // 10:04d}",
                therapist=f"T{i % 40:02d}",
                session_number=i % 10 + 1,
                phase="I" if i % 10 < 4 else "II",
                audio_status="ok",
            )
            for i in range(sessions)
        ],
    )
    first = rng.integers(0, len(RATERS), sessions)
    second = (first + rng.integers(1, len(RATERS), sessions)) % len(RATERS)
    plan: list[tuple[int, str, str, str]] = []  # session, rater, role, state
    for i in range(sessions):
        for role, r in (("primary", first[i]), ("second", second[i])):
            state = "submitted"
            if i % 500 == 7 and role == "second":
                state = "in_progress"
            elif i % 400 == 3:
                state = "uncodable"
            plan.append((i, RATERS[r], role, state))
    true_score = rng.integers(0, 5, (len(plan), 1))
    noise = rng.integers(-1, 2, (len(plan), len(ordinal)))
    values = np.clip(true_score + noise, 0, 4)
    codings: list[LoadedCoding] = []
    for n, (i, rater, role, state) in enumerate(plan):
        note = (int(rng.integers(0, 3_000_000)), "client talks about the week")
        scores: dict[str, float] = {}
        spans: list[tuple[str, int, int]] = []
        if state != "uncodable":
            length = int(rng.integers(20, 300)) * 1000
            spans.append(("seconds", 600_000, 600_000 + length))
            scores = {item: float(v) for item, v in zip(ordinal, values[n], strict=True)}
            scores["seconds"] = length / 1000
        codings.append(
            LoadedCoding(
                session_key=f"S{i:05d}",
                rater=rater,
                role=role,
                state=state,
                values=scores,
                notes=[note],
                spans=spans,
                uncodable_reason="Audio failure" if state == "uncodable" else "",
                uncodable_text="silent" if state == "uncodable" else "",
                submitted_at=start + timedelta(minutes=i) if state != "in_progress" else None,
                queue_position=i,
            )
        )
    load_codings(project, "bench", codings)
    return project


def best_of(repeats: int, fn: Any) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=5000)
    parser.add_argument("--items", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, default=None, help="write the files here")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        project = build_project(folder / "bench.scproj", args.sessions, args.items, args.seed)
        setup = time.perf_counter() - t0
        print(f"project: {args.sessions} sessions x 2 coders x {args.items} items ({setup:.1f} s)")
        try:
            bundle_time = best_of(args.repeats, lambda: build_export_bundle(project))
            bundle = build_export_bundle(project)
        finally:
            project.close()
        sheets = {name: list(frame.shape) for name, frame in sheet_tables(bundle).items()}
        cells_all = sum(int(np.prod(shape)) for shape in sheets.values())
        scores = bundle.scale_table("scores", bundle.scales[0].id)
        cells_scores = int(np.prod(scores.shape))
        print(f"bundle built in {bundle_time:.2f} s; tables: {sheets}")

        ours: list[float] = []
        base: list[float] = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            write_xlsx(bundle, folder / "export.xlsx")
            ours.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            scores.to_excel(folder / "baseline.xlsx", index=False)
            base.append(time.perf_counter() - t0)
        csv_time = best_of(args.repeats, lambda: write_csv(bundle, folder / "export.csv"))
        sav_time = best_of(args.repeats, lambda: write_sav(bundle, folder / "export.sav"))
        ours_best, base_best = min(ours), min(base)
        ratio = ours_best / base_best
        print(
            f"xlsx, all sheets ({cells_all:,} cells): {ours_best:.2f} s; "
            f"pandas to_excel, scores only ({cells_scores:,} cells): {base_best:.2f} s; "
            f"ratio {ratio:.2f} (target <= {TARGET_RATIO})"
        )
        print(f"csv: {csv_time:.2f} s, sav: {sav_time:.2f} s")
        figures = {
            "benchmark": "export",
            "sessions": args.sessions,
            "coders_per_session": 2,
            "items": args.items,
            "repeats": args.repeats,
            "bundle_seconds": bundle_time,
            "xlsx_all_sheets_seconds": ours_best,
            "xlsx_cells": cells_all,
            "xlsx_bytes": (folder / "export.xlsx").stat().st_size,
            "baseline": {
                "name": "pandas.DataFrame.to_excel(scores of the scale, index=False), openpyxl engine",
                "seconds": base_best,
                "cells": cells_scores,
                "bytes": (folder / "baseline.xlsx").stat().st_size,
            },
            "ratio": ratio,
            "target": TARGET_RATIO,
            "met": ratio <= TARGET_RATIO,
            "end_to_end_ratio": (bundle_time + ours_best) / base_best,
            "csv_seconds": csv_time,
            "sav_seconds": sav_time,
            "tables": sheets,
        }
    print(json.dumps(figures, allow_nan=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
