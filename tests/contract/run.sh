#!/usr/bin/env bash
# Contract tests: Schemathesis (pinned in requirements.txt) drives a live
# server on a fresh database from openapi.yaml, over every operation, with
# all its checks and all four phases (examples, coverage, fuzzing, stateful,
# the last following the spec's `links`). It must generate at least
# $min_cases cases and find nothing. What the generator must know beyond the
# spec is in hooks.py.
#
# Knob: APPDECK_CONTRACT_SEED (default 1, so a run can be replayed); the
# numbers of cases are in schemathesis.toml.
# Needs python3. Outside CI it says so and stops when it is missing.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v python3 >/dev/null 2>&1; then
    echo "NOT RUN: the Schemathesis contract tests (python3 is not installed)"
    [ -n "${CI:-}" ] && exit 1
    exit 0
fi

min_cases=5000
seed=${APPDECK_CONTRACT_SEED:-1}
report_dir=target/contract
venv=target/contract/venv

# shellcheck source=../support/server.sh
. tests/support/server.sh
make_work_dir

mkdir -p "$report_dir"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q -r tests/contract/requirements.txt

# The run sends thousands of requests and, for the ignored-auth check, bad
# tokens on purpose: limits high enough that they never answer instead of
# the operation under test. The limits themselves are tested in Rust.
export APPDECK_RATE_LIMIT_PER_HOUR=100000000
export APPDECK_AUTH_FAILURES_PER_MINUTE=100000000
# Thousands of creates: no quota of live tokens or webhook endpoints, for the
# same reason (the quotas are tested in Rust).
export APPDECK_MAX_TOKENS_PER_ORGANIZATION=0
export APPDECK_MAX_WEBHOOK_ENDPOINTS_PER_ORGANIZATION=0
start_server

APPDECK_CONTRACT_TOKEN_ID=$(curl -sf -H "X-API-Key: $token" "$base_url/v1/me" |
    "$venv/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["token"]["id"])')
export APPDECK_CONTRACT_TOKEN_ID
export SCHEMATHESIS_HOOKS=tests/contract/hooks.py

log="$report_dir/schemathesis.log"
status=0
"$venv/bin/schemathesis" --config-file tests/contract/schemathesis.toml run openapi.yaml \
    --url "$base_url" \
    --header "X-API-Key: $token" \
    --checks all \
    --seed "$seed" \
    --continue-on-failure \
    --report junit --report-dir "$report_dir" \
    2>&1 | tee "$log" || status=$?
[ "$status" -eq 0 ] || exit "$status"

generated=$(grep -oE '[0-9]+ generated' "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)
if [ "$generated" -lt "$min_cases" ]; then
    echo "contract tests: only $generated cases generated, fewer than $min_cases" >&2
    exit 1
fi
links_covered=$(grep -oE 'API Links: +[0-9]+ covered' "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)
if [ "$links_covered" -eq 0 ]; then
    echo "contract tests: the stateful phase followed none of the spec's links" >&2
    exit 1
fi
echo "contract tests: $generated cases generated, $links_covered links followed, no failure"
