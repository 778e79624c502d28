"""`python -m smtune.emulator`: run the emulator until SIGINT or SIGTERM.

Prints the endpoint URL, then one line saying SageMaker is emulated, and nothing else on stdout
(so a script can read the URL from the first line). Errors go to stderr with exit status 2.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence

from .control import ControlError
from .patches import UnsupportedMotoVersion
from .server import EmulatorError, start_emulator

DEFAULT_PORT = 5000


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m smtune.emulator",
        description="Run a local AWS emulator (moto plus this project's patches).",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port to listen on, 0 for any free one (default {DEFAULT_PORT})",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    parser.add_argument("--request-log", action="store_true", help="log every request to stderr")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        emulator = start_emulator(port=args.port, host=args.host, request_log=args.request_log)
    except (EmulatorError, UnsupportedMotoVersion, ControlError) as error:
        print(f"smtune.emulator: {error}", file=sys.stderr)
        return 2
    stop_requested = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        stop_requested.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    print(emulator.endpoint_url, flush=True)
    print(
        "SageMaker is emulated: tuning jobs, training jobs and endpoints are simulated, "
        "and no AWS account is used.",
        flush=True,
    )
    try:
        while not stop_requested.wait(timeout=1.0):
            pass
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
