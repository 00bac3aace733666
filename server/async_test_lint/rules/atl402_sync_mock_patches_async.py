"""ATL402: `patch`/`patch.object` replaces an `async def` with a plain `Mock`/`MagicMock`."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import partial

from ..analysis.mocks import (
    async_callable,
    awaited_name_somewhere,
    instance_of,
    is_plain_value,
    method_or_function,
    plain_sync_mock,
    short_name,
)
from ..analysis.model import CallSite
from ..analysis.names import PATCH, PATCH_OBJECT, SYNC_MOCKS
from ..analysis.summary import FunctionSummary
from ..analysis.values import constant_string
from ..context import Context
from ..fixes.mocks import async_mock_fix
from ..model import Diagnostic, Safety
from .base import Invalid, Rule, Valid

#: `patch.object(target, attribute, new, spec, create, spec_set, autospec, new_callable)`.
_OBJECT_NEW = 2
#: `patch(target, new, spec, create, spec_set, autospec, new_callable)`.
_PATCH_NEW = 1
PATCH_MULTIPLE = f"{PATCH}.multiple"
#: Keywords of `patch.multiple` that are options, not attributes to replace.
_MULTIPLE_OPTIONS = frozenset({"spec", "create", "spec_set", "autospec", "new_callable"})
#: Keywords of `patch` handed to `new_callable` that may make its calls awaitable.
_SPEC_KEYWORDS = frozenset({"spec", "spec_set", "autospec", "side_effect", "wraps"})


class SyncMockPatchesAsync(Rule):
    code = "ATL402"
    name = "sync-mock-patches-async"
    family = "T5"
    summary = "`patch` replaces an `async def` with a plain `Mock`/`MagicMock`"
    what = (
        'Finds `patch.object(Cls, "method", new=MagicMock(...))` (or `new=Mock(...)`, or '
        "`new_callable=MagicMock`/`Mock`) where `Cls.method` is an `async def` (found along the "
        "bases, in this file or another module of the project; `Cls` may also be a module or a "
        'project object), and `patch("pkg.mod.fn", new=...)`/`new_callable=...` where '
        "`pkg.mod.fn` is an `async def` of the project (the target may be built from module "
        "constants, f-strings or `__name__`, and may name the function where it is looked up: "
        "a module that imported it): as a decorator, a context manager or a "
        "`patcher.start()`; also `patch.multiple(target, name=MagicMock())`. "
        "The replacement must be a plain mock: no `spec`/`spec_set`/"
        "`autospec`/`wraps`/`side_effect`, and a `return_value` (if any) that is a literal. The "
        "patched name must also be awaited somewhere the analysis sees (`await self.method(...)`, "
        "`await fn(...)` in the test module or in any module of the project): a coroutine "
        "function that its callers only wrap (`return Wrapper(self._request(...))`) may be "
        "replaced by a plain mock on purpose."
    )
    why = (
        "Without `new`, `patch` sees that the target is an `async def` and creates an `AsyncMock` "
        "(since Python 3.8). An explicit `MagicMock`/`Mock` opts out of that: the patched "
        "function now returns a plain value, and the code under test fails with *TypeError: "
        "object MagicMock can't be used in 'await' expression*, or, behind a broad `except`, "
        "takes its error path while the test passes for the wrong reason."
    )
    versions = (
        "All Python 3 versions; `AsyncMock` (and `patch`'s automatic `AsyncMock`) exist since "
        "3.8, and below that no fix is offered."
    )
    fix_notes = (
        "Unsafe: the replacement becomes `AsyncMock` (`new=AsyncMock(...)` with the same "
        "arguments, or `new_callable=AsyncMock`), spelled through an existing `mock` alias or "
        "added to the `unittest.mock` import. Code that calls the patched function without "
        "awaiting it (a sync caller, a `loop.create_task(fn())` that expects a coroutine is "
        "fine) now gets a coroutine; and assertions written for the `Mock` (`assert_called_*`) "
        "still pass, while `assert_awaited_*` become available. Removing `new` altogether "
        '(plain `patch("pkg.fn")`) is an equivalent alternative.'
    )
    fix_safety = Safety.UNSAFE

    def check(self, context: Context) -> Iterator[Diagnostic]:
        model = context.model
        for site in model.calls_named("object", "patch", "multiple"):
            name = model.callee_name(site)
            if name == PATCH_MULTIPLE:
                yield from self._check_multiple(context, site)
                continue
            if name == PATCH_OBJECT:
                found = self._target_of_object(context, site)
                position = _OBJECT_NEW
            elif name == PATCH:
                found = self._target_of_patch(context, site)
                position = _PATCH_NEW
            else:
                continue
            if found is None:
                continue
            label, summary = found
            if not async_callable(summary):
                continue
            if not awaited_name_somewhere(context.semantics, label.rpartition(".")[2]):
                continue  # nobody awaits it directly: a sync caller may use the coroutine itself
            replacement = self._sync_replacement(context, site, position)
            if replacement is None:
                continue
            node, factory, fix_target = replacement
            yield self._report(context, node, label, factory, fix_target)

    def _report(
        self, context: Context, node: ast.expr, label: str, factory: str, fix_target: ast.expr
    ) -> Diagnostic:
        message = (
            f"{label} is an async def, but patch replaces it with a {short_name(factory)}: "
            f"calling it returns a value that cannot be awaited (use AsyncMock)"
        )
        fix = None
        if context.target >= (3, 8):
            fix = context.lazy_fix(
                "Use AsyncMock",
                Safety.UNSAFE,
                partial(async_mock_fix, context.model, fix_target, "Use AsyncMock"),
            )
        return context.report(self, node, message, fix)

    def _check_multiple(self, context: Context, site: CallSite) -> Iterator[Diagnostic]:
        """`patch.multiple(Cls, fetch=MagicMock())`: each keyword replaces one attribute."""
        arguments = site.node.args
        if not arguments or isinstance(arguments[0], ast.Starred):
            return
        first = arguments[0]
        target = constant_string(context.model, first, site.scope)
        if target is None:
            target = context.model.qualified_name(first, site.scope)
        if target is None:
            return
        for keyword in site.node.keywords:
            if keyword.arg is None or keyword.arg in _MULTIPLE_OPTIONS:
                continue
            factory = plain_sync_mock(context.semantics, keyword.value, site.scope)
            if factory is None or not isinstance(keyword.value, ast.Call):
                continue
            if not async_callable(method_or_function(context.semantics, target, keyword.arg)):
                continue
            if not awaited_name_somewhere(context.semantics, keyword.arg):
                continue
            label = f"{short_name(target)}.{keyword.arg}"
            yield self._report(context, keyword.value, label, factory, keyword.value.func)

    def _target_of_object(
        self, context: Context, site: CallSite
    ) -> tuple[str, FunctionSummary | None] | None:
        arguments = site.node.args
        if len(arguments) < 2 or any(isinstance(a, ast.Starred) for a in arguments[:2]):
            return None
        target, attribute = arguments[0], arguments[1]
        if not (isinstance(attribute, ast.Constant) and isinstance(attribute.value, str)):
            return None
        semantics = context.semantics
        qualified = context.model.qualified_name(target, site.scope)
        if qualified is not None:
            found = method_or_function(semantics, qualified, attribute.value)
            return f"{short_name(qualified)}.{attribute.value}", found
        if site.function is not None:
            cls = instance_of(semantics, target, site.function)
            if cls is not None:
                method = semantics.find_method(cls, attribute.value)
                return f"{short_name(cls.qualname)}.{attribute.value}", method
        return None

    def _target_of_patch(
        self, context: Context, site: CallSite
    ) -> tuple[str, FunctionSummary | None] | None:
        arguments = site.node.args
        if not arguments:
            return None
        target = constant_string(context.model, arguments[0], site.scope)
        if target is None or "." not in target:
            return None
        found = context.semantics.find_function(target)
        if found is None:
            owner, _, attribute = target.rpartition(".")
            cls = context.semantics.find_class(owner)
            found = context.semantics.find_method(cls, attribute) if cls is not None else None
        return target, found

    def _sync_replacement(
        self, context: Context, site: CallSite, position: int
    ) -> tuple[ast.expr, str, ast.expr] | None:
        """(reported node, mock class, expression to respell) for a plain sync replacement."""
        call = site.node
        if any(isinstance(a, ast.Starred) for a in call.args) or any(
            k.arg is None for k in call.keywords
        ):
            return None
        keywords = {keyword.arg: keyword.value for keyword in call.keywords if keyword.arg}
        new = call.args[position] if len(call.args) > position else keywords.get("new")
        if new is not None:
            factory = plain_sync_mock(context.semantics, new, site.scope)
            if factory is None or not isinstance(new, ast.Call):
                return None
            return new, factory, new.func
        new_callable = keywords.get("new_callable")
        if new_callable is None or len(call.args) > position + 1:
            return None
        factory = context.model.qualified_name(new_callable, site.scope)
        if factory not in SYNC_MOCKS:
            return None
        if _SPEC_KEYWORDS.intersection(keywords):
            return None
        returned = keywords.get("return_value")
        if returned is not None and not is_plain_value(returned):
            return None
        if set(keywords) - {"new_callable", "return_value", "create", "name"}:
            return None
        return new_callable, factory, new_callable


_SHOP_CLIENT = """\
async def fetch(url):
    raise ConnectionError(url)
