#!/usr/bin/env bash
# Set up a fresh machine for gridwatch: system packages (when root), the virtual environment, the project.
# Usage: scripts/bootstrap.sh [runtime|dev]   (idempotent; `make demo` and `make test` call it)
set -euo pipefail
profile="${1:-runtime}"
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
PYTHON="${PYTHON:-python3}"

apt_install() {
    # Install the Debian packages that are missing when we can (root + apt); otherwise say what falls back.
    local missing=()
    for pkg in "$@"; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "bootstrap: installing ${missing[*]} from Debian packages"
        if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -1)" ]; then
            apt-get update -qq || echo "bootstrap: apt-get update failed; trying with the lists we have"
        fi
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
            || echo "bootstrap: could not install ${missing[*]}; gridwatch falls back where it can"
    else
        echo "bootstrap: ${missing[*]} missing and not root; gridwatch uses its fallbacks (embedded broker)"
    fi
}

if command -v dpkg >/dev/null 2>&1; then
    apt_install mosquitto mosquitto-clients ffmpeg
    if [ "$profile" = dev ]; then
        # Browser tests (Chromium, a CJK font for legible Chinese screenshots) and PostgreSQL tests.
        apt_install chromium fonts-wqy-microhei postgresql
    fi
fi

if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/.installed-$profile"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    extras="[all]"  # every side (edge, hub, embedded broker, PostgreSQL driver, plots); a gateway needs only [edge]
    [ "$profile" = dev ] && extras="[dev]"  # dev includes all
    echo "bootstrap: installing gridwatch$extras into $VENV (log: $VENV/bootstrap.log)"
    if ! { "$VENV/bin/python" -m pip install -q --upgrade pip \
           && "$VENV/bin/python" -m pip install -q -e ".$extras"; } >"$VENV/bootstrap.log" 2>&1; then
        grep -v '^WARNING: Location' "$VENV/bootstrap.log" | tail -n 30
        echo "bootstrap: pip install failed (full log: $VENV/bootstrap.log)" >&2
        exit 1
    fi
    "$VENV/bin/python" -c "import kernel, gridwatch, edge, central, broker, models" 
    touch "$stamp"
fi
