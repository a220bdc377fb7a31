"""`python -m ingress`: serve the ingress with uvicorn on `UPGRADE_INGRESS_HOST`:`UPGRADE_INGRESS_PORT`.

Ctrl-C or SIGTERM lets uvicorn finish the requests in flight, then the process leaves through
`service.process.run_and_exit` (exit 0): it holds a Temporal client, and such a process can crash
in interpreter teardown (sdk-python#300). A bad setting exits 2 naming the variable.
"""

import contextlib
import signal
import sys
from collections.abc import Iterator

import structlog
import uvicorn
from pydantic import ValidationError

from ingress.app import create_app
from ingress.settings import load_ingress_settings
from service.logging import configure_logging
from service.process import run_and_exit

EXIT_OK, EXIT_INVALID = 0, 2


class _Server(uvicorn.Server):
    """uvicorn re-raises the stop signal after its graceful shutdown, which would end the process
    by the signal instead of through `run_and_exit`; a stop requested by a signal is a clean exit."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        originals = {
            sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            yield
        finally:
            for sig, handler in originals.items():
                signal.signal(sig, handler)


def main() -> int:
    try:
        settings = load_ingress_settings()
    except ValidationError as error:
        first = error.errors()[0]
        print(f"ingress: invalid UPGRADE_{str(first['loc'][0]).upper()}: {first['msg']}",
              file=sys.stderr)  # fmt: skip
        return EXIT_INVALID
    configure_logging(settings.log_format, settings.log_level)
    log = structlog.get_logger("ingress")
    # Names only: which channels and roles are configured, never a secret.
    log.info(
        "ingress starting",
        url=f"http://{settings.ingress_host}:{settings.ingress_port}",
        channels=settings.configured_channels(),
        channel_doors=settings.configured_doors(),
        operator_token=settings.operator_token is not None,
        backend_token=settings.backend_token is not None,
        time_scale=settings.time_scale,
    )
    config = uvicorn.Config(
        create_app(settings),
        host=settings.ingress_host,
        port=settings.ingress_port,
        log_config=None,  # uvicorn's loggers go through the structlog setup above
        access_log=True,
    )
    _Server(config).run()
    return EXIT_OK


if __name__ == "__main__":
    run_and_exit(main)
