"""Shared result types and helpers of the reliability package.

Everything here is plain data: floats stay floats (an infinite F is ``math.inf``) and
a figure that is not defined is None with its reason. Results know how to turn
themselves into the strict JSON objects of SPEC section 9 (``{"value": ..., "why":
...}``, an infinite F as ``"Infinity"``); only the report's ``to_json()`` calls that,
for the CLI.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

# A mean square (or any sum of squared deviations per degree of freedom) whose root is
# below this share of the largest absolute score is treated as exactly zero. Floating
# point noise in the means is about 1e-16 of the largest score, so 1e-12 leaves four
# orders of magnitude of head room; no real rating data has a residual that small.
ZERO_RELATIVE = 1e-12


def json_number(x: float | None) -> float | str | None:
    """Turn a float into a strict-JSON value.

    Args:
        x: Any float, or None.

    Returns:
        The float itself when finite, the strings ``"Infinity"``/``"-Infinity"`` for
        infinities (SPEC section 9 renders an infinite F that way), and None for NaN
        or None.
    """
    if x is None:
        return None
    v = float(x)
    if math.isnan(v):
        return None
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return v


def json_interval(ci: tuple[float, float] | None) -> list[float | str | None] | None:
    """A confidence interval as strict JSON: ``[low, high]`` (see :func:`json_number`)."""
    return None if ci is None else [json_number(ci[0]), json_number(ci[1])]


def format_value(x: float) -> str:
    """Format a score for a message: ``3`` for whole numbers, ``2.5`` otherwise."""
    v = float(x)
    if math.isfinite(v) and v == round(v) and abs(v) < 1e15:
        return str(int(v))
    return f"{v:g}"


@dataclass(frozen=True, slots=True)
class Statistic:
    """One reliability figure, or the reason it is not defined.

    Attributes:
        value: The statistic, or None when it is not defined for the data.
        why: Why ``value`` is None (None when the value is defined).
        n: How many units the figure rests on (sessions, pairs or comparisons; the
            producing function says which).
        ci95: A 95 % confidence interval, where the statistic has one.
        se: Its standard error, where the producing function gives one.
    """

    value: float | None
    why: str | None = None
    n: int = 0
    ci95: tuple[float, float] | None = None
    se: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the strict-JSON object ``{"value", "n"[, "se"][, "ci95"][, "why"]}``."""
        out: dict[str, Any] = {"value": json_number(self.value), "n": int(self.n)}
        if self.se is not None:
            out["se"] = json_number(self.se)
        if self.ci95 is not None:
            out["ci95"] = json_interval(self.ci95)
        if self.why is not None or self.value is None:
            out["why"] = self.why or "not defined for these data"
        return out


def undefined(why: str, n: int = 0) -> Statistic:
    """Shorthand for a :class:`Statistic` that is not defined, with its reason."""
    return Statistic(value=None, why=why, n=n)


def as_float_array(values: npt.ArrayLike, name: str) -> FloatArray:
    """Convert ``values`` to a float64 array, with a clear ValueError when impossible."""
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric (NaN marks a missing score): {exc}") from exc
    return arr


def as_matrix(matrix: npt.ArrayLike, name: str = "matrix") -> FloatArray:
    """Convert ``matrix`` to a 2-D float64 array (rows = sessions, columns = coders)."""
    arr = as_float_array(matrix, name)
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D (sessions x coders); got an array with shape {arr.shape}"
        )
    return arr


def integer_codes(values: FloatArray) -> tuple[IntArray, FloatArray]:
    """Map values to codes 0..V-1 in increasing value order.

    Whole-number data with a modest range get codes ``value - min`` (with unused codes
    for values in the range that do not occur), which avoids a sort; anything else goes
    through :func:`numpy.unique`.

    Args:
        values: Finite values.

    Returns:
        ``(codes, domain)`` with ``domain[codes] == values``.
    """
    if values.size == 0:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.float64)
    lo = float(values.min())
    hi = float(values.max())
    span = hi - lo
    if (
        span <= 4 * values.size + 1024
        and lo == math.floor(lo)
        and bool(np.all(values == np.floor(values)))
    ):
        codes = (values - lo).astype(np.intp)
        domain = lo + np.arange(int(span) + 1, dtype=np.float64)
        return codes, domain
    domain, inverse = np.unique(values, return_inverse=True)
    return inverse.astype(np.intp).reshape(-1), domain.astype(np.float64)
