"""ATL3xx: coroutines that are never awaited, and blocking calls in async tests."""

import asyncio
import time
import unittest

from app.client import FakeTransport, UserClient, UserNotFound


class AwaitingTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        self.client = UserClient(FakeTransport())

    async def test_user_exists(self):
        # T4: a coroutine object is always truthy: this passes for any user id.
        self.assertTrue(self.client.fetch_user(42))

    async def test_refresh_returns_user(self):
        # T4: stored and asserted on, never awaited.
        user = self.client.refresh(1)
        self.assertIsNotNone(user)

    async def test_missing_user_raises(self):
        # T9: assertRaises calls the async function; the coroutine is never awaited, nothing raises.
        self.assertRaises(UserNotFound, self.client.fetch_user, 99)

    async def test_missing_user_raises_ctx(self):
        # T9: the context-manager form without await.
        with self.assertRaises(UserNotFound):
            self.client.fetch_user(99)

    async def test_cache_expires(self):
        await self.client.fetch_user(1)
        # T13: blocks the event loop for half a second.
        time.sleep(0.5)
        await asyncio.sleep(0)
        self.assertIsNotNone(self.client.cached(1))
