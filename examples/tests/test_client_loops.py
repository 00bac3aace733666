"""ATL1xx: tests that drive the event loop by hand in a plain unittest.TestCase."""

import asyncio
import unittest
from asyncio import run

from app.client import FakeTransport, UserClient

# T6: one loop for the whole module, shared by every test and never closed.
LOOP = asyncio.new_event_loop()


class UserClientTest(unittest.TestCase):
    def setUp(self):
        self.client = UserClient(FakeTransport())

    def test_fetch_user(self):
        # T1: a fresh loop per call; the client's lock is bound to the first one.
        user = asyncio.run(self.client.fetch_user(1))
        self.assertEqual(user["name"], "ada")

    def test_fetch_is_cached(self):
        # T1, twice: the second run uses a Lock created on the (closed) first loop.
        run(self.client.fetch_user(1))
        run(self.client.fetch_user(1))
        self.assertEqual(self.client.transport.requests, 1)

    def run_async(self, coro):
        return asyncio.run(coro)

    def test_refresh(self):
        # T1 through a helper method of the class.
        user = self.run_async(self.client.refresh(1))
        self.assertEqual(user["id"], 1)

    def test_seed_script(self):
        # Deliberate and documented: suppressed for this line only.
        self.assertIsNotNone(asyncio.run(self.client.fetch_user(1)))  # noqa: ATL101


class LegacyLoopTest(unittest.TestCase):
    def test_get_event_loop(self):
        # T2 + T12: get_event_loop() with no running loop, then run_until_complete on it.
        loop = asyncio.get_event_loop()
        user = loop.run_until_complete(UserClient(FakeTransport()).fetch_user(1))
        self.assertEqual(user["id"], 1)

    def test_new_loop_never_closed(self):
        # T2: an unmanaged loop, never closed (ResourceWarning under -W default).
        loop = asyncio.new_event_loop()
        user = loop.run_until_complete(UserClient(FakeTransport()).fetch_user(1))
        self.assertEqual(user["id"], 1)

    def test_module_loop(self):
        # T6: the module-level loop is shared by tests.
        self.assertEqual(LOOP.run_until_complete(UserClient(FakeTransport()).fetch_user(1))["id"], 1)


class SharedLoopTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # T6: made once for the class, set as current, never closed nor reset.
        cls.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(cls.loop)

    def test_one(self):
        self.assertEqual(self.loop.run_until_complete(asyncio.sleep(0, "one")), "one")

    def test_two(self):
        self.assertEqual(self.loop.run_until_complete(asyncio.sleep(0, "two")), "two")


class PolicyLoopTest(unittest.TestCase):
    def test_policy_loop(self):
        # T12: the policy's get_event_loop() in sync test code.
        loop = asyncio.get_event_loop_policy().get_event_loop()
        self.assertFalse(loop.is_closed())
