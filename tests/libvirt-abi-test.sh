#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# libvirtsup's headers against libvirt's own (libvirt-dev, when installed):
#  - every constant libvirtsup declares that libvirt also has (enum member
#    or macro, numbers and strings) has libvirt's value;
#  - the structs both have are laid out alike (sizeof, every offsetof);
#  - every function libvirtsup exports that libvirt declares has libvirt's
#    prototype: libvirt's declarations, pasted after <libvirt/libvirt.h>
#    resolved to libvirtsup's (pkg-config libvirtsup-compat's include
#    path), must compile without a conflicting type.
# Nothing of libvirt is linked or copied: its headers are only compiled.
set -euo pipefail

LV=/usr/include/libvirt
if [ ! -f "$LV/libvirt.h" ]; then
    echo "libvirt-dev is not installed: no libvirt headers to compare with"
    exit 77
fi
CC=${CC:-cc}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
OURS=(-Iinclude/compat -Iinclude)
failures=0
pass() { echo "ok: $1"; }
fail() { echo "FAIL: $1"; failures=$((failures + 1)); }

# ---- constants -------------------------------------------------------------
# Names libvirtsup declares: enum members and object-like macros.
sed -n 's/^[[:space:]]*\(VIR_[A-Z0-9_]*\)[[:space:]]*=.*/\1 int/p' include/libvirtsup/*.h >"$T/names"
sed -n 's/^#[[:space:]]*define[[:space:]]\{1,\}\(VIR_[A-Z0-9_]*\)[[:space:]]\{1,\}".*/\1 str/p' \
    include/libvirtsup/*.h >>"$T/names"
sed -n 's/^#[[:space:]]*define[[:space:]]\{1,\}\(VIR_[A-Z0-9_]*\)[[:space:]]\{1,\}[(0-9].*/\1 int/p' \
    include/libvirtsup/*.h >>"$T/names"
sort -u "$T/names" -o "$T/names"
# ... that libvirt has too.
: >"$T/shared"
while read -r name kind; do
    if grep -qw -- "$name" "$LV"/*.h; then echo "$name $kind" >>"$T/shared"; fi
done <"$T/names"
{
    echo '#include <stdio.h>'
    echo '#include <libvirt/libvirt.h>'
    echo '#include <libvirt/virterror.h>'
    echo 'int main(void) {'
    while read -r name kind; do
        if [ "$kind" = str ]; then
            echo "    printf(\"%s \\\"%s\\\"\\n\", \"$name\", $name);"
        else
            echo "    printf(\"%s %lld\\n\", \"$name\", (long long)($name));"
        fi
    done <"$T/shared"
    echo '    return 0;'
    echo '}'
} >"$T/consts.c"
"$CC" -std=gnu11 -w -o "$T/consts-ours" "$T/consts.c" "${OURS[@]}"
"$CC" -std=gnu11 -w -o "$T/consts-libvirt" "$T/consts.c"
"$T/consts-ours" >"$T/consts-ours.txt"
"$T/consts-libvirt" >"$T/consts-libvirt.txt"
n=$(wc -l <"$T/shared")
if diff "$T/consts-libvirt.txt" "$T/consts-ours.txt" >"$T/consts.diff"; then
    pass "$n constants shared with libvirt have libvirt's values"
else
    fail "constants differ from libvirt's (< libvirt, > libvirtsup):"
    sed 's/^/    /' "$T/consts.diff"
fi
[ "$n" -ge 200 ] || fail "only $n shared constants found: the name extraction broke"

# ---- struct layouts ----------------------------------------------------------
structs='
virError code domain message level conn dom str1 str2 str3 int1 int2 net
virDomainInfo state maxMem memory nrVirtCpu cpuTime
virDomainJobInfo type timeElapsed timeRemaining dataTotal dataProcessed dataRemaining memTotal memProcessed memRemaining fileTotal fileProcessed fileRemaining
virTypedParameter field type value
virConnectCredential type prompt challenge defresult result resultlen
virConnectAuth credtype ncredtype cb cbdata
'
{
    echo '#include <stddef.h>'
    echo '#include <stdio.h>'
    echo '#include <libvirt/libvirt.h>'
    echo '#include <libvirt/virterror.h>'
    echo 'int main(void) {'
    echo "$structs" | while read -r s fields; do
        [ -n "$s" ] || continue
        echo "    printf(\"sizeof(%s) %zu\\n\", \"$s\", sizeof($s));"
        for f in $fields; do
            echo "    printf(\"offsetof(%s, %s) %zu\\n\", \"$s\", \"$f\", offsetof($s, $f));"
        done
    done
    echo '    return 0;'
    echo '}'
} >"$T/layout.c"
"$CC" -std=gnu11 -w -o "$T/layout-ours" "$T/layout.c" "${OURS[@]}"
"$CC" -std=gnu11 -w -o "$T/layout-libvirt" "$T/layout.c"
"$T/layout-ours" >"$T/layout-ours.txt"
"$T/layout-libvirt" >"$T/layout-libvirt.txt"
if diff "$T/layout-libvirt.txt" "$T/layout-ours.txt" >"$T/layout.diff"; then
    pass "$(echo "$structs" | grep -c .) structs laid out as libvirt's ($(wc -l <"$T/layout-ours.txt") sizes and offsets)"
else
    fail "struct layouts differ (< libvirt, > libvirtsup):"
    sed 's/^/    /' "$T/layout.diff"
fi

# ---- prototypes --------------------------------------------------------------
# libvirt's declarations, one statement a line, attributes dropped.
printf "#include <libvirt/libvirt.h>\n#include <libvirt/virterror.h>\n" | "$CC" -E -P - 2>/dev/null | tr '\n' ' ' | sed 's/;/;\n/g' |
    sed 's/__attribute__ *((\([^()]*\|([^()]*)\)*))//g; s/  */ /g; s/^ //' >"$T/libvirt-decls"
exported=$(sed -n 's/^[[:space:]]*\(vir[A-Za-z0-9_]*\);.*/\1/p' src/libvirtsup.syms)
{
    echo '#include <libvirt/libvirt.h>'
    echo '#include <libvirt/virterror.h>'
    echo '/* libvirt 9'"'"'s declarations of the same functions: */'
} >"$T/protos.c"
nshared=0 ours_only=""
for f in $exported; do
    decl=$(grep -E "(^|[ *])$f ?\(" "$T/libvirt-decls" | grep -v '^typedef' | head -n1 || true)
    [ -n "$decl" ] || decl=$(grep -E "^extern .*[ *]$f;" "$T/libvirt-decls" | head -n1 || true)
    if [ -z "$decl" ]; then
        ours_only="$ours_only $f"
        continue
    fi
    echo "$decl" >>"$T/protos.c"
    nshared=$((nshared + 1))
done
if "$CC" -std=gnu11 -fsyntax-only -Werror=incompatible-pointer-types "${OURS[@]}" "$T/protos.c" 2>"$T/protos.err"; then
    pass "$nshared exported functions have libvirt's prototypes"
else
    fail "prototypes differ from libvirt's:"
    grep -E 'error|note: previous' "$T/protos.err" | sed 's/^/    /' | head -n 40
fi
echo "libvirtsup's own calls (not in libvirt):$ours_only"

if [ $failures -ne 0 ]; then
    echo "$failures check(s) failed"
    exit 1
fi
echo "all libvirt ABI checks passed"
