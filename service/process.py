"""Process exit for every program that used the Temporal client or worker.

Why not a normal return: a Python process that used the Temporal client or worker crashes at
interpreter exit (SIGSEGV or SIGABRT) in about one run in three here, while the Rust core's
threads are torn down (upstream sdk-python#300). The process's real work is done by then, but its
exit status would be decided by that race. So our entry points flush their output and leave with
`os._exit(code)`, skipping the interpreter teardown where the crash happens: the exit status is
always the one the program chose.
"""

import contextlib
import logging
import os
import sys
from collections.abc import Callable


def exit_now(code: int) -> None:
    """Flush everything we wrote, then end the process with `code`, skipping interpreter teardown."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        # A closed pipe must not change the exit status.
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


def run_and_exit(main: Callable[[], int]) -> None:
    """Run `main` and exit with its status; an unexpected exception exits 1 after its traceback."""
    try:
        code = main()
    except KeyboardInterrupt:
        code = 130
    except BrokenPipeError:
        # The reader went away (`starter.py list --json | head -1`): end as a process killed by
        # SIGPIPE would (128 + 13), without a traceback about it.
        code = 141
    except SystemExit as stop:  # argparse's own exits (usage errors: 2)
        code = stop.code if isinstance(stop.code, int) else 1
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    exit_now(code)
