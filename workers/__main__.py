"""`python -m workers [--burst]`: one arq worker process for the queue in `WORKER_QUEUE` on `REDIS_URL`."""

from __future__ import annotations

import logging
import sys

from arq.worker import run_worker

from workers.config import WorkerConfig
from workers.settings import worker_kwargs


def main(argv: list[str]) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    config = WorkerConfig.from_env()
    run_worker(type("Settings", (), worker_kwargs(config)), burst="--burst" in argv)


if __name__ == "__main__":
    main(sys.argv[1:])
