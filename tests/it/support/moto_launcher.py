"""Starts moto (the local AWS) for the tests and the demo, extended where moto falls short.

Prints `MOTO_PORT=<port>` once the server listens on 127.0.0.1, then serves until its standard
input closes (the Rust test process holds the other end, so moto never outlives the tests).

Usage: python moto_launcher.py [--port N]   (default: a free port)
"""

import argparse
import functools
import logging
import sys
import threading

from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.rds import utils as rds_utils
from moto.rds.models import DBCluster
from moto.secretsmanager.models import SecretsManagerBackend


def allow_documentdb_clusters() -> None:
    """moto 5.2.5 rejects engine `docdb` in CreateDBCluster. DocumentDB shares the RDS API, so
    accepting the engine (with DocumentDB's version and port 27017) is all it takes."""
    engines = rds_utils.ClusterEngine.list_cluster_engines
    rds_utils.ClusterEngine.list_cluster_engines = staticmethod(lambda: engines() + ["docdb"])

    def for_docdb(default, value):
        return staticmethod(
            lambda engine, *a, **k: value if engine == "docdb" else default(engine, *a, **k)
        )

    DBCluster.default_engine_version = for_docdb(DBCluster.default_engine_version, "5.0.0")
    DBCluster.default_port = for_docdb(DBCluster.default_port, 27017)
    DBCluster.default_allocated_storage = for_docdb(DBCluster.default_allocated_storage, 1)


def make_create_secret_atomic() -> None:
    """Secrets Manager's CreateSecret is atomic: of concurrent calls for one name exactly one
    succeeds. moto's threaded server checks and inserts in two steps; a lock restores the
    real behaviour, so the concurrency tests judge the function, not a race inside moto."""
    lock = threading.Lock()
    create = SecretsManagerBackend.create_secret

    @functools.wraps(create)
    def locked(self, *args, **kwargs):
        with lock:
            return create(self, *args, **kwargs)

    SecretsManagerBackend.create_secret = locked


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    # No access log per request: the test output stays readable.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    allow_documentdb_clusters()
    make_create_secret_atomic()
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
