# Shared by scripts/demo, scripts/test and scripts/lint (sourced, not run).
# Creates the git-ignored dev venv `.venv` and installs the package with its dev extras, once:
# a stamp in `.cache/` remembers the hash of pyproject.toml, so a second run installs nothing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"
CACHE="$ROOT/.cache"
export PIP_CACHE_DIR="$CACHE/pip"
export PIP_DISABLE_PIP_VERSION_CHECK=1
mkdir -p "$CACHE"

log() { printf '==> %s\n' "$*" >&2; }

# The interpreter for .venv: $PYTHON, else python3.11/python3 (the project needs >= 3.9).
find_python() {
    local candidate
    for candidate in "${PYTHON:-}" python3.11 python3.12 python3.13 python3 python; do
        [ -n "$candidate" ] || continue
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys, venv; sys.exit(sys.version_info < (3, 9))' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    echo "error: no Python >= 3.9 with the venv module found (set PYTHON=/path/to/python)" >&2
    return 1
}

stamp_of() {
    # What the install depends on: pyproject.toml and the interpreter.
    { cat "$ROOT/pyproject.toml"; "$VENV/bin/python" -c 'import sys; print(sys.version)'; } |
        sha256sum | cut -d' ' -f1
}

ensure_venv() {
    local extras="${1:-dev}"
    if [ ! -x "$VENV/bin/python" ]; then
        local python
        python="$(find_python)"
        log "creating $VENV with $python"
        "$python" -m venv "$VENV"
    fi
    local stamp_file="$CACHE/install-$extras.stamp"
    local want
    want="$(stamp_of)"
    if [ ! -f "$stamp_file" ] || [ "$(cat "$stamp_file")" != "$want" ] ||
        ! "$VENV/bin/python" -c 'import async_test_lint' >/dev/null 2>&1; then
        log "installing async-test-lint into .venv (pip install -e '.[$extras]')"
        local spec=".[$extras]"
        [ "$extras" = none ] && spec="."
        if ! { "$VENV/bin/python" -m pip install --upgrade pip &&
            "$VENV/bin/python" -m pip install -e "$spec"; } >"$CACHE/pip-install.log" 2>&1; then
            cat "$CACHE/pip-install.log" >&2
            echo "error: pip install failed (log above, also in .cache/pip-install.log)" >&2
            return 1
        fi
        echo "$want" >"$stamp_file"
    fi
}
