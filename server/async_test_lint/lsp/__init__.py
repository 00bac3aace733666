"""The language server: a thin pygls 2.x adapter over the engine (`async-test-lint serve`)."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .server import AsyncTestLintServer

__all__ = ["create_server", "serve"]


def create_server() -> AsyncTestLintServer:
    from .handlers import register
    from .server import AsyncTestLintServer

    server = AsyncTestLintServer()
    register(server)
    return server


def _configure_logging() -> None:
    """Log to stderr (stdout carries the protocol); pygls' per-message logs stay off."""
    level = os.environ.get("ASYNC_TEST_LINT_LOG_LEVEL", "WARNING").upper()
    logging.basicConfig(
        stream=sys.stderr, level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("pygls").setLevel(max(logging.getLevelName(level), logging.WARNING))


def serve(tcp: str | None = None) -> None:
    """Run the server over stdio, or over TCP when `tcp` is "HOST:PORT" (for debugging).

    Exits the process with LSP's exit code: 0 after `shutdown` then `exit`, 1 for `exit` alone.
    """
    from .. import engine

    _configure_logging()
    server = create_server()
    engine.freeze_startup_objects()
    if tcp:
        host, _, port = tcp.rpartition(":")
        server.start_tcp(host or "127.0.0.1", int(port))
    else:
        server.start_io()
    server.stop()
    code = server.exit_code
    _exit_now(code if code is not None else (0 if server.protocol._shutdown else 1))


def _exit_now(code: int) -> None:
    """End the process at once: a lint still running in a thread is not waited for (the worker
    process is gone already: `server.stop`). `sys.exit` would join the lint thread first."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)
