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
# Exit status: 0 installed; 1 it could not (no Node.js 20, not root, npm ci failed); 2 bad usage
# (an unknown option, a bad value, a --root without etc/passwd, group, shadow and gshadow),
# refused before anything is written.
#
# Environment:
#   RIDERGATE_ROOT=DIR       install under DIR instead of / (same as --root; for tests and
#                            images): files, users and groups all go into DIR.
#   RIDERGATE_SKIP_NPM=1     do not run `npm ci` in /opt/ridergate (tests, offline images).
set -euo pipefail

MIN_NODE_MAJOR=20
SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT="${RIDERGATE_ROOT:-}"
ROOT_FROM=RIDERGATE_ROOT
RELAY_PIN=""
ACTIVE_LOW=""
RELAY_UNKNOWN=""

say() { printf 'ridergate install: %s\n' "$*"; }
fail() {
  printf 'ridergate install: error: %s\n' "$*" >&2
  exit 1
}

# Bad usage: one line, exit 2, before anything is written (parse_args runs first).
usage_error() {
  printf 'ridergate install: error: %s (see --help)\n' "$*" >&2
  exit 2
}

usage() {
  cat <<'EOF'
usage: sudo scripts/install.sh [--root DIR] [--relay-pin N] [--active-low | --active-high]
  --root DIR      install into DIR instead of / (images, tests); DIR must exist and hold
                  etc/passwd, etc/group, etc/shadow and etc/gshadow (also: RIDERGATE_ROOT=DIR)
  --relay-pin N   the relay's BCM pin (0-27) for the boot line; default: from the configuration
  --active-low    the relay board closes on a low level (boot line op,dh)
  --active-high   the relay board closes on a high level (boot line op,dl)
EOF
  exit 0
}

parse_args() {
  local low="" high=""
  while [ "$#" -gt 0 ]; do
    case "$1" in
      --root | --relay-pin)
        [ "$#" -ge 2 ] || usage_error "$1 needs $(value_of "$1")"
        set_option "$1" "$2"
        shift 2
        ;;
      --root=* | --relay-pin=*) set_option "${1%%=*}" "${1#*=}"; shift ;;
      --active-low) low=true; shift ;;
      --active-high) high=true; shift ;;
      -h | --help) usage ;;
      *) usage_error "unknown option '$1' (expected --root DIR, --relay-pin N, --active-low, --active-high)" ;;
    esac
  done
  if [ -n "$low" ] && [ -n "$high" ]; then
    usage_error "--active-low and --active-high contradict each other: give the one your relay board needs"
  fi
  if [ -n "$low" ]; then ACTIVE_LOW=true; elif [ -n "$high" ]; then ACTIVE_LOW=false; fi
  check_relay_pin
  check_root
}

value_of() { if [ "$1" = --root ]; then echo 'a directory'; else echo 'a BCM pin number (0-27)'; fi; }

set_option() {
  # An empty value, or the next option taken as the value, would silently mean something else
  # (an empty --root is the real /).
  if [ -z "$2" ] || [[ "$2" == --* ]]; then
    usage_error "$1 needs $(value_of "$1")${2:+, got the option '$2'}"
  fi
  if [ "$1" = --root ]; then
    ROOT="$2"
    ROOT_FROM=--root
  else
    RELAY_PIN="$2"
  fi
}

check_relay_pin() {
  [ -n "$RELAY_PIN" ] || return 0
  # 10#: a leading zero (08) is decimal, as ridergate's own flags read it, not octal.
  if ! [[ "$RELAY_PIN" =~ ^[0-9]{1,2}$ ]] || [ "$((10#$RELAY_PIN))" -gt 27 ]; then
    usage_error "--relay-pin '$RELAY_PIN' is not a BCM pin number (0-27)"
  fi
  RELAY_PIN="$((10#$RELAY_PIN))"
}

