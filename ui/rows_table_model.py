"""A read-only table model over a list of rows (tuples), each with an optional payload."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

_Index = QModelIndex | QPersistentModelIndex


class RowsTableModel(QAbstractTableModel):
    """Shows ``rows`` under ``headers``; numbers are right-aligned."""

    def __init__(self, headers: Sequence[str], parent: Any = None) -> None:
        super().__init__(parent)
        self._headers = list(headers)
        self._rows: list[tuple[Any, ...]] = []
        self._payloads: list[Any] = []

    def set_rows(
        self, rows: Sequence[Sequence[Any]], payloads: Sequence[Any] | None = None
    ) -> None:
        self.beginResetModel()
        self._rows = [tuple(r) for r in rows]
        self._payloads = list(payloads) if payloads is not None else [None] * len(self._rows)
        self.endResetModel()

    def payload(self, row: int) -> Any:
        return self._payloads[row]

    def row(self, row: int) -> tuple[Any, ...]:
        return self._rows[row]

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._headers)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self._headers[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        value = self._rows[index.row()][index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return "" if value is None else str(value)
        if role == Qt.ItemDataRole.TextAlignmentRole and isinstance(value, int | float):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None
