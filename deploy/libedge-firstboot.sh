#!/bin/sh
# A libedge device's first boot: enrol with the invitation ticket staff put on the boot
# partition (`libedge admin device invite --ticket`), remove the ticket, start the daemon.
#   exit 0   enrolled (or no ticket: nothing to do)
#   exit 1   central unreachable: systemd tries again (the ticket stays)
#   exit 2   central refused the ticket (used, expired, forged): the ticket is removed
set -u
TICKET="${1:-/boot/firmware/libedge-enrol.toml}"
ETC="${LIBEDGE_ETC:-/etc/libedge}"
DATA="${LIBEDGE_DATA:-/var/lib/libedge/device}"
PROVISION="${LIBEDGE_PROVISION_BIN:-/opt/libedge/.venv/bin/libedge-provision}"
SYSTEMCTL="${SYSTEMCTL:-systemctl}"

[ -f "$TICKET" ] || exit 0
umask 077
out=$("$PROVISION" enrol --ticket "$TICKET" --out "$ETC" --data-dir "$DATA" 2>&1)
status=$?
echo "$out"
if [ $status -ne 0 ]; then
    case "$out" in
        *"[central_unreachable]"*) exit 1 ;;
    esac
    rm -f "$TICKET"
    exit 2
fi
rm -f "$TICKET"
if id libedge >/dev/null 2>&1; then
    mkdir -p "$DATA"
    chown -R libedge: "$ETC" "$DATA"
fi
kind=$(echo "$out" | sed -n 's/^enrolled [^ ]* (\([a-z]*\)).*/\1/p')
case "$kind" in
    lockd) $SYSTEMCTL enable --now lockd.service ;;
    kiosk) $SYSTEMCTL enable --now libedge-kiosk.service ;;
esac
