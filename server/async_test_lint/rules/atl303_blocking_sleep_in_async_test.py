"""ATL303: `time.sleep()` inside a coroutine function of a test module."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from ..analysis.branches import in_dead_branch
from ..analysis.coroutines import aliases_of, is_test_support_module, where
from ..analysis.model import CallSite, SemanticModel
from ..context import Context
from ..fixes.expressions import needs_parentheses_as_operand
from ..fixes.imports import NameReference, module_reference, reference
from ..model import Diagnostic, Edit, Fix, Safety, TextRange
from .base import Invalid, Rule, Valid

TIME_SLEEP = "time.sleep"
ASYNCIO_SLEEP = "asyncio.sleep"


class BlockingSleepInAsyncTest(Rule):
    code = "ATL303"
    name = "blocking-sleep-in-async-test"
    family = "T13"
    summary = "`time.sleep()` blocks the event loop inside an async test or async test helper"
    what = (
        "Finds `time.sleep()` under any name (`from time import sleep as pause`, `import time "
        "as t`) called directly in an `async def` of test code: async test methods, "
        "`asyncSetUp`/`asyncTearDown`, async helpers, pytest-style `async def test_*` functions "
        "and async fixtures of a test module (a file named `test_*.py`, `*_test.py`, `tests.py` "
        "or `conftest.py`, or any file that defines a `unittest.TestCase` subclass), and the "
        "async helpers of test-utility modules: a module under a `tests/`, `test/` or "
        "`testing/` folder (`tests/utils.py`), one named for tests (`myproj/testing.py`, "
        "`test_utils.py`), or one the project's test modules import that imports `unittest` or "
        "`pytest` itself (a harness; application code the tests import is not one). A "
        "`time.sleep` in a sync function nested in the coroutine, or handed to "
        "`run_in_executor`/`asyncio.to_thread`, runs off the loop and is not reported, nor one "
        "in a branch that never runs (`if _IS_SYNC:` with `_IS_SYNC = False` bound once at "
        "module level)."
    )
    why = (
        "`time.sleep()` blocks the thread that runs the event loop: nothing else progresses "
        'while it sleeps. A test that sleeps to "let the background task run" makes sure it '
        "cannot run, so it passes or fails by accident of timing; servers, timeouts and "
        "heartbeats started by the test stall. `IsolatedAsyncioTestCase` runs the loop in debug "
        "mode and logs *Executing <Task ...> took 1.002 seconds*."
    )
    versions = "All Python 3 versions."
    fix_notes = (
        "Safe: `time.sleep(x)` becomes `await asyncio.sleep(x)` (spelled through an existing "
        "`asyncio` import or alias, or with `import asyncio` added). The test still waits as "
        "long, but other tasks run meanwhile, which is what the sleep was for. The `time` import "
        "is left in place."
    )
    fix_safety = Safety.SAFE

    def check(self, context: Context) -> Iterator[Diagnostic]:
        model, semantics = context.model, context.semantics
        names = {"sleep", *aliases_of(model, TIME_SLEEP)}  # `from time import sleep as pause`
        sites = [
            site for site in model.calls_named(*names) if model.callee_name(site) == TIME_SLEEP
        ]
        if not sites or not is_test_support_module(model, semantics):
            return
        for site in sites:
            function = site.function
            if function is None or not function.is_async or site.scope is not function.scope:
                continue
            if site.awaited or semantics.manages_loop_state(function):
                continue  # a loop harness blocks its loop on purpose (asyncio's timeout tests)
            if in_dead_branch(model, site.node):
                continue  # `if _IS_SYNC:` in the async source of a generated suite
            message = (
                f"time.sleep() blocks the event loop in {where(function)}: "
                "use await asyncio.sleep()"
            )
            yield context.report(
                self,
                site.node,
                message,
                context.lazy_fix(
                    "Use await asyncio.sleep()",
                    Safety.SAFE,
                    partial(_fix, model, site),
                ),
            )


def _sleep_reference(model: SemanticModel, site: CallSite) -> NameReference | None:
    """`asyncio.sleep`, `aio.sleep` or `sleep` (from asyncio), adding `import asyncio` if needed."""
    found = reference(model, ASYNCIO_SLEEP)
    if found is not None and not found.edits:
        spelled = found
    else:
        module = module_reference(model, "asyncio")
        if module is not None:
            spelled = NameReference(f"{module.text}.sleep", module.edits)
        elif found is not None:
            spelled = found
        else:
            return None
    # The spelling must mean the module-level name where the call stands.
    head = spelled.text.split(".")[0]
    bindings = model.lookup(head, site.scope)
    if bindings is not None and bindings is not model.module_scope.bindings.get(head):
        return None
    return spelled


def _fix(model: SemanticModel, site: CallSite) -> Fix | None:
    spelled = _sleep_reference(model, site)
    if spelled is None:
        return None
    call = site.node
    parsed = model.parsed
    func_range = parsed.node_range(call.func)
    call_range = parsed.node_range(call)
    parens = needs_parentheses_as_operand(model, call)
    edits = [Edit(func_range, ("(" if parens else "") + "await " + spelled.text)]
    if parens:
        edits.append(Edit(TextRange(call_range.end, call_range.end), ")"))
    edits.extend(spelled.edits)
    return Fix("Use await asyncio.sleep()", Safety.SAFE, tuple(edits))


BlockingSleepInAsyncTest.invalid = (
    Invalid(
        """\