# A root other than / is made absolute (useradd --prefix takes no relative path) and must hold
# the account files that useradd, groupadd and usermod --prefix edit in place.
check_root() {
  local abs file
  local -a missing=()
  [ -n "$ROOT" ] || return 0
  [ -d "$ROOT" ] || usage_error "$ROOT_FROM '$ROOT' is not an existing directory"
  abs="$(CDPATH='' cd -- "$ROOT" 2>/dev/null && pwd)" ||
    usage_error "$ROOT_FROM '$ROOT' cannot be entered"
  ROOT="${abs%/}"
  for file in passwd group shadow gshadow; do
    [ -f "$ROOT/etc/$file" ] || missing+=("etc/$file")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    missing=("${missing[@]/%/,}")
    missing[-1]="${missing[-1]%,}"
    usage_error "$ROOT_FROM '$abs' has no ${missing[*]}: a root to install into needs etc/passwd, etc/group, etc/shadow and etc/gshadow (for a fake root, files holding root's entries will do)"
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

# The tree whose dist/ reads the configuration: the installed one once its dependencies are in,
# else this source tree (RIDERGATE_SKIP_NPM=1 leaves /opt/ridergate without node_modules).
loader_tree() {
  if [ -d "$ROOT/opt/ridergate/node_modules" ]; then
    echo "$ROOT/opt/ridergate"
  else
    echo "$SRC"
  fi
}

# Prints "PIN ACTIVE_LOW" for the configuration $2 with the loader of tree $1, as the daemon
# resolves it: relay.pin and relay.activeLow, else relay.profile's first pin and level, else
# BCM 17, active high. The unit sets no RIDERGATE_ variables, so none of this shell's apply.
relay_of_config() {
  "$NODE_BIN" --input-type=module - "$1" "$2" <<'EOF'
import { pathToFileURL } from 'node:url';
const [tree, config] = process.argv.slice(2);
const from = (file) => import(pathToFileURL(`${tree}/dist/${file}`).href);
try {
  const { loadConfigSection } = await from('config/load.js');
  const { resolveRelaySettings } = await from('devices/relay-settings.js');
  const relay = resolveRelaySettings(loadConfigSection(config, 'relay', {}));
  process.stdout.write(`${relay.pin} ${relay.activeLow}\n`);
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
EOF
}

# Settles RELAY_PIN and ACTIVE_LOW: options first, then the configuration as the daemon reads
# it, then BCM 17 active high when there is no configuration yet. When the configuration cannot
# be read, RELAY_UNKNOWN holds why and no pin is guessed.
resolve_relay() {
  local config="$ROOT/etc/ridergate/config.yaml" found errors
  if [ -n "$RELAY_PIN" ] && [ -n "$ACTIVE_LOW" ]; then return; fi
  if [ -f "$config" ]; then
    errors="$(mktemp)"
    found="$(relay_of_config "$(loader_tree)" "$config" 2>"$errors")" || true
    if [[ "$found" =~ ^([0-9]+)\ (true|false)$ ]]; then
      rm -f "$errors"
      [ -n "$RELAY_PIN" ] || RELAY_PIN="${BASH_REMATCH[1]}"
      [ -n "$ACTIVE_LOW" ] || ACTIVE_LOW="${BASH_REMATCH[2]}"
      return
    fi
    RELAY_UNKNOWN="$(cat "$errors")"
    RELAY_UNKNOWN="${RELAY_UNKNOWN:-no pin and level came back}"
    rm -f "$errors"
    printf 'ridergate install: warning: cannot read the relay settings of %s; no boot line for the relay pin\n' \
      "/etc/ridergate/config.yaml" >&2
    return
  fi
  RELAY_PIN="${RELAY_PIN:-17}"
  ACTIVE_LOW="${ACTIVE_LOW:-false}"
}

print_next_steps() {
  local level="dl" what="active-high board: hold the pin low" txt="/boot/firmware/config.txt"
  if [ "$ACTIVE_LOW" = true ]; then level="dh" what="active-low board: hold the pin high"; fi
  [ -d "$ROOT/boot/firmware" ] || [ ! -f "$ROOT/boot/config.txt" ] || txt="/boot/config.txt"
  if [ -n "$RELAY_UNKNOWN" ]; then
    cat <<EOF

Hold the relay inactive while the Pi boots. The relay settings of /etc/ridergate/config.yaml
could not be read, so the pin and level are not known here:
$(printf '%s\n' "$RELAY_UNKNOWN" | sed 's/^/    /')
  Fix the configuration and run this script again (or give --relay-pin N and --active-low or
  --active-high), or add this line to $txt yourself, then reboot once:
    gpio=PIN=op,dh for an active-low board, gpio=PIN=op,dl for an active-high one
  (PIN: the BCM number of the relay line)

Next step: sudo ridergate provision
EOF
    return
  fi
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
