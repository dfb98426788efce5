#!/usr/bin/env bash
# Deliveries from the real `appdeck-server serve`, verified by a receiver
# that uses the Python Standard Webhooks library (pinned in
# requirements.txt), not appdeck's code. Writes through the API make every
# event type a test can make happen (all but `webhook_endpoint.disabled`,
# which takes 5 days of failures); each must arrive at the receiver and
# verify, and deliveries to an endpoint whose secret the receiver holds
# wrong must all be refused.
#
# Needs python3. Outside CI it says so and stops when python3 is missing.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v python3 >/dev/null 2>&1; then
    echo "NOT RUN: the webhook deliveries checked by the Python standardwebhooks library (python3 is not installed)"
    [ -n "${CI:-}" ] && exit 1
    exit 0
fi

venv=target/webhooks/venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q -r tests/webhooks/requirements.txt

# shellcheck source=../support/server.sh
. tests/support/server.sh
make_work_dir

echo '{}' >"$work/secrets.json"
"$venv/bin/python" tests/webhooks/receiver.py "$work/secrets.json" "$work/received.jsonl" >"$work/receiver.out" &
other_pids="$!"
receiver_url=""
for _ in $(seq 100); do
    receiver_url=$(sed -n 's/^listening on //p' "$work/receiver.out")
    [ -n "$receiver_url" ] && break
    sleep 0.1
done
[ -n "$receiver_url" ] || { echo "the receiver did not start" >&2; exit 1; }

export APPDECK_WEBHOOK_ALLOWED_HOSTS=127.0.0.1
start_server

# Calls the API with the admin token; prints the JSON answer and fails
# unless the status is the expected one.
call() {
    local expected=$1 method=$2 path=$3 body=${4:-}
    local arguments=(-sS -o "$work/answer.json" -w '%{http_code}' -X "$method" -H "X-API-Key: $token")
    [ -n "$body" ] && arguments+=(-H 'content-type: application/json' --data "$body")
    local status
    status=$(curl "${arguments[@]}" "$base_url$path")
    if [ "$status" != "$expected" ]; then
        echo "$method $path answered $status, not $expected: $(cat "$work/answer.json")" >&2
        exit 1
    fi
    cat "$work/answer.json"
}

# Gives the receiver the secret of the endpoint at `path`.
hold_secret() {
    jq --arg path "$1" --arg secret "$2" '.[$path] = $secret' "$work/secrets.json" >"$work/secrets.next"
    mv "$work/secrets.next" "$work/secrets.json"
}

answer=$(call 201 POST /v1/webhook-endpoints "{\"url\": \"$receiver_url/all\"}")
hold_secret /all "$(jq -r .secret <<<"$answer")"
# Its deliveries must be refused: the receiver holds a secret of its own
# making for it, not the endpoint's.
call 201 POST /v1/webhook-endpoints "{\"url\": \"$receiver_url/wrong-secret\", \"event_types\": [\"app.created\"]}" >/dev/null
hold_secret /wrong-secret "whsec_$(head -c 32 /dev/urandom | base64)"

# The endpoint events' subject, disabled so that it receives nothing.
subject=$(call 201 POST /v1/webhook-endpoints "{\"url\": \"$receiver_url/subject\", \"enabled\": false}" | jq -r .webhook_endpoint.id)
call 200 PATCH "/v1/webhook-endpoints/$subject" '{"description": "the subject of the endpoint events"}' >/dev/null
call 200 POST "/v1/webhook-endpoints/$subject/rotate-secret" >/dev/null
call 200 DELETE "/v1/webhook-endpoints/$subject" >/dev/null

app=$(call 201 POST /v1/apps '{"name": "Café ☕ — 日本"}' | jq -r .app.id)
call 200 PATCH "/v1/apps/$app" '{"description": "ci \"main\"\nline two"}' >/dev/null
call 200 POST "/v1/apps/$app/rotate-secret" >/dev/null
call 200 DELETE "/v1/apps/$app" >/dev/null

api_token=$(call 201 POST /v1/api-tokens '{"label": "deploy pipeline", "role": "ci"}' | jq -r .token.id)
call 200 PATCH "/v1/api-tokens/$api_token" '{"label": "deploy pipeline (main)"}' >/dev/null
call 200 POST "/v1/api-tokens/$api_token/roll" '{}' >/dev/null
call 200 DELETE "/v1/api-tokens/$api_token" >/dev/null

call 200 PATCH /v1/organization '{"name": "Outside tests, renamed"}' >/dev/null

# Every type must arrive at /all and one refusal at /wrong-secret; the
# first attempt is made within a second or so of the write, so 30 s is a
# broken delivery, not a slow one.
"$venv/bin/python" - "$work/received.jsonl" <<'PYTHON'
import json, os, sys, time

expected = {
    "app.created", "app.updated", "app.secret_rotated", "app.deleted",
    "token.created", "token.updated", "token.rolled", "token.revoked",
    "organization.updated",
    "webhook_endpoint.created", "webhook_endpoint.updated",
    "webhook_endpoint.secret_rotated", "webhook_endpoint.deleted",
}
record_file = sys.argv[1]
deadline = time.monotonic() + 30
while True:
    records = []
    if os.path.exists(record_file):
        records = [json.loads(line) for line in open(record_file)]
    to_all = [record for record in records if record["path"] == "/all"]
    wrong = [record for record in records if record["path"] == "/wrong-secret"]
    arrived = {record["payload"]["type"] for record in to_all if record["verified"]}
    if (expected <= arrived and wrong) or time.monotonic() > deadline:
        break
    time.sleep(0.2)

assert expected <= arrived, f"never arrived: {sorted(expected - arrived)}"
failed = [record for record in to_all if not record["verified"]]
assert not failed, f"deliveries that did not verify: {failed}"
assert all(record["webhook_id"] == record["payload"]["id"] for record in to_all), to_all
assert all(record["content_type"] == "application/json" for record in records), records
assert not [record for record in records if record["path"] not in ("/all", "/wrong-secret")], records
assert wrong, "no delivery to the endpoint with the wrong secret arrived"
assert all(not record["verified"] and record["error"] == "No matching signature found" for record in wrong), wrong
print(
    f"webhook deliveries from appdeck-server serve: {len(to_all)} verified by standardwebhooks 1.1.0, "
    f"covering all {len(expected)} event types; {len(wrong)} signed with another secret refused"
)
PYTHON
