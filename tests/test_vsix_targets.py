"""One VSIX per VS Code target, checked from the outside: what `scripts/package-vsix` wrote.

For each target: the VSIX manifest's `TargetPlatform` and the payload's `manifest.json` name it;
every bundled CPython 3.9-3.14 has libcst's native module built for that target (file name, the
architecture in its ELF / PE / Mach-O header, the C library it links) and every dist-info's wheel
tags fit the target and the interpreter; nothing ships that the runtime does not need (no PyYAML,
no tests, no bytecode, no source maps). The linux-x64 VSIX's launcher serves a real LSP session;
a VSIX for another platform refuses to start here with its message.

The CI targets (`scripts/package-vsix --ci`: linux-x64, win32-x64, darwin-arm64) are built by
`scripts/setup-vscode` and checked in every run; the other five are `-m slow` (each is built by its
test when missing; `scripts/package-vsix --all` builds all eight). Packaging must fail when a step
fails: a run whose download fails for one interpreter writes no VSIX.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "package-vsix"
UNDER_CI = os.environ.get("CI", "").lower() == "true"
INTERPRETERS = ["cp39", "cp310", "cp311", "cp312", "cp313", "cp314"]
EXIT_NO_BUNDLED_LIBS = 4


def script_lines(*options: str) -> list[str]:
    result = subprocess.run([SCRIPT, *options], capture_output=True, text=True, check=True)
    return result.stdout.split()


ALL_TARGETS = script_lines("--list")
CI_TARGETS = ["linux-x64", "win32-x64", "darwin-arm64"]

# Per target: the architecture in the native module's header, the wheel platform tag, and how the
# native module's file name ends for CPython 3.X (`{minor}`).
ARCHITECTURE = {"x64": "x86_64", "arm64": "arm64"}
WHEEL_PLATFORM = {
    "win32-x64": r"win_amd64",
    "win32-arm64": r"win_arm64",
    "darwin-x64": r"macosx_\d+_\d+_(x86_64|universal2|intel)",
    "darwin-arm64": r"macosx_\d+_\d+_(arm64|universal2)",
    "linux-x64": r"manylinux_2_(1[7-9]|2[0-8])_x86_64|manylinux2014_x86_64",
    "linux-arm64": r"manylinux_2_(1[7-9]|2[0-8])_aarch64|manylinux2014_aarch64",
    "alpine-x64": r"musllinux_1_\d+_x86_64",
    "alpine-arm64": r"musllinux_1_\d+_aarch64",
}
NATIVE_NAME = {
    "win32-x64": "native.cp3{minor}-win_amd64.pyd",
    "win32-arm64": "native.cp3{minor}-win_arm64.pyd",
    "darwin-x64": "native.cpython-3{minor}-darwin.so",
    "darwin-arm64": "native.cpython-3{minor}-darwin.so",
    "linux-x64": "native.cpython-3{minor}-x86_64-linux-gnu.so",
    "linux-arm64": "native.cpython-3{minor}-aarch64-linux-gnu.so",
    "alpine-x64": "native.cpython-3{minor}-x86_64-linux-musl.so",
    "alpine-arm64": "native.cpython-3{minor}-aarch64-linux-musl.so",
}
# Outside bundled/libs, exactly these files ship.
EXTENSION_FILES = {
    "extension.vsixmanifest",
    "[Content_Types].xml",
    "extension/package.json",
    "extension/readme.md",
    "extension/changelog.md",
    "extension/LICENSE.txt",
    "extension/images/icon.png",
    "extension/dist/extension.js",
    "extension/bundled/tool/serve.py",
}
# Never needed by the server: PyYAML (only libcst's command line imports it), test suites,
# bytecode, console scripts, C sources, source maps, uv's `.lock` of a --target folder.
UNNEEDED = re.compile(
    r"(^|/)(yaml|_yaml|yaml_ft|tests?|__pycache__|bin)(/|$)|/(?i:pyyaml)[^/]*\.dist-info/"
    r"|\.(pyc|pyo|c|h|rs|map)$|/\.lock$|^extension/bundled/libs/[^/]+/libcst/tool\.py$"
)


def unavailable(reason: str) -> None:
    if UNDER_CI:
        pytest.fail(f"{reason} (CI=true: the VSIXes must be testable)")
    pytest.skip(reason)


def target_params() -> list[object]:
    return [
        target if target in CI_TARGETS else pytest.param(target, marks=pytest.mark.slow)
        for target in ALL_TARGETS
    ]


_built: dict[str, Path] = {}


def built_vsix(target: str) -> Path:
    """dist/async-test-lint-TARGET.vsix, (re)built by the project's script when out of date."""
    if target not in _built:
        result = subprocess.run(
            [SCRIPT, "--target", target], capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            unavailable(f"scripts/package-vsix --target {target} failed:\n{result.stderr[-3000:]}")
        _built[target] = ROOT / "dist" / f"async-test-lint-{target}.vsix"
    return _built[target]


@pytest.fixture(params=target_params())
def target(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def vsix(target: str) -> Iterator[zipfile.ZipFile]:
    with zipfile.ZipFile(built_vsix(target)) as archive:
        yield archive


def libs_manifest(vsix: zipfile.ZipFile) -> dict[str, object]:
    data = json.loads(vsix.read("extension/bundled/libs/manifest.json"))
    assert isinstance(data, dict)
    return data


def test_the_targets_are_the_eight_vs_code_platforms() -> None:
    assert sorted(ALL_TARGETS) == sorted(WHEEL_PLATFORM)
    assert set(CI_TARGETS) <= set(ALL_TARGETS)


def test_manifests_name_the_target(target: str, vsix: zipfile.ZipFile) -> None:
    identity = re.search(r"<Identity [^>]*>", vsix.read("extension.vsixmanifest").decode())
    assert identity is not None
    assert f'TargetPlatform="{target}"' in identity.group()
    manifest = libs_manifest(vsix)
    assert manifest["platform"] == target
    assert manifest["interpreters"] == INTERPRETERS
    libc = {"linux": {"libc": "glibc", "glibc": "2.28"}, "alpine": {"libc": "musl"}}
    expected_libc = libc.get(target.split("-")[0], {})
    assert {key: manifest[key] for key in ("libc", "glibc") if key in manifest} == expected_libc


def test_ships_licence_icon_readme_and_changelog(vsix: zipfile.ZipFile) -> None:
    package = json.loads(vsix.read("extension/package.json"))
    assert package["repository"]["url"] == "https://github.com/async-test-lint/async-test-lint"
    assert package["icon"] == "images/icon.png"
    assert "scripts" not in package and "devDependencies" not in package
    assert vsix.read("extension/LICENSE.txt") == (ROOT / "LICENSE").read_bytes()
    assert (
        "<License>extension/LICENSE.txt</License>" in vsix.read("extension.vsixmanifest").decode()
    )
    width, height = struct.unpack(">II", vsix.read("extension/images/icon.png")[16:24])
    assert min(width, height) >= 128
    readme = vsix.read("extension/readme.md").decode()
    assert readme.startswith("# Async Test Lint for VS Code")
    assert b"## [Unreleased]" in vsix.read("extension/changelog.md")


def test_ships_nothing_the_runtime_does_not_need(target: str, vsix: zipfile.ZipFile) -> None:
    names = [info.filename for info in vsix.infolist() if not info.is_dir()]
    outside_libs = {name for name in names if not name.startswith("extension/bundled/libs/")}
    assert outside_libs == EXTENSION_FILES
    assert [name for name in names if UNNEEDED.search(name)] == []
    folders = {PurePosixPath(name).parts[3] for name in names if name not in outside_libs}
    assert folders == {"manifest.json", "common", *INTERPRETERS}
    foreign = ".so" if target.startswith("win32") else ".pyd"
    assert [name for name in names if name.endswith(foreign)] == []


def native_architecture(binary: bytes) -> tuple[str, set[str]]:
    """(format, architectures) from an ELF, PE or Mach-O (thin or fat) header."""
    if binary[:4] == b"\x7fELF":
        machine = struct.unpack_from("<H", binary, 18)[0]
        return "elf", {{0x3E: "x86_64", 0xB7: "arm64"}.get(machine, hex(machine))}
    if binary[:2] == b"MZ":
        pe = struct.unpack_from("<I", binary, 0x3C)[0]
        assert binary[pe : pe + 4] == b"PE\0\0"
        machine = struct.unpack_from("<H", binary, pe + 4)[0]
        return "pe", {{0x8664: "x86_64", 0xAA64: "arm64"}.get(machine, hex(machine))}
    cpu_names = {0x01000007: "x86_64", 0x0100000C: "arm64"}
    if binary[:4] == b"\xcf\xfa\xed\xfe":
        cpu = struct.unpack_from("<I", binary, 4)[0]
        return "macho", {cpu_names.get(cpu, hex(cpu))}
    if binary[:4] == b"\xca\xfe\xba\xbe":
        count = struct.unpack_from(">I", binary, 4)[0]
        cpus = [struct.unpack_from(">I", binary, 8 + 20 * index)[0] for index in range(count)]
        return "macho", {cpu_names.get(cpu, hex(cpu)) for cpu in cpus}
    raise AssertionError(f"not a native module: {binary[:8]!r}")


def test_native_modules_fit_the_target_for_every_cpython(
    target: str, vsix: zipfile.ZipFile
) -> None:
    system, arch = target.split("-")
    expected_format = {"win32": "pe", "darwin": "macho"}.get(system, "elf")
    names = set(vsix.namelist())
    natives = [
        name for name in names if re.search(r"\.(so|pyd|dylib|dll)$", name, flags=re.IGNORECASE)
    ]
    libcst_natives = []
    for interpreter in INTERPRETERS:
        minor = interpreter.removeprefix("cp3")
        name = NATIVE_NAME[target].format(minor=minor)
        if system == "alpine" and int(minor) < 11:
            # CPython learnt musl's own suffix in 3.11; before, it says linux-gnu on musl too (the
            # libc check below tells them apart).
            name = name.replace("-linux-musl.so", "-linux-gnu.so")
        path = f"extension/bundled/libs/{interpreter}/libcst/{name}"
        assert path in names, f"{target}: no {name} for {interpreter}"
        libcst_natives.append(path)
    # Only libcst is native; each module has the target's format and architecture.
    assert sorted(natives) == sorted(libcst_natives)
    for path in natives:
        binary = vsix.read(path)
        file_format, architectures = native_architecture(binary)
        assert file_format == expected_format, path
        assert ARCHITECTURE[arch] in architectures, (path, architectures)
        if system == "linux":
            assert b"libc.so.6" in binary and b"libc.musl-" not in binary, path
        if system == "alpine":
            assert b"libc.musl-" in binary and b"libc.so.6" not in binary, path


def wheel_tags(vsix: zipfile.ZipFile) -> dict[str, list[str]]:
    """`Tag:` lines of each dist-info's WHEEL file, by its path in the VSIX."""
    return {
        name: re.findall(r"^Tag: (\S+)$", vsix.read(name).decode(), flags=re.MULTILINE)
        for name in vsix.namelist()
        if re.search(r"\.dist-info/WHEEL$", name)
    }


def test_wheel_tags_fit_the_target_and_each_interpreter(target: str, vsix: zipfile.ZipFile) -> None:
    platform = re.compile(WHEEL_PLATFORM[target])
    tags = wheel_tags(vsix)
    native_distributions = 0
    for path, path_tags in tags.items():
        assert path_tags, path
        folder = PurePosixPath(path).parts[3]
        for tag in path_tags:
            python, abi, platform_tag = tag.split("-")
            if platform_tag == "any":
                assert abi == "none", (path, tag)
                continue
            native_distributions += 1
            assert folder != "common", f"a native wheel in common/: {path} {tag}"
            assert python == folder and abi in (folder, "abi3"), (path, tag)
            assert platform.fullmatch(platform_tag), (path, tag)
    libcst = {
        PurePosixPath(path).parts[3] for path in tags if "/libcst-" in path and "dist-info" in path
    }
    assert libcst == set(INTERPRETERS)
    assert native_distributions >= len(INTERPRETERS)


def test_darwin_x64_gets_a_libcst_that_publishes_wheels_for_it() -> None:
    """libcst 1.9.0 has no macOS x86_64 wheels: the lock pins 1.8.x there, 1.9+ elsewhere."""
    lock = (ROOT / "bundled" / "requirements.txt").read_text()
    found = re.findall(r"^libcst==(\S+) ; (.+?) \\$", lock, flags=re.MULTILINE)
    pins = {marker: version for version, marker in found}
    assert len(pins) == 2, pins
    darwin_x64 = "platform_machine == 'x86_64' and sys_platform == 'darwin'"
    assert pins[darwin_x64].startswith("1.8.")
    pinned = re.findall(r"^([a-z0-9_.-]+)==", lock, flags=re.MULTILINE | re.IGNORECASE)
    assert "libcst" in pinned and not [name for name in pinned if "yaml" in name.lower()]


@pytest.fixture(scope="module")
def linux_x64_extension(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("linux-x64")
    with zipfile.ZipFile(built_vsix("linux-x64")) as archive:
        archive.extractall(folder)
    return folder / "extension"


@pytest.mark.asyncio
async def test_the_linux_x64_vsix_serves_a_real_session(
    linux_x64_extension: Path, tmp_path: Path
) -> None:
    """Its own launcher and libraries (no PyYAML in them), as the client starts them."""
    if sys.platform != "linux" or os.uname().machine != "x86_64":
        pytest.skip("runs the linux-x64 VSIX's native modules")
    from test_vscode_bundle import lint_round_trip, serving

    launcher = linux_x64_extension / "bundled" / "tool" / "serve.py"
    async with serving([sys.executable, "-I", "-S", "-B", str(launcher)]) as client:
        await lint_round_trip(client, tmp_path)


def test_another_platforms_vsix_refuses_to_start_here(tmp_path: Path) -> None:
    if sys.platform != "linux" or os.uname().machine != "x86_64":
        pytest.skip("expects a linux-x64 host")
    with zipfile.ZipFile(built_vsix("win32-x64")) as archive:
        archive.extractall(tmp_path)
    launcher = tmp_path / "extension" / "bundled" / "tool" / "serve.py"
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-B", str(launcher)],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert result.returncode == EXIT_NO_BUNDLED_LIBS
    assert "built for win32-x64" in result.stderr
    assert "runs as linux-x64" in result.stderr


def test_an_unknown_target_is_refused_before_building() -> None:
    result = subprocess.run(
        [SCRIPT, "--target", "linux-riscv64"], capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "unknown target linux-riscv64" in result.stderr


# The `uv` the script runs, replaced by one that fails like a download for CPython 3.12 and passes
# everything else to the real uv (with the real cache, so nothing is downloaded twice). `pip
# compile` does nothing: the copied lock stays as it is.
FAILING_UV = """#!/bin/sh
export UV_CACHE_DIR="{cache}"
case "$*" in
"pip compile"*) exit 0 ;;
"pip install"*"--python-version 3.12"*)
    echo "error: simulated download failure: libcst for cp312" >&2
    exit 1
    ;;
esac
exec "{uv}" "$@"
"""
COPIED = [
    "scripts/_common.sh",
    "scripts/package-vsix",
    "pyproject.toml",
    "README.md",
    "LICENSE",
    "CHANGELOG.md",
    "package.json",
    ".vscodeignore",
    "docs/vscode.md",
    "images/icon.png",
    "bundled/requirements.txt",
    "bundled/constraints.txt",
    "bundled/tool",
    "client",
    "server/async_test_lint",
]


def test_a_failed_download_fails_the_packaging(tmp_path: Path) -> None:
    real_uv = ROOT / ".cache" / "vsix" / "tools" / "bin" / "uv"
    if not real_uv.exists() or not (ROOT / "node_modules" / ".bin" / "vsce").exists():
        unavailable("uv or node_modules missing (run scripts/setup-vscode)")
    checkout = tmp_path / "checkout"
    for relative in COPIED:
        source = ROOT / relative
        if source.is_dir():
            shutil.copytree(
                source, checkout / relative, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            (checkout / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, checkout / relative)
    (checkout / "node_modules").symlink_to(ROOT / "node_modules")
    fake_uv = checkout / ".cache" / "vsix" / "tools" / "bin" / "uv"
    fake_uv.parent.mkdir(parents=True)
    fake_uv.write_text(FAILING_UV.format(cache=ROOT / ".cache" / "uv", uv=real_uv))
    fake_uv.chmod(0o755)

    result = subprocess.run(
        [checkout / "scripts" / "package-vsix", "--target", "linux-x64"],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode != 0, result.stderr[-2000:]
    assert "simulated download failure" in result.stderr
    assert "vsce package" not in result.stderr
    assert list(checkout.glob("dist/*.vsix")) == []
    assert not (checkout / ".cache" / "vsix" / "payloads" / "linux-x64").exists()
    assert list((checkout / ".cache" / "vsix").glob("stage.*")) == []  # the half-built payload


def load_launcher() -> object:
    """bundled/tool/serve.py as a module (its `main()` does not run on import)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("atl_serve", ROOT / "bundled/tool/serve.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("system", "machine", "sysconfig_platform", "libc", "musl_loader", "expected"),
    [
        ("win32", "AMD64", "win-amd64", ("", ""), [], "win32-x64"),
        # An x64 Python emulated on an arm64 Windows: the interpreter's build decides.
        ("win32", "ARM64", "win-amd64", ("", ""), [], "win32-x64"),
        ("win32", "ARM64", "win-arm64", ("", ""), [], "win32-arm64"),
        ("darwin", "arm64", "macosx-11.0-arm64", ("", ""), [], "darwin-arm64"),
        ("darwin", "x86_64", "macosx-10.9-universal2", ("", ""), [], "darwin-x64"),
        ("linux", "x86_64", "linux-x86_64", ("glibc", "2.36"), [], "linux-x64"),
        ("linux", "aarch64", "linux-aarch64", ("glibc", "2.31"), [], "linux-arm64"),
        ("linux", "x86_64", "linux-x86_64", ("", ""), ["/lib/ld-musl-x86_64.so.1"], "alpine-x64"),
        (
            "linux",
            "aarch64",
            "linux-aarch64",
            ("", ""),
            ["/lib/ld-musl-aarch64.so.1"],
            "alpine-arm64",
        ),
    ],
)
def test_the_launcher_names_the_interpreters_platform_as_vsce_does(
    monkeypatch: pytest.MonkeyPatch,
    system: str,
    machine: str,
    sysconfig_platform: str,
    libc: tuple[str, str],
    musl_loader: list[str],
    expected: str,
) -> None:
    import glob
    import platform
    import sysconfig

    launcher = load_launcher()
    monkeypatch.setattr(sys, "platform", system)
    monkeypatch.setattr(platform, "machine", lambda: machine)
    monkeypatch.setattr(platform, "libc_ver", lambda *args: libc)
    monkeypatch.setattr(sysconfig, "get_platform", lambda: sysconfig_platform)
    monkeypatch.setattr(glob, "glob", lambda pattern: musl_loader)
    assert launcher.host_platform() == expected  # type: ignore[attr-defined]
    assert expected in ALL_TARGETS
