#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# tools/check-deps.sh LEVEL: make sure what `make LEVEL` needs is installed.
#
#   build   compiler, pkg-config, libxml2, libcap-ng, libseccomp, libmnl,
#           libnftables headers
#   check   build + cmocka, valgrind, jq, python3, xmllint, procps (ps, pgrep),
#           man-db (the install test renders the man pages), dnsmasq-base,
#           nftables and iproute2 (the network tests, in namespaces),
#           qemu-system-x86, busybox-static, cpio and lz4 (the qemu tests:
#           real QEMU on TCG, the test guest built by tests/guest/build-guest.sh),
#           zlib1g-dev and liblzma-dev (the install test links a program
#           statically: libxml2's private libraries -lz -llzma, which
#           libxml2-dev does not pull in)
#           binutils (readelf checks the qemu driver's core dumps)
#   demo    build + binutils (readelf), procps
#
# On Debian and derivatives: packages are checked with dpkg-query; missing
# ones are installed with apt-get when run as root, otherwise the exact
# apt-get line is printed and the script fails. Elsewhere it checks the
# commands and pkg-config modules and names what is missing.
# Run by the GNUmakefile once per build directory and level.
set -eu

level=${1:-build}
case "$level" in build) what="make" ;; *) what="make $level" ;; esac
build_pkgs="build-essential pkg-config libxml2-dev libcap-ng-dev libseccomp-dev libmnl-dev libnftables-dev"
case "$level" in
build) pkgs=$build_pkgs ;;
check) pkgs="$build_pkgs libcmocka-dev valgrind jq python3 libxml2-utils procps bsdutils man-db dnsmasq-base nftables iproute2 qemu-system-x86 busybox-static cpio lz4 zlib1g-dev liblzma-dev binutils" ;;
demo) pkgs="$build_pkgs binutils procps bsdutils" ;;
*) echo "check-deps.sh: unknown level '$level' (build, check or demo)" >&2; exit 2 ;;
esac

if ! command -v dpkg-query >/dev/null 2>&1; then
    missing=""
    for c in cc make pkg-config; do
        command -v "$c" >/dev/null 2>&1 || missing="$missing $c"
    done
    mods="libxml-2.0 libcap-ng libseccomp libmnl libnftables"
    [ "$level" = check ] && mods="$mods cmocka"
    for m in $mods; do
        pkg-config --exists "$m" 2>/dev/null || missing="$missing $m(pkg-config)"
    done
    if [ -n "$missing" ]; then
        echo "check-deps.sh: missing for '$what':$missing" >&2
        echo "check-deps.sh: install them with your system's package manager" >&2
        exit 1
    fi
    exit 0
fi

missing=""
for p in $pkgs; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
    *" installed") ;;
    *) missing="$missing $p" ;;
    esac
done
[ -z "$missing" ] && exit 0

line="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" != 0 ]; then
    echo "check-deps.sh: '$what' needs packages that are not installed:$missing" >&2
    echo "check-deps.sh: install them as root, then run make again:" >&2
    echo "    $line" >&2
    exit 1
fi
echo "check-deps.sh: installing what '$what' needs:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
