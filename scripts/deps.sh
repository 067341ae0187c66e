#!/bin/sh
# Installs every Debian package heaplab needs (idempotent; as root on Debian 12).
# Why each one is there: README.md, "Dependencies".
set -e
PACKAGES="clang lld libclang-rt-14-dev afl++ libcjson-dev libzstd-dev python3-pytest python3-pytest-xdist python3-matplotlib python3-jsonschema libjemalloc-dev libmimalloc-dev libgoogle-perftools-dev g++ libbenchmark-dev libseccomp-dev sqlite3 wabt binaryen wasi-libc nodejs"
missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then echo "deps: all installed"; exit 0; fi
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
echo "deps: installing$missing"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