import asyncio
import time
import unittest


class TickerTest(unittest.IsolatedAsyncioTestCase):
    async def test_ticks(self):
        ticks = []

        async def tick():
            ticks.append(1)

        task = asyncio.create_task(tick())
        time.sleep(0.01)
        self.assertEqual(ticks, [1])
        await task
""",
        line=14,
        fixed="""\
import asyncio
import time
import unittest


class TickerTest(unittest.IsolatedAsyncioTestCase):
    async def test_ticks(self):
        ticks = []

        async def tick():
            ticks.append(1)

        task = asyncio.create_task(tick())
        await asyncio.sleep(0.01)
        self.assertEqual(ticks, [1])
        await task
""",
        runnable=True,
        note="The background task cannot run while the loop is blocked: the assertion fails "
        "before the fix and passes after it.",
    ),
    Invalid(
        """\
import time as t
import unittest as ut


class CacheTest(ut.IsolatedAsyncioTestCase):
    async def wait_for_expiry(self):
        t.sleep(0.01)

    async def test_expiry(self):
        await self.wait_for_expiry()
        self.assertTrue(True)
""",
        line=7,
        fixed="""\
import time as t
import unittest as ut
import asyncio


class CacheTest(ut.IsolatedAsyncioTestCase):
    async def wait_for_expiry(self):
        await asyncio.sleep(0.01)

    async def test_expiry(self):
        await self.wait_for_expiry()
        self.assertTrue(True)
""",
        runnable=True,
        note="`import time as t`, in an async helper of the test class; `import asyncio` is added.",
    ),
    Invalid(
        """\
import asyncio as aio
from time import sleep

import pytest


@pytest.fixture
async def server():
    sleep(0.5)
    yield "server"


async def test_server(server):
    assert server == "server"
    await aio.sleep(0)
""",
        line=9,
        path="tests/test_server.py",
        fixed="""\
import asyncio as aio
from time import sleep

import pytest


@pytest.fixture
async def server():
    await aio.sleep(0.5)
    yield "server"


async def test_server(server):
    assert server == "server"
    await aio.sleep(0)
""",
        note="`from time import sleep` in an async pytest fixture; the `aio` alias is reused.",
    ),
    Invalid(
        """\
import unittest
from time import sleep as pause


class ServerTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        pause(0.01)
        self.ready = True

    async def asyncTearDown(self):
        pause(0.01)

    async def test_ready(self):
        self.assertTrue(self.ready)
""",
        line=7,
        count=2,
        fixed="""\
import unittest
from time import sleep as pause
import asyncio


class ServerTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        await asyncio.sleep(0.01)
        self.ready = True

    async def asyncTearDown(self):
        await asyncio.sleep(0.01)

    async def test_ready(self):
        self.assertTrue(self.ready)
""",
        runnable=True,
        note="`from time import sleep as pause` in `asyncSetUp` and `asyncTearDown`.",
    ),
    Invalid(
        """\
import time


async def wait_until(check, timeout=1.0):
    waited = 0.0
    while not check():
        time.sleep(0.01)
        waited += 0.01
        if waited > timeout:
            raise TimeoutError
""",
        line=7,
        path="tests/utils.py",
        fixed="""\
import time
import asyncio


async def wait_until(check, timeout=1.0):
    waited = 0.0
    while not check():
        await asyncio.sleep(0.01)
        waited += 0.01
        if waited > timeout:
            raise TimeoutError
""",
        note="An async polling helper of a test-utilities module (`tests/utils.py`, not itself "
        "a test file): it runs on the tests' loop.",
    ),
    Invalid(
        """\
import asyncio
import time as clock


async def settle(loop_turns=3):
    for _ in range(loop_turns):
        clock.sleep(0.001)
    await asyncio.sleep(0)
