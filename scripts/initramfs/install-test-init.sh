#!/bin/sh
# /init of the install test's initramfs (scripts/tests/ovmf-install.sh), busybox sh:
# a Linux system on which a user runs `hiberload install`, `status`,
# `remove`. The step to run is in the file /hltest-step on the ESP (the test
# writes it from the host between power-ons):
#   install  BootOrder before, hiberload install, status, a few refused
#            commands (bad value, read-only efivarfs, the ESP as a hibernation
#            partition), BootOrder after
#   check    which entry started this boot (BootCurrent), status with no
#            image, then with a valid image written to the partition, discard
#   remove   hiberload remove, BootOrder after
# Output goes to the serial port directly: on the first boot hiberload is
# unconfigured and the kernel has no console=ttyS0. Markers: "HLTEST: ...".
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp
exec >/dev/ttyS0 2>&1 </dev/null
mount -t efivarfs efivarfs /sys/firmware/efi/efivars || echo "HLTEST: no efivarfs"

echo "HLTEST: init started, cmdline: $(cat /proc/cmdline)"
i=0
while [ ! -b /dev/vda1 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
mkdir -p /mnt/esp
mount -t vfat /dev/vda1 /mnt/esp || echo "HLTEST: cannot mount the ESP"
step=$(cat /mnt/esp/hltest-step 2>/dev/null)
echo "HLTEST: step $step"

boot_order() { efibootmgr | sed -n 's/^BootOrder: //p'; }
run() { # run COMMAND...: show it, run it, show its exit status
    echo "HLTEST: \$ $*"
    "$@"
    echo "HLTEST: exit status $?"
}

case "$step" in
install)
    echo "HLTEST: BootOrder before install: $(boot_order)"
    run efibootmgr -v
    run hiberload install --esp /mnt/esp --cmdline "console=ttyS0 panic=-1" --timeout 0
    echo "HLTEST: BootOrder after install: $(boot_order)"
    run efibootmgr -v
    run hiberload status
    run hiberload config show
    run hiberload config set timeout=9999
    mount -o remount,ro /sys/firmware/efi/efivars
    run hiberload config set timeout=1
    mount -o remount,rw /sys/firmware/efi/efivars
    run hiberload partition prepare /dev/vda1 --yes
    run hiberload partition prepare /dev/vda2 --yes
    echo "HLTEST: config after the refused commands:"
    hiberload config show
    ;;
check)
    echo "HLTEST: BootCurrent: $(efibootmgr | sed -n 's/^BootCurrent: //p')"
    echo "HLTEST: BootOrder: $(boot_order)"
    echo "HLTEST: status with no image"
    run hiberload status
    dd if=/hltest/image.img of=/dev/vda2 bs=64k conv=fsync 2>/dev/null
    echo "HLTEST: status with a valid image"
    run hiberload status
    run hiberload discard --yes
    run hiberload status
    dd if=/dev/zero of=/dev/vda2 bs=64k count=1 conv=fsync 2>/dev/null
    ;;
remove)
    echo "HLTEST: BootOrder before remove: $(boot_order)"
    run hiberload remove --esp /mnt/esp
    echo "HLTEST: BootOrder after remove: $(boot_order)"
    run efibootmgr -v
    run hiberload status
    ;;
*)
    echo "HLTEST: no step"
    ;;
esac
umount /mnt/esp
sync
echo "HLTEST: done, powering off"
poweroff -f
