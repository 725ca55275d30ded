#!/usr/bin/env bash
# Installs (or upgrades in place) ridergate on Raspberry Pi OS / Debian bookworm or trixie,
# arm64 or armhf, from the source tree this script is in (built: dist/ must exist).
#
#   sudo scripts/install.sh [--root DIR] [--relay-pin N] [--active-low | --active-high]
#
# What it does, in order: checks Node.js >= 20; copies ridergate into /opt/ridergate and runs
# `npm ci --omit=dev` there; creates the `ridergate` system user (no login, no home) in the
# `dialout` and `gpio` groups; creates /etc/ridergate (0750 root:ridergate) and
# /var/lib/ridergate (0750 ridergate:ridergate); installs and enables the systemd unit; prints
# the config.txt line that holds the relay pin inactive from boot. Re-running it upgrades in
# place: /etc/ridergate/config.yaml is never touched, the new example goes beside it.
#
# Environment:
#   RIDERGATE_ROOT=DIR       install under DIR instead of / (same as --root; for tests and
#                            images): files, users and groups all go into DIR.
#   RIDERGATE_SKIP_NPM=1     do not run `npm ci` in /opt/ridergate (tests, offline images).
set -euo pipefail

MIN_NODE_MAJOR=20
SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT="${RIDERGATE_ROOT:-}"
RELAY_PIN=""
ACTIVE_LOW=""

say() { printf 'ridergate install: %s\n' "$*"; }
fail() {
  printf 'ridergate install: error: %s\n' "$*" >&2
  exit 1
}

usage() {
  sed -n '5,6p' "${BASH_SOURCE[0]}" | sed 's/^#  *//'
  exit 2
}

parse_args() {
  while [ "$#" -gt 0 ]; do
    case "$1" in
      --root) ROOT="${2:?--root needs a directory}"; shift 2 ;;
      --root=*) ROOT="${1#--root=}"; shift ;;
      --relay-pin) RELAY_PIN="${2:?--relay-pin needs a BCM pin number}"; shift 2 ;;
      --relay-pin=*) RELAY_PIN="${1#--relay-pin=}"; shift ;;
      --active-low) ACTIVE_LOW=true; shift ;;
      --active-high) ACTIVE_LOW=false; shift ;;
      -h | --help) usage ;;
      *) fail "unknown option '$1' (expected --root DIR, --relay-pin N, --active-low, --active-high)" ;;
    esac
  done
  ROOT="${ROOT%/}"
  if [ -n "$ROOT" ] && [ ! -d "$ROOT" ]; then fail "root directory '$ROOT' does not exist"; fi
  if [ -n "$RELAY_PIN" ] && ! [[ "$RELAY_PIN" =~ ^[0-9]{1,2}$ && "$RELAY_PIN" -le 27 ]]; then
    fail "--relay-pin '$RELAY_PIN' is not a BCM pin number (0-27)"
  fi
}

