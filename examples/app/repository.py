"""A repository that awaits its injected dependencies (a database and a cache)."""

from __future__ import annotations

from typing import Any, Optional, Protocol


class Database(Protocol):
    async def fetch_one(self, query: str, *args: Any) -> Optional[dict[str, Any]]: ...

    async def execute(self, query: str, *args: Any) -> int: ...


class Cache(Protocol):
    async def get(self, key: str) -> Optional[dict[str, Any]]: ...

    async def set(self, key: str, value: dict[str, Any]) -> None: ...


class UserRepository:
    def __init__(self, db: Database, cache: Cache) -> None:
        self.db = db
        self.cache = cache

    async def get(self, user_id: int) -> Optional[dict[str, Any]]:
        key = f"user:{user_id}"
        cached = await self.cache.get(key)
        if cached is not None:
            return cached
        row = await self.db.fetch_one("SELECT * FROM users WHERE id = ?", user_id)
        if row is not None:
            await self.cache.set(key, row)
        return row

    async def rename(self, user_id: int, name: str) -> bool:
        changed = await self.db.execute("UPDATE users SET name = ? WHERE id = ?", name, user_id)
        return changed == 1

    async def get_or_none(self, user_id: int) -> Optional[dict[str, Any]]:
        try:
            return await self.get(user_id)
        except Exception:  # a broad except: a Mock that cannot be awaited is swallowed here
            return None
