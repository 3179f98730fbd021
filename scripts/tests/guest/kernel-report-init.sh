#!/bin/sh
# /init of the chain-load tests' initramfs (busybox sh): report what the
# kernel got from hiberload, run the fallback hook when asked to, power off.
#
# Everything goes to the console (console=ttyS0), between markers the OVMF
# tests (scripts/tests/kernel-*.sh) look for:
#   HLTEST: init started
#   HLTEST: cmdline: <the whole /proc/cmdline>
#   HLTEST: iomem begin / <each /proc/iomem line> / HLTEST: iomem end
#   HLTEST: firmware memmap begin / START END TYPE / HLTEST: firmware memmap end
#   HLTEST: fallback hook ... (when hiberload.image= is on the command line)
#   HLTEST: init done, powering off
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp

echo "HLTEST: init started, uptime $(cut -d' ' -f1 /proc/uptime) s"
echo "HLTEST: cmdline: $(cat /proc/cmdline)"
echo "HLTEST: iomem begin"
cat /proc/iomem
echo "HLTEST: iomem end"
echo "HLTEST: firmware memmap begin"
for d in /sys/firmware/memmap/*; do
    [ -r "$d/start" ] && echo "$(cat "$d/start") $(cat "$d/end") $(cat "$d/type")"
done
echo "HLTEST: firmware memmap end"
echo "HLTEST: kernel: $(uname -r) $(uname -v)"

case " $(cat /proc/cmdline) " in
*" hiberload.image="*)
    if [ -d /lib/modules/hiberload ]; then
        for m in $(cat /lib/modules/hiberload/modules.order); do
            insmod "/lib/modules/hiberload/$m" || echo "HLTEST: insmod $m failed"
        done
        sleep 1
    fi
    echo "HLTEST: fallback hook begin"
    /sbin/hiberload-fallback-restore
    echo "HLTEST: fallback hook returned $? (the normal boot continues)"
    ;;
esac

echo "HLTEST: init done, powering off"
poweroff -f
