#!/usr/bin/env bash
# The two documentation pages in a real browser: starts the server on a
# fresh SQLite database, creates an app, lets swagger-ui.mjs drive /docs in
# headless Chromium, then reference.mjs open /reference in the same page.
# Chromium can resolve no host name, so a page that needs the network fails.
# The screenshots land in target/browser/swagger-ui.png and reference.png.
#
# Needs chromium and node (20+). Outside CI it says so and stops when they
# are missing; in CI (CI set) it installs chromium from Debian's packages.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v chromium >/dev/null 2>&1 && [ -n "${CI:-}" ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
for tool in chromium node; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "NOT RUN: the Swagger UI and /reference browser tests ($tool is not installed)"
        [ -n "${CI:-}" ] && exit 1
        exit 0
    fi
done

# shellcheck source=../support/server.sh
. tests/support/server.sh
make_work_dir
start_server

app_name="Browser app $RANDOM"
curl -sf "$base_url/v1/apps" -H "X-API-Key: $token" -H 'Content-Type: application/json' \
    -d "{\"name\": \"$app_name\"}" >/dev/null

chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --host-resolver-rules='MAP * ~NOTFOUND, EXCLUDE 127.0.0.1' \
    --user-data-dir="$work/profile" --window-size=1280,2000 --remote-debugging-port=0 \
    "$base_url/docs/" 2>"$work/browser.log" &
other_pids=$!
for _ in $(seq 100); do
    devtools=$(grep -o 'ws://[^ ]*' "$work/browser.log" | head -1) || true
    [ -n "${devtools:-}" ] && break
    sleep 0.1
done
[ -n "${devtools:-}" ] || { echo "swagger ui: chromium did not start" >&2; cat "$work/browser.log" >&2; exit 1; }
port=$(echo "$devtools" | sed -E 's#ws://[^:]+:([0-9]+)/.*#\1#')
page=""
for _ in $(seq 100); do
    page=$(curl -s "http://127.0.0.1:$port/json" | grep -o '"webSocketDebuggerUrl": *"ws://[^"]*/page/[^"]*"' | head -1 | sed 's/.*"\(ws:[^"]*\)"/\1/') || true
    [ -n "$page" ] && break
    sleep 0.1
done
[ -n "$page" ] || { echo "swagger ui: no page to drive" >&2; exit 1; }

mkdir -p target/browser
node --experimental-websocket --no-warnings tests/browser/swagger-ui.mjs "$page" "$token" "$app_name" target/browser/swagger-ui.png
node --experimental-websocket --no-warnings tests/browser/reference.mjs "$page" "$base_url" target/browser/reference.png
