"""`--tcp HOST:PORT`: the same server over a socket (for debugging)."""

from __future__ import annotations

import asyncio
import json
import socket
import sys
from typing import Any

import pytest


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _message(reader: asyncio.StreamReader) -> dict[str, Any]:
    header = await reader.readuntil(b"\r\n\r\n")
    length = int(header.split(b"Content-Length:")[1].split(b"\r\n")[0])
    return dict(json.loads(await reader.readexactly(length)))


def _frame(message: dict[str, Any]) -> bytes:
    body = json.dumps({"jsonrpc": "2.0", **message}).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


@pytest.mark.asyncio
async def test_tcp_session() -> None:
    port = _free_port()
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "async_test_lint.lsp", "--tcp", f"127.0.0.1:{port}"
    )
    try:
        for _ in range(100):
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                break
            except OSError:
                await asyncio.sleep(0.1)
        else:
            raise AssertionError("the server never listened")
        writer.write(_frame({"id": 1, "method": "initialize", "params": {"capabilities": {}}}))
        reply = await asyncio.wait_for(_message(reader), 20)
        assert reply["result"]["serverInfo"]["name"] == "async-test-lint"
        writer.write(_frame({"method": "initialized", "params": {}}))
        writer.write(_frame({"id": 2, "method": "shutdown", "params": None}))
        while (await asyncio.wait_for(_message(reader), 20)).get("id") != 2:
            pass
        writer.write(_frame({"method": "exit", "params": None}))
        await writer.drain()
        assert await asyncio.wait_for(server.wait(), 20) == 0
    finally:
        if server.returncode is None:
            server.kill()
            await server.wait()
