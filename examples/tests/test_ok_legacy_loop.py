"""Correct: the pre-3.8 pattern, a dedicated loop per test created in setUp and closed after it."""

import asyncio
import unittest

from app.client import FakeTransport, UserClient


class LegacyClientTest(unittest.TestCase):
    def setUp(self):
        self.loop = asyncio.new_event_loop()
        self.addCleanup(self.loop.close)
        self.client = UserClient(FakeTransport())

    def test_fetch_user(self):
        user = self.loop.run_until_complete(self.client.fetch_user(1))
        self.assertEqual(user["id"], 1)

    def test_fetch_twice_on_one_loop(self):
        self.loop.run_until_complete(self.client.fetch_user(1))
        self.loop.run_until_complete(self.client.fetch_user(1))
        self.assertEqual(self.client.transport.requests, 1)


class ExplicitTearDownTest(unittest.TestCase):
    def setUp(self):
        self.loop = asyncio.new_event_loop()

    def tearDown(self):
        self.loop.close()

    def test_refresh(self):
        client = UserClient(FakeTransport())
        self.assertEqual(self.loop.run_until_complete(client.refresh(1))["id"], 1)
