"""Correct: AsyncMock, spec'd mocks and auto-AsyncMock patches where the code awaits."""

import unittest
from unittest.mock import AsyncMock, MagicMock, create_autospec, patch

from app.client import FakeTransport, UserClient
from app.repository import UserRepository


class FakeDatabase:
    async def fetch_one(self, query, *args):
        return None

    async def execute(self, query, *args):
        return 0


class RepositoryTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        self.db = AsyncMock()
        self.db.fetch_one.return_value = {"id": 1}
        self.cache = AsyncMock()
        self.cache.get.return_value = None
        self.repository = UserRepository(self.db, self.cache)

    async def test_get_reads_through_the_cache(self):
        self.assertEqual(await self.repository.get(1), {"id": 1})
        self.cache.set.assert_awaited_once_with("user:1", {"id": 1})

    async def test_rename(self):
        self.db.execute.return_value = 1
        self.assertTrue(await self.repository.rename(1, "grace"))

    async def test_spec_mock_makes_async_methods_awaitable(self):
        db = MagicMock(spec=FakeDatabase)
        db.fetch_one.return_value = None
        repository = UserRepository(db, self.cache)
        self.assertIsNone(await repository.get(2))

    async def test_autospec(self):
        db = create_autospec(FakeDatabase, instance=True)
        db.execute.return_value = 1
        self.assertTrue(await UserRepository(db, self.cache).rename(1, "x"))


class ClientPatchTest(unittest.IsolatedAsyncioTestCase):
    async def test_patch_without_new_is_an_async_mock(self):
        # patch() of an `async def` target with no explicit `new` gives an AsyncMock (3.8+).
        with patch("app.client.UserClient.fetch_user") as fetch_user:
            fetch_user.return_value = {"id": 3}
            client = UserClient(FakeTransport())
            self.assertEqual(await client.refresh(3), {"id": 3})
        fetch_user.assert_awaited_once_with(3)
