"""Starts moto (the local AWS) for the tests and the demo.

Prints `MOTO_PORT=<port>` once the server listens on 127.0.0.1, then serves until its standard
input closes (the Rust test process holds the other end, so moto never outlives the tests).

Usage: python moto_launcher.py [--port N]   (default: a free port)
"""

import argparse
import logging
import sys

from moto.moto_server.threaded_moto_server import ThreadedMotoServer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    # No access log per request: the test output stays readable.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=args.port, verbose=False)
    server.start()
    _, port = server.get_host_and_port()
    print(f"MOTO_PORT={port}", flush=True)
    try:
        sys.stdin.read()
    except KeyboardInterrupt:
        pass
    server.stop()


if __name__ == "__main__":
    main()
