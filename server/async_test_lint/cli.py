"""The command line: `check`, `rule`, `rules`, `serve`.

Exit codes: 0 nothing reported; 1 problems reported (or files that could not be read, or a rule
that failed); 2 usage or configuration errors. `--exit-zero` turns only reported problems into 0.

Output streams follow ruff: diagnostics and the summary line go to stdout (the summary only for
the `full` and `concise` formats, so JSON, SARIF, GitLab and JUnit stay parseable); errors and
warnings go to stderr, one line each, starting with `error:` / `warning:`. The default format is
`full` (source lines, carets, fix safety) when stdout is a terminal and `concise` (one line per
finding; `text` is its old name) otherwise; colour only on a terminal, or as NO_COLOR/FORCE_COLOR
say. A file that cannot be read or decoded is such an error line (`error: cannot decode x.py:
...`); the other files are still checked.

`check -` / `--stdin-filename PATH` checks standard input; with `--fix` the fixed code goes to
stdout and the remaining diagnostics to stderr. See docs/cli.md for every option.

`--unsafe-fixes` does not write by itself: it lets `--fix` and `--diff` apply unsafe fixes too (and
makes the summary count them as fixable), as in ruff.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable, TextIO

from . import __version__
from .config import (
    ConfigError,
    load_pyproject,
    load_settings,
    parse_target_version,
    validate_selectors,
)
from .model import Settings
from .output import (
    FORMATS,
    TEXT_FORMATS,
    Report,
    Style,
    check_summary,
    fix_summary,
    render_applied_fixes,
    render_available_fixes,
    render_concise,
    render_full,
    render_github,
    render_gitlab,
    render_json,
    render_junit,
    render_sarif,
    render_statistics,
    render_statistics_json,
    unified_diff,
    use_color,
)

if TYPE_CHECKING:
    from .workspace import FileOutcome

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2
#: the formats `--statistics` can print in (a table, or JSON).
STATISTICS_FORMATS = ("full", "concise", "json")


class UsageError(Exception):
    """A mistake on the command line: reported on stderr, exit code 2."""


def _comma_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _target(value: str) -> tuple[int, int]:
    try:
        return parse_target_version(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _add_check(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    check = commands.add_parser("check", help="check files for event-loop misuse in tests")
    check.add_argument(
        "paths", nargs="*", type=Path, metavar="PATH", help="files or folders (default: .)"
    )
    check.add_argument(
        "--output-format",
        choices=FORMATS,
        help="full (default on a terminal), concise (default otherwise; alias: text), json, "
        "sarif, github, gitlab, junit",
    )
    check.add_argument(
        "--statistics", action="store_true", help="print the number of findings per rule"
    )
    check.add_argument(
        "--show-fixes", action="store_true", help="list the fixes applied (--fix) or available"
    )
    check.add_argument(
        "--stdin-filename", type=Path, metavar="PATH", help="read the code from stdin, as PATH"
    )
    check.add_argument("--fix", action="store_true", help="apply safe fixes (writes files)")
    check.add_argument(
        "--unsafe-fixes", action="store_true", help="let --fix/--diff apply unsafe fixes too"
    )
    check.add_argument(
        "--diff", action="store_true", help="print the fixes as a diff, write nothing"
    )
    check.add_argument(
        "--select", type=_comma_list, help="codes or prefixes to enable (replaces config)"
    )
    check.add_argument(
        "--extend-select", type=_comma_list, default=[], help="codes to enable in addition"
    )
    check.add_argument(
        "--ignore", type=_comma_list, default=[], help="codes or prefixes to disable"
    )
    check.add_argument("--target-version", type=_target, metavar="py38..py314")
    check.add_argument("--config", type=Path, metavar="PYPROJECT", help="use this pyproject.toml")
    check.add_argument("--extend-exclude", type=_comma_list, default=[], help="more globs to skip")
    check.add_argument("--force-exclude", action="store_true", help="exclude paths even when named")
    check.add_argument("--no-respect-gitignore", action="store_true", help="do not read .gitignore")
    check.add_argument(
        "--no-cache", action="store_true", help="do not read or write the cache (index, results)"
    )
    check.add_argument("-v", "--verbose", action="store_true", help="log details on stderr")
    check.add_argument("-q", "--quiet", action="store_true", help="diagnostics only, no summary")
    check.add_argument(
        "--exit-zero", action="store_true", help="exit 0 even when problems are found"
    )
    check.set_defaults(handler=run_check)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="async-test-lint", description="Find event-loop misuse in Python async tests."
    )
    parser.add_argument("--version", action="version", version=f"async-test-lint {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_check(commands)
    rule = commands.add_parser("rule", help="explain a rule")
    rule.add_argument("code", metavar="CODE")
    rule.set_defaults(handler=run_rule)
    rules = commands.add_parser("rules", help="list all rules")
    rules.add_argument("--output-format", choices=("text", "json"), default="text")
    rules.set_defaults(handler=run_rules)
    serve = commands.add_parser("serve", help="start the language server (stdio by default)")
    serve.add_argument("--tcp", metavar="HOST:PORT", help="listen on TCP instead of stdio")
    serve.add_argument("--stdio", action="store_true", help="use stdio (the default)")
    serve.set_defaults(handler=run_serve)
    return parser


def configure_logging(verbose: bool) -> None:
    """The engine logs rule failures and dropped fixes; the CLI prints its own one-line errors, so
    logs reach stderr only with --verbose."""
    package = logging.getLogger("async_test_lint")
    if verbose:
        handler: logging.Handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        package.setLevel(logging.DEBUG)
    else:
        handler = logging.NullHandler()
    package.addHandler(handler)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(getattr(args, "verbose", False))
    handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return handler(args)
    except (ConfigError, UsageError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # `async-test-lint check | head`
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_PROBLEMS
    except KeyboardInterrupt:
        return 130


# -- check -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckOptions:
    paths: tuple[Path, ...]
    settings: Settings
    #: one of output.FORMATS (`text` means `concise`).
    output_format: str = "concise"
    #: ANSI colours in the full and concise formats.
    color: bool = False
    statistics: bool = False
    show_fixes: bool = False
    fix: bool = False
    diff: bool = False
    unsafe: bool = False
    quiet: bool = False
    exit_zero: bool = False
    force_exclude: bool = False
    respect_gitignore: bool = True
    #: check standard input, as this file (`check -` or `--stdin-filename`).
    stdin_filename: Path | None = None
    #: keep file summaries and check results in `<project root>/.async-test-lint-cache` (only
    #: with a pyproject.toml).
    cache: bool = True


def run_check(args: argparse.Namespace) -> int:
    from .engine import freeze_startup_objects

    freeze_startup_objects()
    stdin = _stdin_filename(args)
    if args.statistics and output_format(args.output_format, sys.stdout) not in STATISTICS_FORMATS:
        raise UsageError("--statistics works with --output-format full, concise or json")
    options = CheckOptions(
        paths=(stdin,) if stdin is not None else tuple(args.paths) or (Path("."),),
        stdin_filename=stdin,
        settings=check_settings(args),
        output_format=output_format(args.output_format, sys.stdout),
        color=use_color(sys.stdout),
        statistics=args.statistics,
        show_fixes=args.show_fixes,
        fix=args.fix,
        diff=args.diff,
        unsafe=args.unsafe_fixes,
        quiet=args.quiet,
        exit_zero=args.exit_zero,
        force_exclude=args.force_exclude,
        respect_gitignore=not args.no_respect_gitignore,
        cache=not args.no_cache,
    )
    return run(options, sys.stdout, sys.stderr)


def output_format(requested: str | None, out: TextIO) -> str:
    """The format asked for, else `full` on a terminal and `concise` in a pipe or file."""
    if requested is not None:
        return "concise" if requested == "text" else requested
    isatty = getattr(out, "isatty", None)
    return "full" if isatty is not None and isatty() else "concise"


def _stdin_filename(args: argparse.Namespace) -> Path | None:
    """`check -` reads stdin as `-`; `--stdin-filename PATH` names it (for settings and output)."""
    dash = [path for path in args.paths if str(path) == "-"]
    if dash and len(args.paths) > 1:
        raise UsageError("`-` (standard input) cannot be combined with other paths")
    if args.stdin_filename is not None and args.paths and not dash:
        raise UsageError("--stdin-filename cannot be combined with paths (use `-` or nothing)")
    if args.stdin_filename is not None:
        return Path(args.stdin_filename)
    return Path("-") if dash else None


def check_settings(args: argparse.Namespace) -> Settings:
    """Settings of the nearest pyproject.toml (or --config), then the command line on top.

    `--select` replaces the configured `select`; `--ignore` adds to the configured `ignore`;
    an entry the command line selects *exactly* is removed from the configured `ignore` (asking
    for it by name beats the file). Then the most specific selector wins, a tie goes to ignore.
    """
    stdin = _stdin_filename(args)
    missing = [str(path) for path in args.paths if stdin is None and not path.exists()]
    if missing:
        raise UsageError(f"no such file or folder: {', '.join(missing)}")
    if args.config is not None:
        if not args.config.is_file():
            raise UsageError(f"--config: no such file: {args.config}")
        settings = load_pyproject(args.config)
    elif stdin is not None:
        settings = load_settings(Path.cwd() if str(stdin) == "-" else stdin.absolute().parent)
    else:
        settings = load_settings(args.paths[0] if args.paths else Path.cwd())
    select = settings.select
    cli_selected: set[str] = set()
    if args.select is not None:
        select = frozenset(validate_selectors(args.select, "--select"))
        cli_selected |= select
    extend = frozenset(validate_selectors(args.extend_select, "--extend-select"))
    cli_selected |= extend
    ignore = (settings.ignore - cli_selected) | frozenset(
        validate_selectors(args.ignore, "--ignore")
    )
    return replace(
        settings,
        select=select | extend,
        ignore=ignore,
        exclude=(*settings.exclude, *args.extend_exclude),
        target_version=args.target_version or settings.target_version,
    )


def display_path(path: Path, cwd: Path) -> str:
    """Relative to the working folder when inside it, else absolute."""
    try:
        return path.relative_to(cwd).as_posix()
    except ValueError:
        return str(path)


def run(options: CheckOptions, out: TextIO, err: TextIO) -> int:
    """Discover, index, lint (and fix); print; return the exit code."""
    from .discovery import discover
    from .workspace import IndexCache, Job, Mode, ProjectScan, check_project

    settings = options.settings
    root = Path(settings.project_root or Path.cwd())
    if options.stdin_filename is not None:
        return run_stdin(options, root, out, err)
    warn = _warner(err)
    use_gitignore = options.respect_gitignore
    checked = discover(
        options.paths,
        settings.exclude,
        root,
        force_exclude=options.force_exclude,
        use_gitignore=use_gitignore,
        warn=warn,
    )
    project = discover([root], settings.exclude, root, use_gitignore=use_gitignore, warn=_quiet)
    cache = IndexCache(root) if options.cache and (root / "pyproject.toml").is_file() else None
    scan = ProjectScan([*project, *checked], settings, cache=cache)
    cwd = Path.cwd()
    jobs = [Job(path, display_path(path, cwd)) for path in checked]
    jobs.sort(key=lambda job: job.display)
    mode = Mode.DIFF if options.diff else Mode.FIX if options.fix else Mode.CHECK
    results = cache.results() if cache is not None else None
    outcomes = check_project(jobs, scan, mode, options.unsafe, results=results)
    return _report(options, outcomes, root, out, err)


def run_stdin(options: CheckOptions, root: Path, out: TextIO, err: TextIO) -> int:
    """Check the code on standard input as if it were `options.stdin_filename`.

    With `--fix`, the fixed code (or the unchanged input) goes to stdout and the diagnostics that
    remain go to stderr, so an editor can pipe a buffer through the command.
    """
    from . import engine
    from .discovery import discover
    from .workspace import IndexCache, Job, Mode, build_index, check_files, decode_file

    assert options.stdin_filename is not None
    named = options.stdin_filename
    path = Path(os.path.abspath(named)) if str(named) != "-" else Path.cwd() / "-"
    settings = options.settings
    project = discover(
        [root], settings.exclude, root, use_gitignore=options.respect_gitignore, warn=_quiet
    )
    cache = IndexCache(root) if options.cache and (root / "pyproject.toml").is_file() else None
    index = build_index([each for each in project if each != path], settings, cache=cache)
    try:
        source = decode_file(_read_stdin())
    except ValueError as error:
        print(f"error: cannot decode {named}: {error}", file=err)
        return EXIT_PROBLEMS
    summary = engine.summarize(source.text, str(path), settings)
    if summary is not None:
        index.update(summary)
    job = Job(path, display_path(path, Path.cwd()) if str(named) != "-" else "-", source)
    mode = Mode.DIFF if options.diff else Mode.FIX if options.fix else Mode.CHECK
    [outcome] = check_files([job], settings, index, mode, options.unsafe, workers=1)
    if mode is not Mode.FIX:
        return _report(options, [outcome], root, out, err)
    fixed = outcome.fixed_text if outcome.fixed_text is not None else source.text
    _write_bytes(out, source.encode(fixed))
    return _report(replace(options, fix=False, quiet=True), [outcome], root, err, err)


def _read_stdin() -> bytes:
    buffer = getattr(sys.stdin, "buffer", None)
    data: bytes = buffer.read() if buffer is not None else sys.stdin.read().encode("utf-8")
    return data


def _write_bytes(out: TextIO, data: bytes) -> None:
    buffer = getattr(out, "buffer", None)
    if buffer is not None:
        out.flush()
        buffer.write(data)
        buffer.flush()
    else:
        out.write(data.decode("utf-8", errors="replace"))


def _warner(err: TextIO) -> Callable[[str], None]:
    def warn(message: str) -> None:
        print(f"warning: {message}", file=err)

    return warn


def _quiet(message: str) -> None:
    pass


def _report(
    options: CheckOptions, outcomes: Sequence[FileOutcome], root: Path, out: TextIO, err: TextIO
) -> int:
    errors = _errors(outcomes, err)
    if options.diff:
        return _report_diff(options, outcomes, out, err) or errors
    if options.fix:
        errors |= _write_fixes(outcomes, err)
    reports = [report for outcome in outcomes for report in outcome.reports]
    if options.statistics:
        _print_statistics(options, reports, out)
    else:
        _print_reports(options, outcomes, reports, out)
    if options.output_format in TEXT_FORMATS and not options.quiet:
        if options.show_fixes:
            out.write("\n" + _fixes_listing(options, outcomes, reports))
        if options.fix:
            fixed = sum(outcome.fixed for outcome in outcomes)
            print(fix_summary(fixed, reports, options.unsafe), file=out)
        else:
            print(check_summary(reports, options.unsafe), file=out)
    problems = EXIT_PROBLEMS if reports and not options.exit_zero else EXIT_OK
    return problems or errors


def _errors(outcomes: Sequence[FileOutcome], err: TextIO) -> int:
    """Print unreadable files and failed rules; EXIT_PROBLEMS when there were any."""
    status = EXIT_OK
    for outcome in outcomes:
        if outcome.error is not None:
            print(f"error: {outcome.error}", file=err)
            status = EXIT_PROBLEMS
        for failure in outcome.failures:
            print(
                f"error: rule {failure.code} failed on {outcome.job.display}: {failure.error}",
                file=err,
            )
            status = EXIT_PROBLEMS
    return status


def _write_fixes(outcomes: Sequence[FileOutcome], err: TextIO) -> int:
    from .workspace import write_source

    status = EXIT_OK
    for outcome in outcomes:
        if outcome.original is None or outcome.fixed_text is None:
            continue
        try:
            write_source(outcome.job.path, outcome.original, outcome.fixed_text)
        except (OSError, UnicodeEncodeError) as error:
            print(f"error: cannot write {outcome.job.display}: {error}", file=err)
            status = EXIT_PROBLEMS
    return status


def _report_diff(
    options: CheckOptions, outcomes: Sequence[FileOutcome], out: TextIO, err: TextIO
) -> int:
    fixed = 0
    for outcome in outcomes:
        if outcome.original is None or outcome.fixed_text is None:
            continue
        out.write(unified_diff(outcome.job.display, outcome.original.text, outcome.fixed_text))
        fixed += outcome.fixed
    if not options.quiet:
        noun = "problem" if fixed == 1 else "problems"
        print(f"Would fix {fixed} {noun}." if fixed else "No fixes to apply.", file=err)
    return EXIT_PROBLEMS if fixed and not options.exit_zero else EXIT_OK


def _print_reports(
    options: CheckOptions, outcomes: Sequence[FileOutcome], reports: Sequence[Report], out: TextIO
) -> None:
    fmt = options.output_format
    cwd = Path.cwd()
    if fmt == "json":
        out.write(render_json(reports) + "\n")
    elif fmt == "sarif":
        out.write(render_sarif(reports, cwd.as_uri() + "/") + "\n")
    elif fmt == "github":
        out.write(render_github(reports) + ("\n" if reports else ""))
    elif fmt == "gitlab":
        project_dir = os.environ.get("CI_PROJECT_DIR")
        out.write(render_gitlab(reports, cwd, Path(project_dir) if project_dir else None) + "\n")
    elif fmt == "junit":
        out.write(render_junit(reports) + "\n")
    elif fmt == "full":
        sources = _reported_sources(outcomes)
        out.write(render_full(reports, sources, options.unsafe, Style(options.color)))
    else:
        out.write(render_concise(reports, Style(options.color)))


def _reported_sources(outcomes: Sequence[FileOutcome]) -> dict[str, str]:
    """The text each reported file's positions refer to (after --fix, the fixed text), by the
    displayed path. A file that can no longer be read is left out (shown without source lines)."""
    from .workspace import read_file

    sources: dict[str, str] = {}
    for outcome in outcomes:
        if not outcome.reports:
            continue
        if outcome.fixed_text is not None:
            sources[outcome.job.display] = outcome.fixed_text
        elif outcome.job.source is not None:
            sources[outcome.job.display] = outcome.job.source.text
        else:
            try:
                sources[outcome.job.display] = read_file(outcome.job.path).text
            except (OSError, ValueError):
                continue
    return sources


def _print_statistics(options: CheckOptions, reports: Sequence[Report], out: TextIO) -> None:
    if options.output_format == "json":
        out.write(render_statistics_json(reports, options.unsafe) + "\n")
    else:
        out.write(render_statistics(reports, options.unsafe, Style(options.color)))


def _fixes_listing(
    options: CheckOptions, outcomes: Sequence[FileOutcome], reports: Sequence[Report]
) -> str:
    """--show-fixes: the fixes --fix wrote, or (without --fix) the ones available."""
    if options.fix:
        return render_applied_fixes(
            {outcome.job.display: outcome.fixed for outcome in outcomes},
            {outcome.job.display: outcome.fixed_by_rule for outcome in outcomes},
        )
    return render_available_fixes(reports, options.unsafe)


# -- rule, rules -----------------------------------------------------------------------------


def run_rule(args: argparse.Namespace) -> int:
    from .docs import rule_markdown
    from .engine import SYNTAX_ERROR_CODE
    from .output import SYNTAX_ERROR_HELP
    from .rules import all_rules, rule_by_code

    if args.code.strip().upper() == SYNTAX_ERROR_CODE:
        sys.stdout.write(SYNTAX_ERROR_HELP)
        return EXIT_OK
    rule = rule_by_code(args.code)
    if rule is None:
        codes = ", ".join([SYNTAX_ERROR_CODE, *(each.code for each in all_rules())])
        raise UsageError(f"unknown rule {args.code!r}; valid codes: {codes}")
    sys.stdout.write(rule_markdown(rule))
    return EXIT_OK


def rule_rows() -> list[dict[str, str]]:
    from .engine import SYNTAX_ERROR_CODE, SYNTAX_ERROR_NAME
    from .output import SYNTAX_ERROR_SUMMARY
    from .rules import all_rules

    rows = [
        {
            "code": SYNTAX_ERROR_CODE,
            "name": SYNTAX_ERROR_NAME,
            "fix": "none",
            "summary": SYNTAX_ERROR_SUMMARY,
        }
    ]
    for rule in all_rules():
        fix = rule.fix_safety.value if rule.fix_safety else "none"
        rows.append({"code": rule.code, "name": rule.name, "fix": fix, "summary": rule.summary})
    return rows


def run_rules(args: argparse.Namespace) -> int:
    out = sys.stdout
    rows = rule_rows()
    if args.output_format == "json":
        out.write(json.dumps(rows, indent=2) + "\n")
        return EXIT_OK
    name_width = max(len(row["name"]) for row in rows)
    for row in rows:
        out.write(
            f"{row['code']}  {row['name']:<{name_width}}  {row['fix']:<6}  {row['summary']}\n"
        )
    return EXIT_OK


# -- serve -----------------------------------------------------------------------------------


def run_serve(args: argparse.Namespace) -> int:
    if args.tcp is not None:
        host, _, port = args.tcp.rpartition(":")
        if not host or not port.isdigit():
            raise UsageError(f"--tcp expects HOST:PORT, got {args.tcp!r}")
    try:
        from .lsp import serve
    except ImportError as error:
        print(f"error: the language server is not available: {error}", file=sys.stderr)
        return EXIT_USAGE
    serve(tcp=args.tcp)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
