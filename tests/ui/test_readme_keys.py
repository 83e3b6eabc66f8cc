"""The README's key table shows the keys the app really has (and says F1 shows them)."""

from __future__ import annotations

from pathlib import Path

from ui.keymap import ACTIONS

README = Path(__file__).resolve().parents[2] / "README.md"
# Qt's name of a media key, as the README writes it for people.
SPOKEN = {"Toggle Media Play/Pause": "media Play/Pause key"}


def _key_section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("### Keys in the coding window")
    return text[start : text.index("\n### ", start + 1)]


def test_readme_lists_every_default_key() -> None:
    section = _key_section()
    missing = [
        f"{spec.label}: {key}"
        for spec in ACTIONS
        for key in spec.defaults
        if (f"`{key}`" not in section and SPOKEN.get(key, "\0") not in section)
    ]
    assert not missing, f"README.md's key table lacks: {missing}"


def test_readme_says_f1_shows_the_keyboard_map() -> None:
    assert "**F1**" in _key_section()