class Api:
    async def get(self, path):
        raise ConnectionError(path)
"""

_SHOP_SERVICE = """\
from shop.client import fetch, Api
async def load(url):
    return await fetch(url)
class Loader:
    def __init__(self):
        self.api = Api()
    async def run(self):
        return await self.api.get("/x")
"""

SyncMockPatchesAsync.invalid = (
    Invalid(
        """\
import unittest
from unittest.mock import MagicMock, patch

from app.client import UserClient


class RefreshTest(unittest.IsolatedAsyncioTestCase):
    async def test_refresh(self):
        with patch.object(UserClient, "fetch_user", new=MagicMock(return_value={"id": 1})):
            self.assertEqual(await UserClient().refresh(1), {"id": 1})
""",
        line=9,
        files={
            "app/__init__.py": "",
            "app/client.py": """\
class BaseClient:
    async def fetch_user(self, user_id):
        raise ConnectionError("no network in tests")


class UserClient(BaseClient):
    async def refresh(self, user_id):
        return await self.fetch_user(user_id)
""",
        },
        fixed="""\
import unittest
from unittest.mock import MagicMock, patch, AsyncMock

from app.client import UserClient


class RefreshTest(unittest.IsolatedAsyncioTestCase):
    async def test_refresh(self):
        with patch.object(UserClient, "fetch_user", new=AsyncMock(return_value={"id": 1})):
            self.assertEqual(await UserClient().refresh(1), {"id": 1})
