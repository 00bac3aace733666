"""ATL4xx: Mock and MagicMock where the code under test awaits."""

import unittest
from unittest import mock as m
from unittest.mock import MagicMock, Mock, patch

from app.client import UserClient
from app.repository import UserRepository


class RepositoryTest(unittest.IsolatedAsyncioTestCase):
    async def test_get_reads_through_the_cache(self):
        db = Mock()
        # T5: the repository awaits db.fetch_one(...) and cache.get(...).
        db.fetch_one = Mock(return_value={"id": 1})
        cache = Mock()
        cache.get = Mock(return_value=None)
        repository = UserRepository(db, cache)
        self.assertEqual(await repository.get(1), {"id": 1})

    async def test_get_or_none_swallows(self):
        # T5: the broad `except` in get_or_none hides "can't be used in 'await' expression".
        cache = m.MagicMock()
        cache.get.return_value = None
        repository = UserRepository(db=m.MagicMock(), cache=cache)
        self.assertIsNone(await repository.get_or_none(1))


class ClientPatchTest(unittest.IsolatedAsyncioTestCase):
    async def test_refresh_patched(self):
        # T5: fetch_user is `async def`; a MagicMock replacement cannot be awaited.
        with patch.object(UserClient, "fetch_user", new=MagicMock(return_value={"id": 1})):
            client = UserClient(transport=None)
            self.assertEqual(await client.refresh(1), {"id": 1})

    @patch.object(UserClient, "fetch_user", new_callable=MagicMock)
    async def test_refresh_decorated(self, fetch_user):
        fetch_user.return_value = {"id": 2}
        self.assertEqual(await UserClient(transport=None).refresh(2), {"id": 2})
