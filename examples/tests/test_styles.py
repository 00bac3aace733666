"""ATL2xx (T11): mixing async test styles."""

import unittest

import pytest

from app.client import FakeTransport, UserClient


class MarkedClientTest(unittest.IsolatedAsyncioTestCase):
    # T11: pytest-asyncio does not run unittest classes: the mark is ignored.
    @pytest.mark.asyncio
    async def test_fetch(self):
        client = UserClient(FakeTransport())
        self.assertEqual((await client.fetch_user(1))["id"], 1)


@pytest.fixture
def client(event_loop):
    # T11: the event_loop fixture was deprecated in pytest-asyncio 0.23 and removed in 1.0.
    client = UserClient(FakeTransport())
    yield client
    event_loop.run_until_complete(client.aclose())


@pytest.mark.asyncio(scope="module")
async def test_fetch_with_fixture(client):
    # T11: `scope=` on the mark is now `loop_scope=`.
    assert (await client.fetch_user(1))["id"] == 1
