"""The real server with a lint that can be held: `python tests/lsp/blocking_server.py`.

A document containing `# BLOCK-LINT:<folder>` is linted only once `<folder>/release` exists; when
its lint starts, it creates `<folder>/started-<pid>-<n>` (the pid of the process that lints:
the server, or its background worker). The patch is made at import, so it holds in the worker
process too (`multiprocessing` spawn runs this file as `__mp_main__` there).
"""

from __future__ import annotations

import itertools
import os
import re
import time
from pathlib import Path
from typing import Any

from async_test_lint import engine
from async_test_lint.model import LintResult

MARK = re.compile(r"# BLOCK-LINT:(\S+)")
_real_lint = engine.lint
_count = itertools.count()


def held_lint(source: str, *args: Any, **kwargs: Any) -> LintResult:
    found = MARK.search(source)
    if found is not None:
        folder = Path(found.group(1))
        (folder / f"started-{os.getpid()}-{next(_count)}").touch()
        while not (folder / "release").exists():
            time.sleep(0.01)  # sleeps without the interpreter lock, like a lint thread waiting
    return _real_lint(source, *args, **kwargs)


engine.lint = held_lint  # type: ignore[assignment]

if __name__ == "__main__":
    from async_test_lint.lsp import serve

    serve()
