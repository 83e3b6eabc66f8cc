"""The R runner the reference checks use."""

from __future__ import annotations

import pytest

from tests.r_lang import require_r, run_r


def test_run_r_returns_what_r_printed() -> None:
    require_r()
    assert run_r("cat(sum(as.numeric(commandArgs(TRUE))))", "2", "40") == "42"


def test_a_failing_script_fails_the_test_with_rs_message() -> None:
    require_r()
    with pytest.raises(pytest.fail.Exception, match="no such thing"):
        run_r("stop('no such thing')")
