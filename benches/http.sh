#!/usr/bin/env bash
# HTTP/1.1 hello: hyper 1.x on waza vs hyper 1.x on tokio over 127.0.0.1, driven by wrk.
#
#   bash benches/http.sh [--seconds N] [--connections C] [--rounds R] [--builtin]
#
# Installs wrk from Debian's packages when it is missing (as root, or through sudo); without
# it the bench falls back to its built-in load generator. Defaults: 5 s per run after a 1 s
# warm-up, 64 connections, 3 rounds alternating the two servers (about 40 s of load).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v wrk >/dev/null 2>&1; then
    sudo=""
    if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1; then
        sudo="sudo"
    fi
    if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" = 0 ] || [ -n "$sudo" ]; }; then
        echo "installing wrk ..." >&2
        $sudo apt-get update -qq || true
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq wrk >/dev/null ||
            echo "could not install wrk; using the built-in generator" >&2
    else
        echo "wrk is not installed and apt-get is unavailable; using the built-in generator" >&2
    fi
fi

# The build can take a while on 2 cores; the runs themselves are bounded by --seconds.
exec timeout 1800 cargo bench -p waza-benches --bench http -- "$@"
