"""Run the checker over the real-world corpus and list every diagnostic for review.

    python bench/corpus.py                 # once: download and unpack the corpus
    python bench/precision.py [--out FILE] [--project NAME ...]

The interpreter's own `test` package (its `test_asyncio` among it) is the last project.

Per project, every `.py` file is indexed (so bases and async functions of other files resolve, as
in `async-test-lint check`) and linted with all rules. Writes a JSON list of diagnostics with the
source lines around each (for the hand review in docs/real-world.md) and prints counts per
project and per rule, plus any engine exception (there must be none).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "server"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from async_test_lint.engine import index_sources, lint
from async_test_lint.model import Settings
from async_test_lint.source import SourceDecodeError, decode_source
from corpus import interpreter_tests, project_folders, python_files

INTERPRETER_TESTS = interpreter_tests().name


def _read(path: Path) -> str | None:
    try:
        return decode_source(path.read_bytes())
    except (OSError, SourceDecodeError):
        return None


def review(folder: Path, context_lines: int = 3) -> tuple[list[dict[str, object]], list[str], int]:
    texts = {str(path): text for path in python_files(folder) if (text := _read(path)) is not None}
    settings = Settings(project_root=str(folder), target_version=(3, 9))
    index = index_sources(texts, settings)
    found: list[dict[str, object]] = []
    crashes: list[str] = []
    for path, text in texts.items():
        try:
            result = lint(text, path, settings, index)
        except Exception:
            crashes.append(f"{path}: {traceback.format_exc()}")
            continue
        lines = text.splitlines()
        for failure in result.failures:
            crashes.append(f"{path}: rule {failure.code}: {failure.error}")
        for diagnostic in result.diagnostics:
            if diagnostic.code == "ATL001":
                continue  # syntax errors: counted apart (test data that is broken on purpose)
            line = diagnostic.range.start.line
            found.append(
                {
                    "project": folder.name,
                    "path": str(Path(path).relative_to(folder)),
                    "line": line + 1,
                    "code": diagnostic.code,
                    "message": diagnostic.message,
                    "context": lines[max(0, line - context_lines) : line + context_lines + 1],
                }
            )
    return found, crashes, len(texts)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / ".corpus" / "diagnostics.json"
    )
    parser.add_argument("--project", action="append", default=[], help="only these project folders")
    args = parser.parse_args()
    everything: list[dict[str, object]] = []
    by_rule: Counter[str] = Counter()
    started = time.perf_counter()
    folders = [
        folder
        for folder in project_folders()
        if not args.project or any(folder.name.startswith(name) for name in args.project)
    ]
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        results = list(pool.map(review, folders))
    for folder, (found, crashes, files) in zip(folders, results):
        everything.extend(found)
        by_rule.update(str(item["code"]) for item in found)
        codes = Counter(str(item["code"]) for item in found)
        print(
            f"{folder.name:28} {files:5} files {len(found):4} diagnostics "
            f"{dict(sorted(codes.items()))}"
        )
        for crash in crashes:
            print(f"  CRASH {crash}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(everything, indent=1), encoding="utf-8")
    print(
        f"total {len(everything)} diagnostics in {time.perf_counter() - started:.1f}s: "
        f"{dict(sorted(by_rule.items()))}"
    )
    in_test_asyncio = [
        item
        for item in everything
        if item["project"] == INTERPRETER_TESTS and str(item["path"]).startswith("test_asyncio")
    ]
    print(f"the interpreter's test_asyncio package: {len(in_test_asyncio)} diagnostics")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
