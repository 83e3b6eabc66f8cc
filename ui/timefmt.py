"""Times on screen: integer milliseconds shown as m:ss (or h:mm:ss), and typed back."""

from __future__ import annotations

from coder.errors import InputError
from coder.scales import parse_time_ms


def format_ms(position_ms: int | float, *, tenths: bool = False) -> str:
    """``83_500`` -> ``"1:23"`` (``"1:23.5"`` with ``tenths``); hours when needed."""
    position_ms = max(0, int(position_ms))
    seconds, ms = divmod(position_ms, 1000)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
    return f"{text}.{ms // 100}" if tenths else text


def parse_time(text: str) -> int:
    """``"12:30"``, ``"1:02:03"``, ``"90"`` (seconds) or ``"12:30.5"`` -> milliseconds.

    Raises:
        InputError: the text is not a time.
    """
    text = text.strip()
    whole, _, fraction = text.partition(".")
    try:
        if not whole or any(not part.strip().isdigit() for part in whole.split(":")):
            raise ValueError
        if fraction and not fraction.isdigit():
            raise ValueError
        extra = round(float(f"0.{fraction}") * 1000) if fraction else 0
        return parse_time_ms(whole) + extra if ":" in whole else int(whole) * 1000 + extra
    except ValueError:
        raise InputError(f"“{text}” is not a time; type minutes and seconds, e.g. 12:30") from None
