#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/guest/build-guest.sh OUTDIR: build the test guest (a Debian cloud
# kernel and a busybox initramfs) into OUTDIR, from Debian packages only:
#
#   OUTDIR/vmlinux          uncompressed PVH kernel (boots ~0.3 s faster)
#   OUTDIR/vmlinuz          the package's bzImage
#   OUTDIR/initrd.cpio.gz   busybox, the modules the tests use, tests/guest/init
#   OUTDIR/stamp            what it was built from
#
# Nothing is installed on the host and /boot is not touched: the kernel
# package is fetched with `apt-get download` (or found in apt's cache, or
# in OUTDIR from an earlier run) and unpacked with dpkg-deb -x. Rebuilt
# only when the init script or this script changed. Exit 0 and print
# OUTDIR when the guest is there; exit 77 with a reason when it cannot be
# built here (no network for apt, no busybox-static, ...).
set -eu

out=${1:?usage: build-guest.sh OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)

skip() { echo "build-guest.sh: cannot build the test guest: $*" >&2; exit 77; }

for c in dpkg-deb cpio gzip lz4; do
    command -v "$c" >/dev/null 2>&1 || skip "'$c' is missing (apt-get install cpio lz4)"
done
[ -x /bin/busybox ] || skip "busybox is missing (apt-get install busybox-static)"
case "$(od -An -c -N4 /bin/busybox 2>/dev/null | tr -d ' ')" in
*ELF*) ;;
*) skip "/bin/busybox is not an ELF program" ;;
esac
if ldd /bin/busybox >/dev/null 2>&1; then
    skip "/bin/busybox is dynamically linked (apt-get install busybox-static)"
fi

sum=$(cat "$0" "$here/init" | md5sum | cut -d' ' -f1)
if [ -f "$out/stamp" ] && grep -q "^build $sum\$" "$out/stamp" &&
   [ -s "$out/vmlinux" ] && [ -s "$out/initrd.cpio.gz" ]; then
    echo "$out"
    exit 0
fi

# The kernel package: the versioned name the cloud meta-package depends on.
deb=$(ls "$out"/linux-image-*-cloud-amd64_*.deb 2>/dev/null | grep -v 'linux-image-cloud-amd64_' | head -n1 || true)
if [ -z "$deb" ]; then
    pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
          sed -n 's/^ *Depends: \(linux-image-[0-9].*-cloud-amd64\)$/\1/p' | head -n1)
    [ -n "$pkg" ] || skip "apt knows no linux-image-cloud-amd64 (run apt-get update)"
    cached=$(ls /var/cache/apt/archives/"$pkg"_*.deb 2>/dev/null | head -n1 || true)
    if [ -n "$cached" ]; then
        cp "$cached" "$out/"
    else
        echo "build-guest.sh: downloading $pkg (about 27 MB)" >&2
        (cd "$out" && apt-get download -q "$pkg" >/dev/null 2>&1) ||
            skip "apt-get download $pkg failed (no network?)"
    fi
    deb=$(ls "$out"/"$pkg"_*.deb | head -n1)
fi

work=$(mktemp -d "$out/work.XXXXXX")
trap 'rm -rf "$work"' EXIT
dpkg-deb -x "$deb" "$work/k"
kver=$(ls "$work/k/lib/modules" | head -n1)
cp "$work/k/boot/vmlinuz-$kver" "$out/vmlinuz.new"

# The bzImage holds an LZ4 (legacy frame) payload: the ELF kernel, which
# QEMU boots directly through its PVH note.
off=$(grep -obUaP '\x02\x21\x4c\x18' "$out/vmlinuz.new" | head -n1 | cut -d: -f1)
[ -n "$off" ] || skip "no LZ4 payload in vmlinuz-$kver"
tail -c +"$((off + 1))" "$out/vmlinuz.new" | lz4 -dc > "$out/vmlinux.new" 2>/dev/null || true
case "$(od -An -c -N4 "$out/vmlinux.new" | tr -d ' ')" in
*ELF*) ;;
*) skip "the payload of vmlinuz-$kver did not unpack to an ELF kernel" ;;
esac

# The initramfs: busybox, the modules the tests load, init and its files.
r=$work/root
mkdir -p "$r/bin" "$r/dev" "$r/proc" "$r/sys" "$r/etc/acpi/PWRF" "$r/lib/modules/$kver"
cp /bin/busybox "$r/bin/busybox"
cp "$here/init" "$r/init"
chmod 0755 "$r/init"
printf '#!/bin/busybox sh\npoweroff -f\n' > "$r/etc/acpi/PWRF/00000080"
chmod 0755 "$r/etc/acpi/PWRF/00000080"
echo "PWRF PWRF/00000080" > "$r/etc/acpid.conf"
cat > "$r/etc/udhcpc.script" <<'EOF'
#!/bin/busybox sh
case "$1" in
bound|renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" dev "$interface"
    [ -n "${router:-}" ] && ip route add default via "${router%% *}" dev "$interface"
    ;;
esac
exit 0
EOF
chmod 0755 "$r/etc/udhcpc.script"
mods="virtio virtio_ring virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci
      failover net_failover virtio_net virtio_blk virtio_balloon virtio-rng rng-core
      e1000 scsi_common scsi_mod sd_mod libata libahci ahci ata_piix button evdev"
for m in $mods; do
    f=$(find "$work/k/lib/modules/$kver" -name "$m.ko" | head -n1)
    if [ -n "$f" ]; then
        mkdir -p "$r/$(dirname "${f#"$work"/k/}")"
        cp "$f" "$r/${f#"$work"/k/}"
    fi
done
cp "$work/k/lib/modules/$kver/modules.builtin" "$r/lib/modules/$kver/" 2>/dev/null || true
cp "$work/k/lib/modules/$kver/modules.order" "$r/lib/modules/$kver/" 2>/dev/null || true
/bin/busybox depmod -b "$r" "$kver"
(cd "$r" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -1) > "$out/initrd.cpio.gz.new"

mv "$out/vmlinuz.new" "$out/vmlinuz"
mv "$out/vmlinux.new" "$out/vmlinux"
mv "$out/initrd.cpio.gz.new" "$out/initrd.cpio.gz"
chmod 0644 "$out/vmlinux" "$out/vmlinuz" "$out/initrd.cpio.gz"
printf 'kernel %s\nbuild %s\n' "$(basename "$deb")" "$sum" > "$out/stamp"
echo "$out"
