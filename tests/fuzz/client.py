"""A small synchronous LSP client over stdio that records every message the server sends.

The fuzzer is a synchronous hypothesis state machine; pytest-lsp's client is asynchronous. This
client is plain threads: one reads the server's stdout into a queue, one keeps the tail of its
stderr for the failure report. Requests wait with a time-out: a server that does not answer is a
failure that names the request. Requests from the server (`workspace/configuration`, capability
registration, progress) are answered at once, as an editor does.
"""

from __future__ import annotations

import collections
import itertools
import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO

SERVER = [sys.executable, "-m", "async_test_lint.lsp"]
REQUEST_TIMEOUT = 20.0

Handler = Callable[[dict[str, Any]], Any]


class ServerFailure(AssertionError):
    """The server broke a promise of the protocol: no answer, an exit, an error response."""


@dataclass
class Received:
    """Everything the server sent that is not a response, in order."""

    notifications: list[dict[str, Any]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)


def _read_message(stream: BinaryIO) -> dict[str, Any] | None:
    length = None
    while True:
        header = stream.readline()
        if not header:
            return None
        if header in (b"\r\n", b"\n"):
            break
        name, _, value = header.decode("ascii").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    if length is None:
        raise ServerFailure("a message without Content-Length")
    body = stream.read(length)
    if len(body) < length:
        return None
    message: dict[str, Any] = json.loads(body)
    return message


class StdioClient:
    def __init__(self, env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            SERVER,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "ASYNC_TEST_LINT_LOG_LEVEL": "WARNING", **(env or {})},
        )
        self._ids = itertools.count(1)
        self._inbox: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._stderr: collections.deque[str] = collections.deque(maxlen=200)
        self._write_lock = threading.Lock()
        self.received = Received()
        self.handlers: dict[str, Handler] = {}
        #: called with each notification as it is taken from the queue (in the caller's thread).
        self.on_notification: Callable[[dict[str, Any]], None] = lambda message: None
        threading.Thread(target=self._pump_stdout, daemon=True).start()
        threading.Thread(target=self._pump_stderr, daemon=True).start()

    # -- transport

    def _pump_stdout(self) -> None:
        assert self.process.stdout is not None
        try:
            while (message := _read_message(self.process.stdout)) is not None:
                self._inbox.put(message)
        finally:
            self._inbox.put(None)

    def _pump_stderr(self) -> None:
        assert self.process.stderr is not None
        for line in iter(self.process.stderr.readline, b""):
            self._stderr.append(line.decode("utf-8", "replace").rstrip())

    def stderr_tail(self) -> str:
        return "\n".join(self._stderr)

    def _send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode("utf-8")
        assert self.process.stdin is not None
        with self._write_lock:
            try:
                self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
                self.process.stdin.flush()
            except (BrokenPipeError, OSError) as error:
                tail = self.stderr_tail()
                raise ServerFailure(f"the server is gone ({error}):\n{tail}") from None

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    # -- messages

    def notify(self, method: str, params: Any) -> None:
        self._send({"method": method, "params": params})

    def request(self, method: str, params: Any, timeout: float = REQUEST_TIMEOUT) -> Any:
        """Send a request and wait for its answer, handling whatever arrives meanwhile."""
        return self.wait_for(self.send_request(method, params), method, timeout)

    def send_request(self, method: str, params: Any) -> int:
        number = next(self._ids)
        self._send({"id": number, "method": method, "params": params})
        return number

    def wait_for(self, number: int, method: str, timeout: float = REQUEST_TIMEOUT) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            message = self._next(deadline, f"{method} (request {number})")
            if message.get("id") == number and "method" not in message:
                if "error" in message:
                    raise ServerFailure(f"{method} failed: {message['error']}")
                return message.get("result")
            self._dispatch(message)

    def wait_until(
        self, done: Callable[[], bool], what: str, timeout: float = REQUEST_TIMEOUT
    ) -> None:
        """Handle messages until `done()` (checked after each one)."""
        deadline = time.monotonic() + timeout
        while not done():
            self._dispatch(self._next(deadline, what))

    def drain(self, quiet: float, limit: float = REQUEST_TIMEOUT) -> None:
        """Handle messages until the server has said nothing for `quiet` seconds (a server that
        keeps talking for `limit` seconds is a failure: a publishing loop is a hang too)."""
        deadline = time.monotonic() + limit
        while True:
            if time.monotonic() > deadline:
                raise ServerFailure(
                    f"the server did not go quiet in {limit} s; stderr:\n{self.stderr_tail()}"
                )
            try:
                message = self._inbox.get(timeout=quiet)
            except queue.Empty:
                return
            if message is None:  # the server is gone: the next request reports it
                self._inbox.put(None)
                return
            self._dispatch(message)

    def _next(self, deadline: float, waiting_for: str) -> dict[str, Any]:
        """The next message, whatever it is; a failure when the server exits or stays silent."""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ServerFailure(
                    f"no answer to {waiting_for} in time; server stderr:\n{self.stderr_tail()}"
                )
            try:
                message = self._inbox.get(timeout=remaining)
            except queue.Empty:
                continue
            if message is None:
                self._inbox.put(None)  # stays closed for later calls
                raise ServerFailure(
                    f"the server exited (code {self.process.poll()}) while waiting for"
                    f" {waiting_for}; stderr:\n{self.stderr_tail()}"
                )
            return message

    def _dispatch(self, message: dict[str, Any]) -> None:
        if "method" not in message:
            return  # a late answer to a request that timed out
        if "id" in message:
            self.received.requests.append(message)
            handler = self.handlers.get(message["method"])
            result = handler(message.get("params")) if handler is not None else None
            self._send({"id": message["id"], "result": result})
            return
        self.received.notifications.append(message)
        self.on_notification(message)

    # -- lifecycle

    def close(self) -> int | None:
        """`shutdown` and `exit` when the server is alive; the exit code (None: killed)."""
        if self.alive:
            try:
                self.request("shutdown", None, timeout=5)
                self.notify("exit", None)
                return self.process.wait(timeout=5)
            except (ServerFailure, subprocess.TimeoutExpired):
                pass
        if self.alive:
            self.process.kill()
            self.process.wait()
            return None
        return self.process.returncode
