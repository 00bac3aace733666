"""Start the async-test-lint language server for the VS Code extension.

The extension runs `python -I -S -B serve.py [--import-strategy useBundled|fromEnvironment]`:
isolated (no PYTHONPATH, no user site, no current directory), without the `site` module (so no
site-packages and no `.pth` file of the interpreter's environment runs), writing no bytecode.

- useBundled (default): the server and its dependencies come only from `../libs/` next to this
  file: `libs/cpXY/` (native wheels built for this CPython version, and whatever resolved
  differently for it) before `libs/common/` (pure-Python distributions identical for every
  version). Each VSIX is built for one VS Code target (`libs/manifest.json`: `win32-arm64`,
  `alpine-x64`, ...); an interpreter of another platform or architecture gets exit code 4.
  The interpreter's own packages are never imported, so an old `attrs` or `pygls` in the user's
  project environment cannot break the server.
- fromEnvironment: the interpreter's own installed `async_test_lint` runs (`site` is enabled).

The syntax stays Python 2 compatible so that any old interpreter reaches the version check and
prints its message instead of a SyntaxError. Exit codes (the extension maps them to messages):
3 the interpreter is older than 3.9; 4 no bundled libraries for this interpreter or platform;
5 `async_test_lint` is not installed in the environment (fromEnvironment).
"""

# ruff: noqa: UP031 - %-formatting on purpose: f-strings would be a SyntaxError before 3.6.

import json
import os
import sys

MINIMUM_PYTHON = (3, 9)
EXIT_PYTHON_TOO_OLD = 3
EXIT_NO_BUNDLED_LIBS = 4
EXIT_NOT_INSTALLED = 5
STRATEGIES = ("useBundled", "fromEnvironment")
LIBS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "libs")


def fail(code, message):
    sys.stderr.write("async-test-lint: %s\n" % message)
    sys.stderr.flush()
    sys.exit(code)


def parse_strategy(arguments):
    strategy = "useBundled"
    if arguments[:1] == ["--import-strategy"] and len(arguments) == 2:
        strategy = arguments[1]
    elif arguments:
        fail(2, "usage: serve.py [--import-strategy useBundled|fromEnvironment]")
    if strategy not in STRATEGIES:
        expected = ", ".join(STRATEGIES)
        fail(2, "unknown import strategy %r (expected one of %s)" % (strategy, expected))
    return strategy


def version_text():
    return ".".join(str(part) for part in sys.version_info[:3])


def check_version():
    if sys.version_info[:2] < MINIMUM_PYTHON:
        fail(
            EXIT_PYTHON_TOO_OLD,
            "%s is Python %s; the server needs Python %d.%d or newer. Set "
            "asyncTestLint.interpreter to a newer interpreter."
            % (sys.executable, version_text(), MINIMUM_PYTHON[0], MINIMUM_PYTHON[1]),
        )


def interpreter_tag():
    """`cp312`, `cp313t` for a free-threaded build, `pypy310` for PyPy."""
    name = sys.implementation.name
    prefix = {"cpython": "cp"}.get(name, name)
    free_threaded = "t" if "t" in getattr(sys, "abiflags", "") else ""
    return "%s%d%d%s" % (prefix, sys.version_info[0], sys.version_info[1], free_threaded)


def load_manifest():
    try:
        with open(os.path.join(LIBS, "manifest.json")) as manifest:
            return json.load(manifest)
    except (OSError, ValueError) as error:
        fail(EXIT_NO_BUNDLED_LIBS, "the bundled libraries are missing or damaged (%s)" % error)


def c_library():
    """`glibc` or `musl` on Linux (None when unknown or not Linux), and the glibc version."""
    import platform

    library, version = platform.libc_ver()
    if library == "glibc":
        return library, version
    if sys.platform.startswith("linux"):
        import glob

        if glob.glob("/lib/ld-musl-*.so.1"):
            return "musl", None
    return None, None


def interpreter_machine():
    """The architecture this interpreter runs as (not the OS's: an x64 Python on an arm64
    machine loads x64 native modules)."""
    if sys.platform == "win32":
        import sysconfig

        # win-amd64, win-arm64, win32: how the interpreter was built.
        return sysconfig.get_platform().split("-")[-1].lower()
    import platform

    return platform.machine().lower()


def host_platform():
    """This interpreter's platform as `vsce --target` names them: `linux-x64`, `alpine-arm64`,
    `darwin-arm64`, `win32-x64`, ..."""
    machine = interpreter_machine()
    arch = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64"}.get(machine, machine)
    system = sys.platform
    if system.startswith("linux"):
        system = "alpine" if c_library()[0] == "musl" else "linux"
    return "%s-%s" % (system, arch)


def glibc_too_old(minimum):
    library, version = c_library()
    if library != "glibc":
        return "the bundled libraries need glibc %s; this system's C library is %s" % (
            minimum,
            library or "unknown",
        )
    if version_tuple(version) < version_tuple(minimum):
        return "the bundled libraries need glibc %s or newer; this system has %s" % (
            minimum,
            version,
        )
    return None


def version_tuple(text):
    return tuple(int(part) for part in text.split(".")[:2])


def bundled_paths():
    """The folders to import from, most specific first; exits when this interpreter has none."""
    manifest = load_manifest()
    tag = interpreter_tag()
    hint = "Set asyncTestLint.interpreter to one of those, or use importStrategy fromEnvironment."
    host = host_platform()
    if manifest["platform"] != host:
        fail(
            EXIT_NO_BUNDLED_LIBS,
            "this extension's bundled libraries are built for %s; %s runs as %s. Install the "
            "extension for %s, set asyncTestLint.interpreter to a %s interpreter, or use "
            "importStrategy fromEnvironment."
            % (manifest["platform"], sys.executable, host, host, manifest["platform"]),
        )
    if tag not in manifest["interpreters"]:
        fail(
            EXIT_NO_BUNDLED_LIBS,
            "%s (Python %s, %s) has no bundled libraries; they exist for %s. %s"
            % (sys.executable, version_text(), tag, ", ".join(manifest["interpreters"]), hint),
        )
    glibc_problem = manifest.get("glibc") and glibc_too_old(manifest["glibc"])
    if glibc_problem:
        fail(EXIT_NO_BUNDLED_LIBS, "%s. %s" % (glibc_problem, hint))
    return [os.path.join(LIBS, tag), os.path.join(LIBS, "common")]


def is_site_directory(entry):
    return os.path.basename(os.path.normpath(entry)) in ("site-packages", "dist-packages")


def use_bundled():
    # Without -S the site module has already added the environment's packages: drop them.
    sys.path[:] = bundled_paths() + [entry for entry in sys.path if not is_site_directory(entry)]


def use_environment():
    if sys.flags.no_site:
        import site

        site.main()
    try:
        import async_test_lint.lsp  # noqa: F401
    except ImportError as error:
        fail(
            EXIT_NOT_INSTALLED,
            "async_test_lint cannot be imported from %s (%s). Install it there "
            "(`%s -m pip install async-test-lint`) or set asyncTestLint.importStrategy to "
            "useBundled." % (sys.executable, error, sys.executable),
        )


def main():
    strategy = parse_strategy(sys.argv[1:])
    check_version()
    if strategy == "useBundled":
        use_bundled()
    else:
        use_environment()
    from async_test_lint.lsp import serve

    serve()


if __name__ == "__main__":
    main()