""",
        runnable=True,
        note="`patch.object` as a context manager; the async method is defined on a base class "
        "in another module.",
    ),
    Invalid(
        """\
import unittest
from unittest import mock as m

from app import jobs


class JobTest(unittest.IsolatedAsyncioTestCase):
    @m.patch("app.jobs.notify", new_callable=m.MagicMock)
    async def test_run(self, notify):
        notify.return_value = True
        self.assertTrue(await jobs.run())
""",
        line=8,
        files={
            "app/__init__.py": "",
            "app/jobs.py": """\
async def notify():
    raise ConnectionError("no network in tests")


async def run():
    return await notify()
""",
        },
        fixed="""\
import unittest
from unittest import mock as m

from app import jobs


class JobTest(unittest.IsolatedAsyncioTestCase):
    @m.patch("app.jobs.notify", new_callable=m.AsyncMock)
    async def test_run(self, notify):
        notify.return_value = True
        self.assertTrue(await jobs.run())
""",
        runnable=True,
        note="A `patch` decorator with `new_callable`, through `from unittest import mock as m`.",
    ),
    Invalid(
        """\
import unittest
from unittest.mock import Mock, patch


class Store:
    async def save(self, item):
        raise OSError("disk")


async def archive(store, item):
    await store.save(item)
    return True


class ArchiveTest(unittest.IsolatedAsyncioTestCase):
    def setUp(self):
        patcher = patch.object(Store, "save", Mock())
        patcher.start()
        self.addCleanup(patcher.stop)

    async def test_archive(self):
        self.assertTrue(await archive(Store(), "x"))
""",
        line=17,
        fixed="""\
import unittest
from unittest.mock import Mock, patch, AsyncMock


class Store:
    async def save(self, item):
        raise OSError("disk")


async def archive(store, item):
    await store.save(item)
    return True


