"""Correct: IsolatedAsyncioTestCase with async lifecycle, async cleanups, and awaited calls."""

import asyncio
import time
import unittest

from app.client import FakeTransport, UserClient, UserNotFound


class UserClientTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        self.transport = FakeTransport({1: {"id": 1, "name": "ada"}})
        self.client = UserClient(self.transport)
        # An async callable passed directly is awaited by the runner (3.11-3.13).
        self.addCleanup(self.client.aclose)

    def setUp(self):
        # A sync setUp: runs before the loop; nothing loop-bound is made here.
        self.started = time.monotonic()

    async def test_fetch_user(self):
        user = await self.client.fetch_user(1)
        self.assertEqual(user["name"], "ada")

    async def test_fetch_is_cached(self):
        await self.client.fetch_user(1)
        await self.client.fetch_user(1)
        self.assertEqual(self.transport.requests, 1)

    async def test_missing_user(self):
        with self.assertRaises(UserNotFound):
            await self.client.fetch_user(99)

    async def test_concurrent_fetches_share_the_lock(self):
        users = await asyncio.gather(*(self.client.fetch_user(1) for _ in range(3)))
        self.assertEqual({user["id"] for user in users}, {1})

    async def test_sleep_is_awaited(self):
        await asyncio.sleep(0)
        self.assertIsNone(self.client.cached(2))

    def test_sync_test_may_run_its_own_loop(self):
        # No loop runs during a sync test of an IsolatedAsyncioTestCase: this works.
        self.assertEqual(asyncio.run(asyncio.sleep(0, "ok")), "ok")


class QueuePerTestTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        # Loop-bound resources made per test, on the test's own loop.
        self.queue = asyncio.Queue()
        self.lock = asyncio.Lock()

    async def test_put_get(self):
        await self.queue.put(1)
        async with self.lock:
            self.assertEqual(await self.queue.get(), 1)
