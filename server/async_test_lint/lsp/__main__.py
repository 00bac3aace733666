"""`python -m async_test_lint.lsp [--tcp HOST:PORT]`: the language server without the CLI."""

from __future__ import annotations

import argparse

from . import serve


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m async_test_lint.lsp")
    parser.add_argument("--tcp", metavar="HOST:PORT", help="listen on TCP instead of stdio")
    arguments = parser.parse_args()
    serve(arguments.tcp)


if __name__ == "__main__":
    main()
