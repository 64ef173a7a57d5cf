"""Holding the API's CPU pool (core/offload.py) busy, to show what waits for it and what does not."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from core import offload


@asynccontextmanager
async def cpu_pool_held() -> AsyncIterator[None]:
    """Every CPU thread blocked until the block exits: work sent to the pool queues meanwhile."""
    release = threading.Event()
    started = threading.Semaphore(0)

    def hold() -> None:
        started.release()
        release.wait(30)

    futures = [offload.pool().submit(hold) for _ in range(offload.threads())]
    for _ in futures:
        await asyncio.to_thread(started.acquire, True, 10)
    try:
        yield
    finally:
        release.set()
        for f in futures:
            await asyncio.wrap_future(f)


async def still_pending(task: asyncio.Task[object], turns: int = 50) -> bool:
    """Whether `task` is still waiting after the loop has had `turns` chances to run it."""
    for _ in range(turns):
        await asyncio.sleep(0.01)
    return not task.done()
