"""`run_and_exit`: every entry point's exit status is the one its code chose, whatever happens at
interpreter teardown (sdk-python#300); tested in child processes, since it ends the process."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROGRAM = """
import sys
from service.process import run_and_exit

def main() -> int:
    print("partial output")
{body}

run_and_exit(main)
"""


@pytest.mark.parametrize(
    ("body", "code", "traceback"),
    [
        ("    return 3", 3, False),
        ("    raise KeyboardInterrupt", 130, False),
        ("    raise BrokenPipeError", 141, False),
        ("    raise SystemExit(2)", 2, False),
        ("    raise ValueError('boom')", 1, True),
    ],
)
def test_the_exit_status_is_the_programs_own(body: str, code: int, traceback: bool) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM.format(body=body)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == code, done.stderr
    assert done.stdout == "partial output\n"  # flushed before leaving
    assert ("Traceback" in done.stderr) is traceback, done.stderr


def test_a_closed_pipe_ends_the_cli_quietly() -> None:
    # The reader goes away after one line, as `starter.py list --json | head -1` does.
    cli = subprocess.Popen(
        [
            sys.executable,
            "-c",
            PROGRAM.format(body="    [print('x' * 100) for _ in range(10**5)]\n    return 0"),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert cli.stdout is not None and cli.stderr is not None
    cli.stdout.readline()
    cli.stdout.close()
    assert cli.wait(timeout=60) == 141
    assert b"Traceback" not in cli.stderr.read()
