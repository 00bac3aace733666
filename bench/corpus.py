"""Build the real-world corpus: pinned sdists of async-heavy projects, plus the interpreter's tests.

    python bench/corpus.py            # download (pip, hash-checked) and unpack into bench/.corpus/
    python bench/corpus.py --list     # print the project folders

The sdists are fetched by pip from the package registry with `--require-hashes`, cached in
`bench/.corpus/sdists/` (git-ignored), and unpacked into `bench/.corpus/src/<name>-<version>/`.
The running interpreter's own `test` package (whose `test_asyncio` drives loops by hand on
purpose) is added by reference, not copied.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE / ".corpus"
SDISTS = CORPUS / "sdists"
SOURCES = CORPUS / "src"
REQUIREMENTS = HERE / "corpus-requirements.txt"


def download() -> None:
    SDISTS.mkdir(parents=True, exist_ok=True)
    wanted = _pinned_names()
    if all(_find_sdist(name, version) is not None for name, version in wanted):
        return
    # Source distributions of the pinned projects only: their build requirements may come as
    # wheels (building maturin or Cython from source needs more than this registry). pip prepares
    # metadata with the running interpreter, so Requires-Python (e.g. Django 6 wants 3.12) is
    # ignored: nothing here is installed.
    names = ",".join(name for name, _ in wanted)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--no-binary",
            names,
            "--ignore-requires-python",
            "--require-hashes",
            "--quiet",
            "--dest",
            str(SDISTS),
            "--requirement",
            str(REQUIREMENTS),
        ],
        check=True,
    )


def _pinned_names() -> list[tuple[str, str]]:
    pins = []
    for line in REQUIREMENTS.read_text(encoding="utf-8").splitlines():
        requirement = line.split("#", 1)[0].split("--hash", 1)[0].strip()
        if requirement:
            name, _, version = requirement.partition("==")
            pins.append((name.strip(), version.strip()))
    return pins


def _normalise(name: str) -> str:
    return name.lower().replace("-", "_").replace(".", "_")


def _find_sdist(name: str, version: str) -> Path | None:
    for candidate in SDISTS.glob("*"):
        stem = candidate.name.lower()
        if stem.startswith(f"{_normalise(name)}-{version}") or stem.startswith(
            f"{name.lower()}-{version}"
        ):
            return candidate
    return None


def unpack() -> list[Path]:
    SOURCES.mkdir(parents=True, exist_ok=True)
    folders = []
    for name, version in _pinned_names():
        target = SOURCES / f"{name}-{version}"
        folders.append(target)
        if target.exists():
            continue
        archive = _find_sdist(name, version)
        if archive is None:
            raise SystemExit(f"missing sdist for {name}=={version}: run without --list first")
        _extract(archive, target)
    return folders


def _extract(archive: Path, target: Path) -> None:
    staging = target.with_name(target.name + ".partial")
    staging.mkdir(parents=True, exist_ok=True)
    if archive.suffix == ".zip":
        with zipfile.ZipFile(archive) as bundle:
            bundle.extractall(staging)
    else:
        with tarfile.open(archive) as bundle:
            if sys.version_info >= (3, 12):
                bundle.extractall(staging, filter="data")
            else:
                bundle.extractall(staging)
    staging.rename(target)


def interpreter_tests() -> Path:
    return Path(sysconfig.get_paths()["stdlib"]) / "test"


def project_folders() -> list[Path]:
    return [*unpack(), interpreter_tests()]


def python_files(folder: Path) -> Iterator[Path]:
    yield from sorted(path for path in folder.rglob("*.py") if path.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--list", action="store_true", help="print the project folders")
    args = parser.parse_args()
    if not args.list:
        download()
    folders = project_folders()
    total_files = total_lines = 0
    for folder in folders:
        files = list(python_files(folder))
        lines = sum(len(path.read_bytes().splitlines()) for path in files)
        total_files += len(files)
        total_lines += lines
        print(f"{folder}\t{len(files)} files\t{lines} lines")
    print(f"total\t{total_files} files\t{total_lines} lines")


if __name__ == "__main__":
    main()
