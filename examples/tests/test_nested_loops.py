"""ATL1xx (T7): a loop started while another one already runs."""

import asyncio as aio
import unittest as ut

from app.client import FakeTransport, UserClient


def run_sync(coro):
    """A sync helper that is called from coroutines below."""
    return aio.run(coro)


class NestedRunTest(ut.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        self.client = UserClient(FakeTransport())
        # T7: the runner's loop is running here.
        aio.get_event_loop().run_until_complete(self.client.fetch_user(1))

    async def test_nested_run(self):
        # T7: "asyncio.run() cannot be called from a running event loop".
        user = aio.run(self.client.fetch_user(1))
        self.assertEqual(user["id"], 1)

    async def test_nested_via_helper(self):
        # T7: a sync helper that starts a loop, called from a coroutine.
        self.assertEqual(run_sync(self.client.refresh(1))["id"], 1)