class ArchiveTest(unittest.IsolatedAsyncioTestCase):
    def setUp(self):
        patcher = patch.object(Store, "save", AsyncMock())
        patcher.start()
        self.addCleanup(patcher.stop)

    async def test_archive(self):
        self.assertTrue(await archive(Store(), "x"))
""",
        runnable=True,
        note="A patcher started in `setUp`, with the replacement given positionally.",
    ),
    Invalid(
        """\
import unittest
from unittest import mock

from app import mailer


class MailerTest(unittest.IsolatedAsyncioTestCase):
    async def test_send_all(self):
        with mock.patch.multiple(mailer, connect=mock.MagicMock(return_value="conn")):
            self.assertEqual(await mailer.send_all(), "conn")
""",
        line=9,
        files={
            "app/__init__.py": "",
            "app/mailer.py": """\
async def connect():
    raise ConnectionError("no network in tests")


async def send_all():
    return await connect()
""",
        },
        fixed="""\
import unittest
from unittest import mock

from app import mailer


class MailerTest(unittest.IsolatedAsyncioTestCase):
    async def test_send_all(self):
        with mock.patch.multiple(mailer, connect=mock.AsyncMock(return_value="conn")):
            self.assertEqual(await mailer.send_all(), "conn")
""",
        runnable=True,
        note="`patch.multiple` on a module of the project.",
    ),
    Invalid(
        """\
import unittest
from unittest.mock import patch, MagicMock
from shop.service import load
class LoadTest(unittest.IsolatedAsyncioTestCase):
    @patch("shop.service.fetch", new=MagicMock(return_value=1))
    async def test_load(self):
        self.assertEqual(await load("u"), 1)
""",
        line=5,
        files={
            "shop/__init__.py": "",
            "shop/client.py": _SHOP_CLIENT,
            "shop/service.py": _SHOP_SERVICE,
        },
        fixed="""\
import unittest
from unittest.mock import patch, MagicMock, AsyncMock
from shop.service import load
class LoadTest(unittest.IsolatedAsyncioTestCase):
    @patch("shop.service.fetch", new=AsyncMock(return_value=1))
    async def test_load(self):
        self.assertEqual(await load("u"), 1)
""",
        runnable=True,
        note="Patched where it is looked up: `shop.service` imported `fetch` from `shop.client`.",
    ),
    Invalid(
        """\
import unittest
from unittest import mock
from shop import service
TARGET = "shop.service"
class LoadTest(unittest.IsolatedAsyncioTestCase):
    async def test_load(self):
        with mock.patch(f"{TARGET}.fetch", new_callable=mock.MagicMock) as fetch:
            fetch.return_value = 1
            self.assertEqual(await service.load("u"), 1)
""",
        line=7,
        files={
            "shop/__init__.py": "",
            "shop/client.py": _SHOP_CLIENT,
            "shop/service.py": _SHOP_SERVICE,
        },
        fixed="""\
import unittest
from unittest import mock
from shop import service
TARGET = "shop.service"
class LoadTest(unittest.IsolatedAsyncioTestCase):
    async def test_load(self):
        with mock.patch(f"{TARGET}.fetch", new_callable=mock.AsyncMock) as fetch:
            fetch.return_value = 1
            self.assertEqual(await service.load("u"), 1)
""",
        runnable=True,
        note=(
            "The target is an f-string built from a module constant; "
            "`new_callable=mock.MagicMock` in a `with`."
        ),
    ),
    Invalid(
        """\
import unittest
from unittest.mock import patch, Mock
from shop.client import fetch
async def load(url):
    return await fetch(url)
class LoadTest(unittest.IsolatedAsyncioTestCase):
    async def test_load(self):
        with patch(__name__ + ".fetch", Mock(return_value=1)):
            self.assertEqual(await load("u"), 1)
""",
        line=8,
        files={
            "shop/__init__.py": "",
            "shop/client.py": _SHOP_CLIENT,
            "shop/service.py": _SHOP_SERVICE,
        },
        fixed="""\
import unittest
from unittest.mock import patch, Mock, AsyncMock
from shop.client import fetch
async def load(url):
    return await fetch(url)
class LoadTest(unittest.IsolatedAsyncioTestCase):
    async def test_load(self):
        with patch(__name__ + ".fetch", AsyncMock(return_value=1)):
            self.assertEqual(await load("u"), 1)
