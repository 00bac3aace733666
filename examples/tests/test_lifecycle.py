"""ATL2xx: test-case style and lifecycle mistakes."""

import asyncio
import unittest
from unittest import TestCase as TC
from unittest.mock import patch

from app.client import FakeTransport, UserClient
from app.worker import Worker


class ClientTest(TC):
    # T3: a plain TestCase: these coroutines are never awaited and the tests always pass.
    async def test_fetch_user(self):
        client = UserClient(FakeTransport())
        self.assertEqual((await client.fetch_user(1))["name"], "grace")

    @patch("app.client.FakeTransport.close")
    async def test_close(self, close):
        client = UserClient(FakeTransport())
        await client.aclose()
        close.assert_awaited_once()


class ClientLifecycleTest(unittest.IsolatedAsyncioTestCase):
    # T8: a coroutine setUp is called and never awaited; self.client never exists.
    async def setUp(self):
        self.client = UserClient(FakeTransport())

    async def asyncTearDown(self):
        await self.client.aclose()

    async def test_fetch(self):
        # T8: the lambda returns a coroutine; on 3.11+ it is never awaited.
        self.addCleanup(lambda: self.client.aclose())
        self.assertEqual((await self.client.fetch_user(1))["id"], 1)


class WorkerTest(unittest.IsolatedAsyncioTestCase):
    @classmethod
    def setUpClass(cls):
        # T10: a queue made outside any test loop, shared by every test of the class.
        cls.queue = asyncio.Queue()

    async def double(self, job):
        return job * 2

    async def test_first(self):
        await self.queue.put(1)
        self.assertEqual(await Worker(self.queue, self.double).run_once(), 2)

    async def test_second(self):
        # On a second loop the shared queue's waiters belong to the first: this hangs or fails.
        await self.queue.put(2)
        self.assertEqual(await Worker(self.queue, self.double).run_once(), 4)