""",
        line=7,
        path="myproj/testing.py",
        fixed="""\
import asyncio
import time as clock


async def settle(loop_turns=3):
    for _ in range(loop_turns):
        await asyncio.sleep(0.001)
    await asyncio.sleep(0)
""",
        note="A package's `testing` module (`myproj/testing.py`), `import time as clock`.",
    ),
    Invalid(
        """\
import time

import pytest


@pytest.fixture
def service():
    return {"ready": True}


async def wait_for_service(service):
    while not service["ready"]:
        time.sleep(0.05)
""",
        line=13,
        path="myproj/harness.py",
        files={
            "myproj/__init__.py": "",
            "tests/test_service.py": """\
from myproj.harness import service, wait_for_service


async def test_ready(service):
    await wait_for_service(service)
""",
        },
        fixed="""\
import time

import pytest
import asyncio


@pytest.fixture
def service():
    return {"ready": True}


async def wait_for_service(service):
    while not service["ready"]:
        await asyncio.sleep(0.05)
""",
        note="A harness module the project's tests import (it imports `pytest` itself and is "
        "not named for tests).",
    ),
)

BlockingSleepInAsyncTest.valid = (
    Valid(
        """\
import asyncio
import time
import unittest


class TimeoutTests(unittest.IsolatedAsyncioTestCase):
    def setUp(self):
        self.addCleanup(asyncio.set_event_loop_policy, None)

    async def test_slow_callback_is_cancelled(self):
        with self.assertRaises(TimeoutError):
            async with asyncio.timeout(0.01):
                time.sleep(0.02)  # block the loop on purpose: the timeout fires late
                await asyncio.sleep(1)
""",
        note=(
            "A loop harness that restores the event-loop policy itself and blocks its loop on "
            "purpose (asyncio's timeout tests)."
        ),
    ),
    Valid(
        """\
import asyncio
import time
import unittest


class WorkerTest(unittest.IsolatedAsyncioTestCase):
    async def test_blocking_work_in_thread(self):
        def work():
            time.sleep(0.01)
            return 1

        loop = asyncio.get_running_loop()
        self.assertEqual(await loop.run_in_executor(None, work), 1)
        await asyncio.to_thread(time.sleep, 0.01)
""",
        note="A sync function run in a thread, and `time.sleep` handed to `asyncio.to_thread`.",
    ),
    Valid(
        """\
import time
import unittest


class RetryTest(unittest.TestCase):
    def test_backoff(self):
        time.sleep(0.01)
""",
        note="A sync test may block: no loop runs.",
    ),
    Valid(
        """\
import time


async def poll(client):
    time.sleep(0.1)
    return await client.get()
""",
        path="app/poller.py",
        note="Application code, not a test module: out of this rule's scope.",
    ),
    Valid(
        """\
import asyncio
import unittest


class Clock:
    def sleep(self, seconds):
        return seconds


class ClockTest(unittest.IsolatedAsyncioTestCase):
    async def test_fake_sleep(self):
        clock = Clock()
        clock.sleep(5)
        await asyncio.sleep(0)
""",
        note="A `sleep` method of another object.",
    ),
    Valid(
        """\
import asyncio
import time
import unittest

_IS_SYNC = False


class PollTest(unittest.IsolatedAsyncioTestCase):
    async def test_poll(self):
        if _IS_SYNC:
            time.sleep(0.01)
        else:
            await asyncio.sleep(0.01)
""",
        note="The async source of a generated suite: the `_IS_SYNC` branch never runs here.",
    ),
)

BlockingSleepInAsyncTest.valid += (
    Valid(
        """\
import time


async def poll(client):
    while not client.ready:
        time.sleep(0.1)
    return await client.get()
""",
        path="myproj/worker.py",
        files={
            "myproj/__init__.py": "",
            "tests/test_worker.py": "from myproj.worker import poll\n",
        },
        note="Application code that the tests import (the code under test, not a harness: it "
        "imports no test framework).",
    ),
    Valid(
        """\
import asyncio
import time
from time import sleep as pause


def wait_blocking(seconds):
    time.sleep(seconds)


async def wait_in_thread(seconds):
    def work():
        pause(seconds)

    await asyncio.to_thread(work)
    await asyncio.to_thread(time.sleep, seconds)
""",
        path="tests/utils.py",
        note="A test-utilities module: a sync helper may block, and a blocking sleep run in a "
        "thread does not block the loop.",
    ),
    Valid(
        """\
import time


async def refresh_attestation(store):
    time.sleep(0.01)
    return store
""",
        path="myproj/attestation.py",
        note="A module whose name merely contains `test` is not a test module.",
    ),
)
