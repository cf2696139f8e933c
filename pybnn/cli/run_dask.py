"""`pybnn run --dask`: the same run on a Dask cluster (a scheduler address,
or a local cluster sized to this machine), with a progress bar on stderr."""
import asyncio
import sys
import time

import numpy as np
from distributed import Client, as_completed
from distributed.comm import resolve_address

from .. import dask as pybnn_dask
from ..dask_files import open_images
from .samples import fit_samples

BAR_WIDTH = 40
WAIT_FOR_WORKERS_S = 60


def run_on_dask(args, model, address):
    """float32 scores of args.input and the seconds the cluster took, on the
    scheduler at `address` (None: a local cluster)."""
    images = fit_samples(open_images(args.input, args.chunk_size), model, args.input)
    scores = pybnn_dask.scores(args.model, images, threads=args.threads,
                               backend=args.backend, device=args.device)
    with _client(address) as client:
        _wait_for_workers(client)
        workers = client.scheduler_info()["workers"].values()
        threads = sum(w["nthreads"] for w in workers)
        print(f"dask: {client.scheduler.address}, {len(workers)} workers, {threads} threads, "
              f"{scores.numblocks[0]} chunks", file=sys.stderr)
        start = time.perf_counter()
        try:
            result = compute_with_progress(client, scores)
        except (ValueError, OSError):
            raise  # the task's own error (FormatError, a bad file): the CLI prints it
        except Exception as exc:  # e.g. distributed.KilledWorker: a worker died; one line too
            raise OSError(f"dask: {type(exc).__name__}: {exc}") from None
        return result, time.perf_counter() - start


def _wait_for_workers(client):
    """Workers may still be joining; a scheduler with none would wait forever."""
    try:
        client.wait_for_workers(1, timeout=WAIT_FOR_WORKERS_S)
    except (TimeoutError, asyncio.TimeoutError):  # the same class from Python 3.11 on
        raise OSError(f"scheduler {client.scheduler.address}: no worker joined within "
                      f"{WAIT_FOR_WORKERS_S} s") from None


def _client(address):
    if address is None:
        # A LocalCluster that Dask sizes to the machine (workers x threads =
        # cores), owned by the client: it closes with it. Its HTTP server (health,
        # dashboard) on a free port, not 8787, which may be taken.
        return Client(processes=True, dashboard_address=":0", set_as_default=False)
    # A malformed address is refused here (ValueError naming the problem; an
    # unknown host: OSError): a Client half made from one hangs a minute on exit.
    try:
        resolve_address(address)
    except OSError as exc:
        raise OSError(f"scheduler {address}: {exc.strerror or exc}") from None
    return Client(address, set_as_default=False)


def compute_with_progress(client, array, out=None):
    """The dask array `array` (chunked along its first axis only) computed on
    `client`, one future per chunk, drawing a bar on `out` as chunks finish."""
    out = out or sys.stderr
    futures = client.compute(list(array.to_delayed().ravel()))
    done = 0
    _draw(out, done, len(futures))
    for _ in as_completed(futures, loop=client.loop):
        done += 1
        _draw(out, done, len(futures))
    out.write("\n")
    return np.concatenate(client.gather(futures))  # raises the first chunk's error


def _draw(out, done, total):
    filled = BAR_WIDTH * done // total
    out.write(f"\r[{'#' * filled}{' ' * (BAR_WIDTH - filled)}] {done}/{total} chunks")
    out.flush()
