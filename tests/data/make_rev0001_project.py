"""Re-create ``project_rev0001.scproj``: a project saved by schema revision r0001.

Run once (``python tests/data/make_rev0001_project.py``) when the fixture must be
rebuilt; the file is committed so the migration test always opens a real old file.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, text

from coder.scales import load_builtin_scale
from coder.store.engine import _alembic_config

HERE = Path(__file__).parent
TARGET = HERE / "project_rev0001.scproj"

ROWS = [
    "INSERT INTO project VALUES (1, 'old study', '2025-03-01 10:00:00', '{}')",
    "INSERT INTO raters VALUES (1, 'R1', '', 1, '2025-03-01 10:00:00')",
    "INSERT INTO raters VALUES (2, 'R2', '', 1, '2025-03-01 10:00:00')",
    "INSERT INTO audio_files VALUES (1, '/lab/audio/s1.wav', 1000, 180000, 16000, 1, "
    "'ab' || printf('%062d', 0), 'WAV')",
    "INSERT INTO sessions VALUES (1, 'S1', 'P1', 'T1', 2, 'I', '2025-01-10', '{\"site\": \"A\"}', "
    "1, 'ok', '')",
    "INSERT INTO codings VALUES (1, 1, 1, 1, NULL, 'primary', 0, 'submitted', '', '', "
    "'2025-03-02 09:00:00', '2025-03-02 09:30:00')",
    "INSERT INTO ratings VALUES (1, 1, 'adherence', 4.0, NULL, '2025-03-02 09:10:00')",
    "INSERT INTO notes VALUES (1, 1, 61500, 'client reports the task', 0)",
    "INSERT INTO history VALUES (1, '2025-03-02 09:10:00', 'R1', 'set', 'rating', 'adherence', "
    "1, 'adherence', NULL, '4.0')",
]


def main() -> None:
    TARGET.unlink(missing_ok=True)
    engine = create_engine(f"sqlite:///{TARGET}")
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "r0001")
        scale = load_builtin_scale("hw_adherence")
        conn.execute(
            text("INSERT INTO scales VALUES (1, :sid, :ver, :name, :src, '2025-03-01 10:00:00')"),
            {"sid": scale.id, "ver": scale.version, "name": scale.name, "src": scale.source},
        )
        for row in ROWS:
            conn.execute(text(row))
    engine.dispose()
    print(f"wrote {TARGET}")


if __name__ == "__main__":
    main()
