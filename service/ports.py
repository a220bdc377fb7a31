"""Free loopback ports for the processes we start ourselves (test stacks, benchmarks, screenshots).

The port is free when this returns; the caller binds it soon after. A race with another process
taking it in between is possible but rare on a test machine, and shows up as a start-up error that
names the port, never as wrong results.
"""

import socket


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port
