"""Overlap I/O with inference: decode video frames ahead and encode the annotated video behind.

OpenCV releases the GIL while it decodes and encodes, so on a small CPU these threads run beside the
detector and the recognizer instead of after them. Order is kept and nothing is dropped (files, not live).
"""
from __future__ import annotations

import queue
import threading
from typing import Any, Callable, Generator, Iterable, TypeVar

T = TypeVar("T")
_END = object()


def prefetch(items: Iterable[T], depth: int = 4) -> Generator[T, None, None]:
    """Iterate `items` in a thread, at most `depth` ahead of the consumer; its exceptions re-raise here."""
    q: queue.Queue = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()

    def put(x: Any) -> bool:
        while not stop.is_set():
            try:
                q.put(x, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for x in items:
                if not put(x):
                    return
            put(_END)
        except BaseException as exc:  # handed to the consumer, raised there
            put(exc)

    thread = threading.Thread(target=produce, name="prefetch", daemon=True)
    thread.start()
    try:
        while True:
            x = q.get()
            if x is _END:
                return
            if isinstance(x, BaseException):
                raise x
            yield x
    finally:
        stop.set()
        thread.join(timeout=5)


class BackgroundWriter:
    """Calls `write(item)` on a thread, in order, with at most `depth` items waiting; `close()` drains it.
    An exception in the thread is raised by the next `submit` or by `close`."""

    def __init__(self, write: Callable[[Any], None], depth: int = 4) -> None:
        self._write = write
        self._q: queue.Queue = queue.Queue(maxsize=max(1, depth))
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            x = self._q.get()
            if x is _END:
                return
            if self._error is None:
                try:
                    self._write(x)
                except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                    self._error = exc

    def _raise(self) -> None:
        if self._error is not None:
            err, self._error = self._error, None
            raise err

    def submit(self, item: Any) -> None:
        self._raise()
        self._q.put(item)

    def close(self) -> None:
        if self._thread.is_alive():
            self._q.put(_END)
            self._thread.join()
        self._raise()
