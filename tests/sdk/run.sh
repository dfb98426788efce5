#!/usr/bin/env bash
# The SDK packages as an integrator gets them: `cargo xtask sdk` builds the
# npm package and the wheel into target/sdk/, each is installed into a clean
# project or venv in a temporary directory away from the source tree, and a
# scenario using nothing but the installed package runs against a live
# server (tests/sdk/typescript/scenario.ts, type-checked against the
# package's .d.ts, and tests/sdk/python/scenario.py). The server's
# organization gets 1,200 requests an hour per token, so a token spends its
# budget in about a second of requests and a 429's Retry-After is 3 s. Last,
# `cargo package` of appdeck-client, which must stay packageable though it
# is not published.
#
# Needs node, npm and python3. Outside CI it says so and stops when they are missing.
set -euo pipefail
cd "$(dirname "$0")/../.."

for tool in node npm python3; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "NOT RUN: the SDK package tests ($tool is not installed)"
        [ -n "${CI:-}" ] && exit 1
        exit 0
    fi
done

cargo xtask sdk
version=$(sed -n 's/^  version: *//p' openapi.yaml | head -1)
package="$PWD/target/sdk/appdeck-sdk-$version.tgz"
wheel="$PWD/target/sdk/appdeck_sdk-$version-py3-none-any.whl"

# shellcheck source=../support/server.sh
. tests/support/server.sh
make_work_dir

# The same pins as the SDK's own build (sdk/typescript/package-lock.json).
mkdir "$work/typescript"
echo '{ "private": true, "type": "module" }' >"$work/typescript/package.json"
cp tests/sdk/typescript/scenario.ts tests/sdk/typescript/tsconfig.json "$work/typescript/"
(
    cd "$work/typescript"
    npm install --no-audit --no-fund --loglevel=error "$package" typescript@5.9.3 @types/node@20.19.43
    npx tsc
)

python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q "$wheel"
cp tests/sdk/python/scenario.py "$work/"

export APPDECK_RATE_LIMIT_PER_HOUR=1200
start_server

node "$work/typescript/scenario.js" "$base_url" "$token"
# -I: the installed packages only, nothing from the working directory or the environment.
(cd "$work" && venv/bin/python -I scenario.py "$base_url" "$token")

cargo package -q -p appdeck-client --allow-dirty --no-verify
echo "sdk: cargo package -p appdeck-client: ok"
