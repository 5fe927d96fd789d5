#!/usr/bin/env bash
# The README's first command on a fresh clone, on a machine without the offline VS Code in that clone:
# clones this repository's HEAD into a temp folder, runs `npm ci && npm start -- --verify` there (which
# installs the offline VS Code into the clone's .tools/ on first use — about 3 minutes of CPU, plus
# `npm ci` — then opens the inspector in headless Chromium and checks it shows the tutorial), and
# checks the inspector's address was printed. Exits non-zero otherwise.
#   bash scripts/fresh-clone-start.sh        (npm run test:fresh-clone)
set -euo pipefail
SRC="$(cd "$(dirname "$0")/.." && pwd)"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/ti-fresh-clone-XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
log() { printf '[fresh-clone] %s\n' "$*"; }

log "cloning $SRC (HEAD) into $TMP/clone"
git clone -q "$SRC" "$TMP/clone"
cd "$TMP/clone"
[ ! -e .tools ] || { log "the clone already has .tools/"; exit 1; }
log "npm ci && npm start -- --verify --port 0"
# `npm start` itself is the command under test: as the README gives it, plus --verify to end by itself.
(npm ci --no-audit --no-fund && npm start -- --verify --port 0) 2>&1 | tee "$TMP/start.log"
status=${PIPESTATUS[0]}
[ "$status" = 0 ] || { log "npm ci && npm start failed (exit $status)"; exit 1; }
grep -q "installing the offline VS Code" "$TMP/start.log" || { log "npm start did not install the offline VS Code"; exit 1; }
address="$(grep -oE "the inspector's address: http://[^ ]+" "$TMP/start.log" | head -n 1)"
[ -n "$address" ] || { log "no address printed"; exit 1; }
grep -q "verified: the inspector opened by itself" "$TMP/start.log" || { log "the inspector was not verified"; exit 1; }
log "ok: $address"
