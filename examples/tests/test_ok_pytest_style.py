"""Correct: pytest-style async tests run by pytest-asyncio (no unittest base)."""

import asyncio

import pytest

from app.client import FakeTransport, UserClient, UserNotFound


@pytest.fixture
async def client():
    client = UserClient(FakeTransport())
    yield client
    await client.aclose()


@pytest.mark.asyncio
async def test_fetch_user(client):
    assert (await client.fetch_user(1))["name"] == "ada"


@pytest.mark.asyncio(loop_scope="function")
async def test_missing_user(client):
    with pytest.raises(UserNotFound):
        await client.fetch_user(99)


class TestClient:
    @pytest.mark.asyncio
    async def test_refresh(self, client):
        await asyncio.sleep(0)
        assert (await client.refresh(1))["id"] == 1
