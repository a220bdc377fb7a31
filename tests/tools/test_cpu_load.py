"""`tools.cpu_load` (behind `make test-busy`): the command's exit status comes back, every run is
reported, and no burner outlives the command, whatever it returned."""

import sys

import psutil
import pytest

from tools.cpu_load import BURN, main


def burners_alive() -> list[psutil.Process]:
    return [p for p in psutil.Process().children(recursive=True) if BURN in " ".join(p.cmdline())]


def test_exit_status_of_the_first_failing_run_and_burners_gone(
    capsys: pytest.CaptureFixture[str],
) -> None:
    fail = [sys.executable, "-c", "import sys; sys.exit(3)"]
    assert main(["--burners", "2", "--runs", "2", "--", *fail]) == 3
    out = capsys.readouterr().out
    assert out.count("FAILED (exit 3)") == 2 and "run 2/2 with 2 burner(s)" in out
    assert burners_alive() == []


def test_the_command_runs_while_the_burners_do() -> None:
    # The command itself counts the burners among its siblings: they run during it.
    count = (
        "import psutil, sys; me = psutil.Process(); "
        "others = [p for p in me.parent().children() if p.pid != me.pid]; "
        f"n = sum({BURN!r} in ' '.join(p.cmdline()) for p in others); "
        "sys.exit(0 if n == 2 else 1)"
    )
    assert main(["--", sys.executable, "-c", count]) == 0
    assert burners_alive() == []


def test_a_command_is_required() -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--runs", "2"])
    assert exit_info.value.code == 2
