"""An HTTP-ish user client with a response cache guarded by an asyncio.Lock."""

from __future__ import annotations

import asyncio
from typing import Any, Optional


class TransportError(Exception):
    pass


class UserNotFound(Exception):
    pass


class FakeTransport:
    """Stands in for an HTTP session; a real one would hold sockets bound to the running loop."""

    def __init__(self, users: Optional[dict[int, dict[str, Any]]] = None) -> None:
        self.users = users if users is not None else {1: {"id": 1, "name": "ada"}}
        self.requests = 0
        self.closed = False

    async def get(self, path: str) -> dict[str, Any]:
        await asyncio.sleep(0)
        self.requests += 1
        user_id = int(path.rsplit("/", 1)[-1])
        if user_id not in self.users:
            raise UserNotFound(user_id)
        return dict(self.users[user_id])

    async def close(self) -> None:
        await asyncio.sleep(0)
        self.closed = True


class UserClient:
    """Caches users; the lock is created on first use and so belongs to the loop that made it."""

    def __init__(self, transport: FakeTransport) -> None:
        self.transport = transport
        self._cache: dict[int, dict[str, Any]] = {}
        self._lock: Optional[asyncio.Lock] = None

    @property
    def lock(self) -> asyncio.Lock:
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    async def fetch_user(self, user_id: int) -> dict[str, Any]:
        async with self.lock:
            if user_id not in self._cache:
                self._cache[user_id] = await self.transport.get(f"/users/{user_id}")
            return self._cache[user_id]

    async def refresh(self, user_id: int) -> dict[str, Any]:
        self._cache.pop(user_id, None)
        return await self.fetch_user(user_id)

    def cached(self, user_id: int) -> Optional[dict[str, Any]]:
        return self._cache.get(user_id)

    async def aclose(self) -> None:
        await self.transport.close()


async def fetch_user(user_id: int) -> dict[str, Any]:
    """Module-level convenience used by scripts."""
    client = UserClient(FakeTransport())
    try:
        return await client.fetch_user(user_id)
    finally:
        await client.aclose()
