"""Per-user settings of the app (QSettings, organisation "SessionCoder")."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

ORGANISATION = "SessionCoder"
APPLICATION = "Session Coder"

DEFAULT_SKIP_S = 5.0
DEFAULT_LONG_SKIP_S = 30.0


class AppSettings:
    """Typed access to the few settings the app keeps between runs."""

    def __init__(self, qsettings: QSettings | None = None) -> None:
        self._s = qsettings if qsettings is not None else QSettings(ORGANISATION, APPLICATION)

    @property
    def qsettings(self) -> QSettings:
        return self._s

    def _float(self, key: str, default: float) -> float:
        try:
            return float(self._s.value(key, default))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return default

    # The last project opened, reopened when the app starts without one.
    @property
    def last_project(self) -> Path | None:
        value = self._s.value("project/last", "")
        return Path(str(value)) if value else None

    @last_project.setter
    def last_project(self, path: Path | None) -> None:
        self._s.setValue("project/last", str(path) if path else "")

    @property
    def last_rater(self) -> str:
        return str(self._s.value("project/last_rater", "") or "")

    @last_rater.setter
    def last_rater(self, code: str) -> None:
        self._s.setValue("project/last_rater", code)

    @property
    def skip_s(self) -> float:
        return max(0.5, self._float("player/skip_s", DEFAULT_SKIP_S))

    @skip_s.setter
    def skip_s(self, seconds: float) -> None:
        self._s.setValue("player/skip_s", float(seconds))

    @property
    def long_skip_s(self) -> float:
        return max(1.0, self._float("player/long_skip_s", DEFAULT_LONG_SKIP_S))

    @long_skip_s.setter
    def long_skip_s(self, seconds: float) -> None:
        self._s.setValue("player/long_skip_s", float(seconds))

    @property
    def volume(self) -> float:
        return min(1.0, max(0.0, self._float("player/volume", 0.8)))

    @volume.setter
    def volume(self, value: float) -> None:
        self._s.setValue("player/volume", float(value))

    # The rater's queue shows only unfinished codings (a toggle of the start window).
    @property
    def hide_finished(self) -> bool:
        value = self._s.value("queue/hide_finished", False)
        return value is True or str(value).lower() in ("true", "1")

    @hide_finished.setter
    def hide_finished(self, hide: bool) -> None:
        self._s.setValue("queue/hide_finished", bool(hide))

    def shortcut(self, action_id: str) -> str | None:
        """The stored key sequence(s) of an action (PortableText), or None for the default."""
        value = self._s.value(f"keys/{action_id}")
        return None if value is None else str(value)

    def set_shortcut(self, action_id: str, keys: str | None) -> None:
        if keys is None:
            self._s.remove(f"keys/{action_id}")
        else:
            self._s.setValue(f"keys/{action_id}", keys)

    def sync(self) -> None:
        self._s.sync()
