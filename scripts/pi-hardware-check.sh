#!/usr/bin/env bash
# Checks the real hardware of a gate on a Raspberry Pi: GPIO mapping, relay, scanner.
# Usage: scripts/pi-hardware-check.sh [/etc/ridergate/config.yaml]
# Run it as the service user (or root) with the barrier in view.
set -euo pipefail
config="${1:-/etc/ridergate/config.yaml}"
here="$(cd "$(dirname "$0")/.." && pwd)"
cli="$here/dist/cli/main.js"

[ -f "$cli" ] || { echo "ridergate is not built: run 'npm ci && npm run build' in $here"; exit 1; }
[ -f "$config" ] || { echo "no configuration at $config: pass its path as the first argument"; exit 1; }

echo "== GPIO chips (the relay pin is mapped by label and base) =="
found=0
for chip in /sys/class/gpio/gpiochip*; do
  [ -d "$chip" ] || continue
  found=1
  printf '%-28s label %-26s base %-4s lines %s\n' "$chip" "$(cat "$chip/label")" "$(cat "$chip/base")" "$(cat "$chip/ngpio")"
done
[ "$found" = 1 ] || echo "no /sys/class/gpio/gpiochip* folders: the sysfs GPIO interface is missing on this kernel"

echo "== serial devices =="
ls -l /dev/serial/by-id/ 2>/dev/null || echo "no /dev/serial/by-id/ entries: is the scanner plugged in and in serial (USB-CDC) mode?"

echo "== relay: driven inactive, then one pulse (watch the barrier) =="
node "$cli" relay off --config "$config"
node "$cli" relay pulse --config "$config"

echo "== scanner: scan any QR code within 60 s =="
node "$cli" scan --config "$config" --count 1 --timeout 60
echo "hardware check done"
