"""Qualified names of well-known APIs, and their canonical spellings.

`asyncio.events.get_event_loop` and `asyncio.get_event_loop` are one function; the `mock` backport
on PyPI is `unittest.mock`. Rules compare canonical names only.
"""

from __future__ import annotations

import builtins
from functools import lru_cache

BUILTIN_NAMES = frozenset(dir(builtins))

_PREFIX_ALIASES = (
    ("asyncio.events.", "asyncio."),
    ("asyncio.runners.", "asyncio."),
    ("asyncio.tasks.", "asyncio."),
    ("asyncio.queues.", "asyncio."),
    ("asyncio.locks.", "asyncio."),
    ("asyncio.futures.", "asyncio."),
    ("asyncio.base_events.", "asyncio."),
    ("asyncio.streams.", "asyncio."),
    ("asyncio.subprocess.", "asyncio."),
    ("asyncio.timeouts.", "asyncio."),
    ("unittest.case.", "unittest."),
    ("unittest.async_case.", "unittest."),
    ("mock.mock.", "unittest.mock."),
    ("mock.", "unittest.mock."),
    ("asynctest.case.", "asynctest."),
    ("asynctest.mock.", "asynctest."),
    ("django.test.testcases.", "django.test."),
    ("tornado.testing.", "tornado.testing."),
)


@lru_cache(maxsize=8192)
def canonical(qualified_name: str) -> str:
    # Memoised: called for every name the rules resolve (a pure function of its argument).
    for prefix, replacement in _PREFIX_ALIASES:
        if qualified_name.startswith(prefix):
            return replacement + qualified_name[len(prefix) :]
    if qualified_name == "mock":
        return "unittest.mock"
    return qualified_name


def is_test_path(path: str | None) -> bool:
    """A file pytest collects by default (`test_*.py`, `*_test.py`), `conftest.py`, or Django's
    `tests.py`."""
    if not path:
        return False
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, suffix = name.rpartition(".")
    if not dot or suffix not in ("py", "pyi"):
        return False
    return stem.startswith("test_") or stem.endswith("_test") or stem in ("tests", "conftest")


TESTCASE = "unittest.TestCase"
ISOLATED_TESTCASE = "unittest.IsolatedAsyncioTestCase"

#: Framework test cases that run coroutine test methods themselves.
ASYNC_FRAMEWORK_TESTCASES = frozenset(
    {
        "django.test.SimpleTestCase",
        "django.test.TestCase",
        "django.test.TransactionTestCase",
        "django.test.LiveServerTestCase",
        "django.contrib.staticfiles.testing.StaticLiveServerTestCase",
        "aiohttp.test_utils.AioHTTPTestCase",
        "tornado.testing.AsyncTestCase",
        "tornado.testing.AsyncHTTPTestCase",
        "tornado.testing.AsyncHTTPSTestCase",
        "twisted.trial.unittest.TestCase",
        "twisted.trial.unittest.SynchronousTestCase",
        "asynctest.TestCase",
        "asynctest.ClockedTestCase",
        "aiounittest.AsyncTestCase",
    }
)

#: Bases that add nothing to how tests run.
NEUTRAL_BASES = frozenset(
    {
        "builtins.object",
        "abc.ABC",
        "typing.Generic",
        "typing.Protocol",
        "typing_extensions.Protocol",
    }
)

NEUTRAL_METACLASSES = frozenset({"abc.ABCMeta", "builtins.type"})

#: Class decorators known to leave coroutine test methods alone.
NEUTRAL_CLASS_DECORATOR_PREFIXES = (
    "unittest.skip",
    "unittest.skipIf",
    "unittest.skipUnless",
    "unittest.expectedFailure",
    "unittest.mock.patch",
    "pytest.mark.",
    "django.test.override_settings",
    "django.test.modify_settings",
    "django.test.tag",
    "django.test.utils.override_settings",
    "dataclasses.dataclass",
    "functools.total_ordering",
)

#: Methods whose override means the class runs its tests its own way.
RUNNER_METHODS = frozenset(
    {"_callTestMethod", "_callSetUp", "_callTearDown", "_callCleanup", "run", "debug", "__call__"}
)

#: unittest's lifecycle hooks: never test methods, often where loops are made.
SYNC_LIFECYCLE = frozenset({"setUp", "tearDown", "setUpClass", "tearDownClass"})
ASYNC_LIFECYCLE = frozenset({"asyncSetUp", "asyncTearDown"})

RUN = "asyncio.run"
GET_EVENT_LOOP = "asyncio.get_event_loop"
NEW_EVENT_LOOP = "asyncio.new_event_loop"
SET_EVENT_LOOP = "asyncio.set_event_loop"
GET_RUNNING_LOOP = "asyncio.get_running_loop"
GET_EVENT_LOOP_POLICY = "asyncio.get_event_loop_policy"
SET_EVENT_LOOP_POLICY = "asyncio.set_event_loop_policy"

MOCK = "unittest.mock.Mock"
MAGIC_MOCK = "unittest.mock.MagicMock"
NON_CALLABLE_MOCK = "unittest.mock.NonCallableMock"
ASYNC_MOCK = "unittest.mock.AsyncMock"
SYNC_MOCKS = frozenset({MOCK, MAGIC_MOCK})
PATCH = "unittest.mock.patch"
PATCH_OBJECT = "unittest.mock.patch.object"

ASYNCCONTEXTMANAGER = "contextlib.asynccontextmanager"

#: Coroutine functions of libraries whose names are stable: calling one without `await` is a bug.
KNOWN_COROUTINE_FUNCTIONS = frozenset(
    {
        "asyncio.sleep",
        "asyncio.wait_for",
        "asyncio.wait",
        "asyncio.open_connection",
        "asyncio.open_unix_connection",
        "asyncio.start_server",
        "asyncio.start_unix_server",
        "asyncio.create_subprocess_exec",
        "asyncio.create_subprocess_shell",
        "asyncio.to_thread",
        "asyncio.staggered.staggered_race",
    }
)

#: Loop-bound asyncio primitives: made on one loop, they fail or hang on another.
LOOP_BOUND_FACTORIES = frozenset(
    {
        "asyncio.Queue",
        "asyncio.PriorityQueue",
        "asyncio.LifoQueue",
        "asyncio.Lock",
        "asyncio.Event",
        "asyncio.Condition",
        "asyncio.Semaphore",
        "asyncio.BoundedSemaphore",
        "asyncio.Barrier",
        "asyncio.Future",
        "asyncio.create_task",
        "asyncio.ensure_future",
    }
)