node_help() {
  cat >&2 <<'EOF'
  Get a supported Node.js (20 or newer) in one of these ways, then run this script again:
    - Debian trixie / Raspberry Pi OS based on trixie: Debian's own package is Node.js 20:
        sudo apt-get install nodejs npm
    - bookworm (Debian's nodejs is 18, too old): the NodeSource repository, Node.js 22 LTS:
        curl -fsSL https://deb.nodesource.com/setup_22.x -o nodesource_setup.sh
        sudo bash nodesource_setup.sh
        sudo apt-get install nodejs
      (32-bit Raspberry Pi OS, armhf: check https://github.com/nodesource/distributions for
      your Node.js version, or use a trixie-based image; an armv6 Pi Zero/Pi 1 has no build.)
EOF
}

check_node() {
  local node version major
  node="$(command -v node || true)"
  if [ -z "$node" ]; then
    printf 'ridergate install: error: Node.js is not installed (ridergate needs %s or newer).\n' \
      "$MIN_NODE_MAJOR" >&2
    node_help
    exit 1
  fi
  version="$("$node" --version 2>/dev/null || true)"
  major="${version#v}"
  major="${major%%.*}"
  if ! [[ "$major" =~ ^[0-9]+$ ]] || [ "$major" -lt "$MIN_NODE_MAJOR" ]; then
    printf 'ridergate install: error: %s is Node.js %s; ridergate needs %s or newer.\n' \
      "$node" "${version:-(unknown)}" "$MIN_NODE_MAJOR" >&2
    node_help
    exit 1
  fi
  NODE_BIN="$node"
  say "Node.js $version at $NODE_BIN"
}

check_source() {
  [ -f "$SRC/dist/cli/main.js" ] ||
    fail "$SRC/dist/cli/main.js is missing: build first (npm ci && npm run build) or use a release archive"
  [ -f "$SRC/systemd/ridergate.service" ] || fail "$SRC/systemd/ridergate.service is missing"
  if [ "$(id -u)" -ne 0 ]; then fail "run as root (sudo $0)"; fi
}

# --- users and groups (into $ROOT via --prefix; getent would ask the running system) ---

has_entry() { grep -q "^$2:" "$ROOT/etc/$1" 2>/dev/null; }
id_of() { awk -F: -v n="$2" '$1 == n { print $3; exit }' "$ROOT/etc/$1"; }
prefix_args() { if [ -n "$ROOT" ]; then printf '%s\n' --prefix "$ROOT"; fi; }

ensure_group() {
  local -a pre
  mapfile -t pre < <(prefix_args)
  if has_entry group "$1"; then return; fi
  groupadd "${pre[@]}" --system "$1"
  say "created group $1"
}

ensure_user() {
  local -a pre
  mapfile -t pre < <(prefix_args)
  ensure_group dialout
  ensure_group gpio
  if has_entry passwd ridergate; then
    usermod "${pre[@]}" --append --groups dialout,gpio ridergate
    say "user ridergate exists; kept, made sure it is in dialout and gpio"
  else
    useradd "${pre[@]}" --system --user-group --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin --comment 'ridergate gate controller' \
      --groups dialout,gpio ridergate
    say "created system user ridergate (no login, no home) in dialout and gpio"
  fi
  RG_UID="$(id_of passwd ridergate)"
  RG_GID="$(id_of group ridergate)"
}

# --- files ---

install_tree() {
  local dest="$ROOT/opt/ridergate" stage="$ROOT/opt/ridergate.new" item
  rm -rf "$stage"
  install -d -m 0755 "$stage"
  for item in package.json package-lock.json dist devices config schemas systemd README.md; do
    if [ -e "$SRC/$item" ]; then cp -R "$SRC/$item" "$stage/"; fi
  done
  chmod -R u=rwX,go=rX "$stage"
  chown -R 0:0 "$stage"
  chmod 0755 "$stage/dist/cli/main.js"
  if [ "${RIDERGATE_SKIP_NPM:-}" = 1 ]; then
    say "RIDERGATE_SKIP_NPM=1: npm ci skipped (no node_modules in /opt/ridergate)"
  else
    say "installing runtime dependencies (npm ci --omit=dev)"
    (cd "$stage" && npm ci --omit=dev --no-audit --no-fund) ||
      fail "npm ci failed in $stage; the installed version in $dest is unchanged"
  fi
  # Swap only once the new tree is complete: a failed upgrade leaves the old one running.
  rm -rf "$ROOT/opt/ridergate.old"
  if [ -d "$dest" ]; then mv "$dest" "$ROOT/opt/ridergate.old"; fi
  mv "$stage" "$dest"
  rm -rf "$ROOT/opt/ridergate.old"
  install -d -m 0755 "$ROOT/usr/local/bin"
  ln -sfn /opt/ridergate/dist/cli/main.js "$ROOT/usr/local/bin/ridergate"
  say "installed into /opt/ridergate; command: /usr/local/bin/ridergate"
}

install_dirs() {
  install -d -m 0750 -o 0 -g "$RG_GID" "$ROOT/etc/ridergate"
  install -d -m 0750 -o "$RG_UID" -g "$RG_GID" "$ROOT/var/lib/ridergate"
  local example="$SRC/config/example.yaml"
  [ -f "$example" ] || example="$SRC/config/default.yaml"
  install -m 0640 -o 0 -g "$RG_GID" "$example" "$ROOT/etc/ridergate/config.example.yaml"
  if [ -f "$ROOT/etc/ridergate/config.yaml" ]; then
    say "kept /etc/ridergate/config.yaml; the new example is /etc/ridergate/config.example.yaml"
  else
    say "no /etc/ridergate/config.yaml yet: 'ridergate provision' writes it"
  fi
}

install_unit() {
  local unit="$ROOT/etc/systemd/system/ridergate.service"
  install -d -m 0755 "$ROOT/etc/systemd/system" "$ROOT/etc/modules-load.d"
  # The unit's DeviceAllow=char-ttyACM/char-ttyUSB is resolved through /proc/devices when the
  # service starts: a driver loaded later (scanner plugged in after boot) would stay denied.
  # Loading both at boot keeps a scanner plugged in later usable.
  printf '# ridergate: USB serial drivers for the QR scanner, loaded before the service starts\ncdc_acm\nusbserial\n' \
    >"$ROOT/etc/modules-load.d/ridergate.conf"
  chmod 0644 "$ROOT/etc/modules-load.d/ridergate.conf"
  # The unit names /usr/bin/node (Debian and NodeSource); point it at the node found instead.
  sed "s#^\(Exec[A-Za-z]*=-\{0,1\}\)/usr/bin/node #\1$NODE_BIN #" \
    "$SRC/systemd/ridergate.service" >"$unit.tmp"
  chmod 0644 "$unit.tmp"
  mv "$unit.tmp" "$unit"
  if [ -n "$ROOT" ]; then
    if command -v systemctl >/dev/null 2>&1; then
      systemctl --root="$ROOT" enable ridergate.service >/dev/null 2>&1
      say "unit installed and enabled in $ROOT (systemctl --root)"
    else
      say "unit installed; systemctl not found, not enabled"
    fi
  elif [ -d /run/systemd/system ]; then
    systemctl daemon-reload
    systemctl enable ridergate.service
    # An upgrade restarts a running gate on the new version; a fresh install waits for provision.
    systemctl try-restart ridergate.service
    say "unit installed and enabled (it starts at boot; restarted if it was running)"
  else
    say "unit installed; this system was not booted with systemd, so systemctl was skipped:"
    say "  run 'systemctl enable ridergate.service' once it is"
  fi
}

# --- relay pin held inactive by the boot firmware ---

# Reads relay.pin, relay.activeLow and relay.profile from the relay: block of config.yaml.
relay_field() {
  awk -v key="$2" '
    /^[^ #]/ { inrelay = ($0 ~ /^relay:/) }
    inrelay && $0 ~ "^  " key ":" { sub(/#.*/, ""); sub("^  " key ": *", ""); print; exit }
  ' "$1" 2>/dev/null | tr -d " \"'"
}

resolve_relay() {
  local config="$ROOT/etc/ridergate/config.yaml" profile file
  if [ -f "$config" ]; then
    # As the daemon resolves them: an option, then relay.pin/activeLow, then the profile.
    [ -n "$RELAY_PIN" ] || RELAY_PIN="$(relay_field "$config" pin)"
    [ -n "$ACTIVE_LOW" ] || ACTIVE_LOW="$(relay_field "$config" activeLow)"
    profile="$(relay_field "$config" profile)"
    file="$SRC/devices/$profile.yaml"
    if [ -n "$profile" ] && [ -f "$file" ]; then
      [ -n "$ACTIVE_LOW" ] || ACTIVE_LOW="$(awk '/^  activeLow:/ { print $2; exit }' "$file")"
      [ -n "$RELAY_PIN" ] || RELAY_PIN="$(sed -n 's/^  pins: *\[\([0-9]*\).*/\1/p' "$file")"
    fi
  fi
  RELAY_PIN="${RELAY_PIN:-17}"
  ACTIVE_LOW="${ACTIVE_LOW:-false}"
}

print_next_steps() {
  local level="dl" what="active-high board: hold the pin low" txt="/boot/firmware/config.txt"
  if [ "$ACTIVE_LOW" = true ]; then level="dh" what="active-low board: hold the pin high"; fi
  [ -d "$ROOT/boot/firmware" ] || [ ! -f "$ROOT/boot/config.txt" ] || txt="/boot/config.txt"
  cat <<EOF

Hold the relay inactive while the Pi boots ($what, BCM $RELAY_PIN):
  add this line to $txt, then reboot once:
    gpio=$RELAY_PIN=op,$level
  (an active-low board takes op,dh and an active-high board op,dl; --relay-pin N and
  --active-low/--active-high override what the configuration says)

Next step: sudo ridergate provision
EOF
}

main() {
  parse_args "$@"
  check_source
  check_node
  ensure_user
  install_tree
  install_dirs
  install_unit
  resolve_relay
  print_next_steps
}

main "$@"
