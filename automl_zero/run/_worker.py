"""Entry point of a local worker process: ``python -m automl_zero.run._worker
SOCKET`` (started by ``LocalBackend``; see ``automl_zero.run.workers``)."""

import sys

from automl_zero.run.workers import serve_at

if __name__ == "__main__":
    serve_at(sys.argv[1])