""",
        runnable=True,
        note=(
            '`__name__ + ".fetch"` patches the name this test module imported; `new` given '
            "positionally."
        ),
    ),
    Invalid(
        """\
import unittest
from unittest.mock import patch, MagicMock
from shop.client import Api
from shop.service import Loader
class LoaderTest(unittest.IsolatedAsyncioTestCase):
    async def test_run(self):
        with patch.object(Api, "get", MagicMock(return_value={})):
            self.assertEqual(await Loader().run(), {})
""",
        line=7,
        files={
            "shop/__init__.py": "",
            "shop/client.py": _SHOP_CLIENT,
            "shop/service.py": _SHOP_SERVICE,
        },
        fixed="""\
import unittest
from unittest.mock import patch, MagicMock, AsyncMock
from shop.client import Api
from shop.service import Loader
class LoaderTest(unittest.IsolatedAsyncioTestCase):
    async def test_run(self):
        with patch.object(Api, "get", AsyncMock(return_value={})):
            self.assertEqual(await Loader().run(), {})
""",
        runnable=True,
        note='`patch.object(Cls, "get", MagicMock(...))` with `new` given positionally.',
    ),
)

SyncMockPatchesAsync.valid = (
    Valid(
        """\
import unittest
from unittest.mock import patch

from app import jobs


class JobTest(unittest.IsolatedAsyncioTestCase):
    @patch("app.jobs.notify")
    async def test_run(self, notify):
        notify.return_value = True
        self.assertTrue(await jobs.run())
""",
        files={
            "app/__init__.py": "",
            "app/jobs.py": (
                "async def notify():\n    return False\n\n\n"
                "async def run():\n    return await notify()\n"
            ),
        },
        note="No explicit `new`: `patch` creates an AsyncMock for an async target (3.8+).",
    ),
    Valid(
        """\
import unittest
from unittest.mock import MagicMock, create_autospec, patch

from app.client import Client


class ClientTest(unittest.IsolatedAsyncioTestCase):
    async def test_spec(self):
        with patch.object(Client, "fetch", new=MagicMock(spec=Client.fetch)):
            pass
        with patch.object(Client, "fetch", new=create_autospec(Client.fetch)):
            pass
        with patch.object(Client, "close", new=MagicMock()):
            Client().close()
""",
        files={
            "app/client.py": (
                "class Client:\n    async def fetch(self):\n        return 1\n\n"
                "    def close(self):\n        pass\n"
            ),
        },
        note="A spec'd MagicMock or `create_autospec` (async methods become AsyncMock); a sync "
        "method patched with a MagicMock.",
    ),
    Valid(
        """\
import unittest
from unittest.mock import MagicMock, patch


class SenderTest(unittest.TestCase):
    def test_unknown_target(self):
        with patch("vendor.sdk.send", new=MagicMock()):
            pass
        with patch("os.getcwd", new_callable=MagicMock, return_value="/tmp"):
            pass
""",
        note="Targets outside the project cannot be resolved: silent.",
    ),
    Valid(
        """\
import unittest
from unittest.mock import MagicMock, patch

from app.session import Session


class SessionTest(unittest.TestCase):
    def test_get_builds_a_request(self):
        with patch.object(Session, "_request", new=MagicMock(return_value="ctx")):
            self.assertEqual(Session().get("/"), "ctx")
""",
        files={
            "app/session.py": """\
class Session:
    async def _request(self, url):
        return url

    def get(self, url):
        return self._request(url)
""",
        },
        note="The async method is never awaited directly: `get()` hands its coroutine back, and "
        "the test checks that call synchronously.",
    ),
    Valid(
        """\
import unittest
from unittest.mock import patch
from shop.service import load
class LoadTest(unittest.IsolatedAsyncioTestCase):
    @patch("shop.service.fetch")
    async def test_load(self, fetch):
        fetch.return_value = 1
        self.assertEqual(await load("u"), 1)
""",
        files={
            "shop/__init__.py": "",
            "shop/client.py": _SHOP_CLIENT,
            "shop/service.py": _SHOP_SERVICE,
        },
        note="No `new`: `patch` sees the `async def` and makes an `AsyncMock` itself.",
    ),
)
