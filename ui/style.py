"""The app's few style rules (Fusion does the rest): current and missing items, hints."""

from coder.kinds import CodingStatus

# The state badge of a finished coding, by the state the badge's "state" property holds.
_STATE_BADGES = {
    CodingStatus.SUBMITTED: "color: #166534; border-color: #86efac; background: #f0fdf4;",
    CodingStatus.UNCODABLE: "color: #9a3412; border-color: #fdba74; background: #fff7ed;",
}

STYLE_SHEET = """
ScoreItemWidget { border: 1px solid #d9dce1; border-radius: 6px; background: #ffffff; }
ScoreItemWidget[current="true"] { border: 2px solid #3d6fa8; background: #f3f7fc; }
ScoreItemWidget[missing="true"] { border: 2px solid #c2410c; background: #fff7ed; }
QLabel#description, QLabel#anchor { color: #4b5563; }
QLabel#anchor { font-size: 8pt; }
QLabel#instructions { background: #f9fafb; border: 1px solid #e5e7eb; padding: 6px; }
QPushButton:checked { background: #3d6fa8; color: white; border: 1px solid #2f5a8a; border-radius: 3px; }
QLabel#time { font-family: monospace; font-size: 11pt; }
QLabel#state { color: #4b5563; padding: 2px 8px; border: 1px solid #d1d5db; border-radius: 9px; }
QFrame#footer { border-top: 1px solid #e5e7eb; }
QPushButton#submit { font-weight: bold; padding: 4px 14px; }
QListWidget::item { padding: 5px 4px; }
QLabel#saved { color: #166534; padding: 0 6px; }
QLabel#saved[problem="true"] { color: #b91c1c; font-weight: bold; }
QLabel#notice { color: #78350f; background: #fffbeb; border: 1px solid #fcd34d; border-radius: 4px; padding: 4px 8px; }
""" + "".join(
    f'QLabel#state[state="{state}"] {{ {rule} }}\n' for state, rule in _STATE_BADGES.items()
)
