#!/usr/bin/env bash
# Clients in other languages, generated from openapi.yaml into build
# directories (they are outputs, never committed), each running one
# integrator scenario against a live server: TypeScript (openapi-typescript
# types + openapi-fetch, type-checked with tsc) and Python
# (openapi-python-client). Versions are pinned in
# typescript/package-lock.json and python/requirements.txt.
#
# Needs node, npm and python3. Outside CI it says so and stops when they are missing.
set -euo pipefail
cd "$(dirname "$0")/../.."

for tool in npm python3; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "NOT RUN: the generated-client tests ($tool is not installed)"
        [ -n "${CI:-}" ] && exit 1
        exit 0
    fi
done

# shellcheck source=../support/server.sh
. tests/support/server.sh
make_work_dir

(
    cd tests/clients/typescript
    npm ci --no-audit --no-fund --loglevel=error
    npm run -s generate >/dev/null
    npm run -s check
    npm run -s build
)

python_build=target/clients/python
rm -rf "$python_build"
mkdir -p "$python_build"
[ -x target/clients/python-venv/bin/python ] || python3 -m venv target/clients/python-venv
target/clients/python-venv/bin/pip install -q -r tests/clients/python/requirements.txt
(
    cd "$python_build"
    ../python-venv/bin/openapi-python-client generate --path ../../../openapi.yaml --meta setup >/dev/null
)
# The generated package keeps its version whatever the spec says: reinstall
# it every time, then let pip add its dependencies.
target/clients/python-venv/bin/pip install -q --force-reinstall --no-deps "$python_build"/appdeck-app-management-api-client
target/clients/python-venv/bin/pip install -q "$python_build"/appdeck-app-management-api-client

start_server

node tests/clients/typescript/build/js/scenario.js "$base_url" "$token"
target/clients/python-venv/bin/python tests/clients/python/scenario.py "$base_url" "$token"
