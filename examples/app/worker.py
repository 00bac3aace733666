"""A background worker that drains a queue of jobs."""

from __future__ import annotations

import asyncio
from typing import Any, Callable


class Worker:
    def __init__(self, queue: asyncio.Queue[Any], handler: Callable[[Any], Any]) -> None:
        self.queue = queue
        self.handler = handler
        self.done: list[Any] = []

    async def run_once(self) -> Any:
        job = await self.queue.get()
        try:
            result = await self.handler(job)
            self.done.append(result)
            return result
        finally:
            self.queue.task_done()


async def main() -> None:
    queue: asyncio.Queue[Any] = asyncio.Queue()
    await queue.put(1)

    async def double(job: Any) -> Any:
        return job * 2

    print(await Worker(queue, double).run_once())


if __name__ == "__main__":
    asyncio.run(main())
