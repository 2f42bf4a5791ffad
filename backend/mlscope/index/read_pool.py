"""Reading many run folders at once: worker processes on a first open or a restart check, in-process when small.

A first open of 10,000 runs reads about 280,000 small files; parsing them is
Python work, so threads would queue on the GIL. Worker processes read chunks
of run folders and send back plain records marshalled in one ``bytes`` (keys
interned once, far cheaper than pickling tuples); the parent only turns
records into objects. Small trees are read in-process: starting workers
would cost more than it saves.

The workers are forked on Linux (no re-import, instant start; they only run
the pure file-reading functions of ``run_reads``, never touch a lock of the
parent's threads, and exit with the pool), spawned elsewhere. If the pool
cannot start or a worker dies, the remaining chunks are read in-process.
"""

from __future__ import annotations

import gc
import logging
import marshal
import multiprocessing
import os
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

log = logging.getLogger("mlscope")

POOL_MIN_TASKS = 1500  # below this many run folders, reading in-process is faster than starting workers
CHUNK = 200  # run folders per worker task: results stream back while the rest is read


class PoolClosed(Exception):
    """The pool was closed (the server is stopping) while results were awaited."""


def default_workers() -> int:
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, cpus)


def _run_marshalled(fn: Callable[[list[Any]], list[Any]], tasks: list[Any]) -> bytes:
    """In a worker: run fn over one chunk, return the records marshalled (plain data only)."""
    gc.disable()  # the records hold no cycles; collecting while building them only costs time
    try:
        return marshal.dumps(fn(tasks))
    finally:
        gc.enable()


class ReadPool:
    """Maps a reading function over chunks of tasks, in worker processes when it pays."""

    def __init__(self, workers: int | None = None, min_tasks: int = POOL_MIN_TASKS) -> None:
        self.workers = default_workers() if workers is None else workers
        self.min_tasks = min_tasks
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._closed = False
        self.tasks_in_workers = 0  # how many tasks the workers took (for tests and logs)

    def uses_workers(self, count: int) -> bool:
        return self.workers >= 2 and count >= self.min_tasks and not self._closed

    def submit(self, fn: Callable[[list[Any]], list[Any]], tasks: list[Any], chunk: int = CHUNK) -> Iterator[list[Any]]:
        """Start fn over chunks of tasks now; iterate the returned results (in order) later.

        Reading starts at once in the workers, so the caller can do other
        work before it consumes the results.
        """
        chunks = [tasks[i : i + chunk] for i in range(0, len(tasks), chunk)]
        futures = self._submit_all(fn, chunks) if self.uses_workers(len(tasks)) else None
        return self._results(fn, chunks, futures)

    def _results(self, fn: Callable[[list[Any]], list[Any]], chunks: list[list[Any]],
                 futures: list[Future[bytes]] | None) -> Iterator[list[Any]]:
        for i, chunk in enumerate(chunks):
            if futures is not None:
                try:
                    records = marshal.loads(futures[i].result())
                    self.tasks_in_workers += len(chunk)
                    yield records
                    continue
                except CancelledError:
                    raise PoolClosed from None
                except (BrokenProcessPool, OSError, EOFError, ValueError) as exc:
                    log.warning("index reader processes failed (%s); reading in this process", exc)
                    futures = None
                    self._give_up_workers()
            if self._closed:
                raise PoolClosed
            yield fn(chunk)

    def _give_up_workers(self) -> None:
        """After a failure: stop the workers and read in-process from now on."""
        self.workers = 1
        self._stop_executor()

    def _submit_all(self, fn: Callable[[list[Any]], list[Any]], chunks: list[list[Any]]) -> list[Future[bytes]] | None:
        executor = self._start()
        if executor is None:
            return None
        try:
            with warnings.catch_warnings():
                # Python 3.12+ warns about fork() in a process with threads; the workers run only
                # run_reads' pure functions and never use a lock another thread could hold.
                warnings.simplefilter("ignore", DeprecationWarning)
                return [executor.submit(_run_marshalled, fn, chunk) for chunk in chunks]
        except (BrokenProcessPool, OSError, RuntimeError) as exc:
            log.warning("cannot start index reader processes (%s); reading in this process", exc)
            self._give_up_workers()
            return None

    def _start(self) -> ProcessPoolExecutor | None:
        with self._lock:
            if self._closed:
                return None
            if self._executor is None:
                method = "fork" if sys.platform == "linux" else "spawn"
                try:
                    self._executor = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context(method))
                except (OSError, ValueError) as exc:
                    log.warning("cannot start index reader processes (%s); reading in this process", exc)
                    return None
            return self._executor

    def close(self) -> None:
        """Stop for good: workers end now, queued chunks are cancelled, iterating raises PoolClosed."""
        self._closed = True
        self._stop_executor()

    def _stop_executor(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is None:
            return
        processes = list((getattr(executor, "_processes", None) or {}).values())
        executor.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join(timeout=5)
