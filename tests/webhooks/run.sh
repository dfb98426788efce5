#!/usr/bin/env bash
# Deliveries signed by appdeck's own code (server/examples/
# send_signed_deliveries.rs, through the real sender) verified by a receiver
# that uses the Python Standard Webhooks library (pinned in
# requirements.txt), not appdeck's code: three must verify, and one signed
# with a secret the receiver does not hold must not.
#
# receiver.py is the receiver end-to-end tests use too. Needs python3.
# Outside CI it says so and stops when python3 is missing.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v python3 >/dev/null 2>&1; then
    echo "NOT RUN: the webhook signature tests with the Python standardwebhooks library (python3 is not installed)"
    [ -n "${CI:-}" ] && exit 1
    exit 0
fi

venv=target/webhooks/venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q -r tests/webhooks/requirements.txt

# shellcheck source=../support/server.sh
. tests/support/server.sh
make_work_dir

secret="whsec_$(head -c 32 /dev/urandom | base64)"
other_secret="whsec_$(head -c 32 /dev/urandom | base64)"
printf '{"/signed": "%s", "/wrong-secret": "%s"}\n' "$secret" "$other_secret" >"$work/secrets.json"

cargo build -q -p appdeck-server --example send_signed_deliveries
"$venv/bin/python" tests/webhooks/receiver.py "$work/secrets.json" "$work/received.jsonl" >"$work/receiver.out" &
other_pids="$!"
receiver_url=""
for _ in $(seq 100); do
    receiver_url=$(sed -n 's/^listening on //p' "$work/receiver.out")
    [ -n "$receiver_url" ] && break
    sleep 0.1
done
[ -n "$receiver_url" ] || { echo "the receiver did not start" >&2; exit 1; }

./target/debug/examples/send_signed_deliveries "$receiver_url" "$secret"

"$venv/bin/python" - "$work/received.jsonl" <<'PYTHON'
import json, sys
records = [json.loads(line) for line in open(sys.argv[1])]
signed = [record for record in records if record["path"] == "/signed"]
wrong = [record for record in records if record["path"] == "/wrong-secret"]
assert len(signed) == 3 and all(record["verified"] for record in signed), signed
assert len({record["webhook_id"] for record in signed}) == 3, signed
assert all(record["content_type"] == "application/json" for record in records), records
assert signed[1]["payload"]["data"]["name"] == "Café ☕ — 日本", signed[1]
assert len(wrong) == 1 and not wrong[0]["verified"], wrong
assert wrong[0]["error"] == "No matching signature found", wrong
print("webhook signatures: 3 deliveries verified by standardwebhooks 1.1.0, 1 with a wrong secret refused")
PYTHON
