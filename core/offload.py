"""CPU work off the event loop: one bounded pool of low-priority threads per process.

An API process serves every request from one event loop; anything that computes for more than a
millisecond or two (Argon2 password hashes, CSV parsing, audio decoding, model loads) holds up every
other request while it runs. `run_cpu` moves it to a thread of a shared pool:

- the pool is bounded (`ESCUTA_API_CPU_THREADS`): a burst of logins queues instead of spawning a thread
  each, so CPU and memory in use stay bounded (each /stt decode holds at most its own bounded buffers);
- its threads run at a lower scheduling priority (a higher nice value; Linux sets it per thread, and
  threads a worker starts, such as Argon2's lanes, inherit it), so when cores are short the kernel
  serves the event loop first and a login waits rather than the whole API.

Argon2 and PyAV release the GIL while they compute; pure-Python work (the CSV parser) still shares it,
but Python hands the GIL over every few milliseconds, so the loop keeps answering.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

DEFAULT_THREADS = 2
# How much nicer than the event loop the CPU threads are (0 = same priority, 19 = the lowest).
NICE_INCREMENT = 10

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_threads = DEFAULT_THREADS


def _lower_priority() -> None:
    if sys.platform.startswith("linux"):
        # On Linux a nice value belongs to one thread (setpriority with the thread's id), not the process.
        with contextlib.suppress(OSError):
            tid = threading.get_native_id()
            os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + NICE_INCREMENT))


def configure(threads: int) -> None:
    """Set the pool's size (from settings, at app start); takes effect for a pool not yet started."""
    global _threads
    if threads < 1:
        raise ValueError("threads must be >= 1")
    _threads = threads


def pool() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(
                max_workers=_threads, thread_name_prefix="escuta-cpu", initializer=_lower_priority
            )
        return _pool


def threads() -> int:
    """How many CPU threads the pool runs at most."""
    return _threads


async def run_cpu(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """`fn(*args, **kwargs)` in the shared CPU pool; waits (without blocking the loop) for a free thread."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(pool(), functools.partial(fn, *args, **kwargs))
