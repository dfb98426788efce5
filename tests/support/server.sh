# Sourced by the scripts that drive a live server from outside Rust
# (tests/browser, tests/clients, tests/contract). `make_work_dir` makes
# "$work" and, when the script exits, stops the server and whatever else is
# in `other_pids` and removes "$work"; `start_server` starts
# `appdeck-server` on a fresh SQLite database in "$work" (with a webhook
# secret key) and sets `base_url`, `token` and `server_pid`.

make_work_dir() {
    work=$(mktemp -d)
    server_pid=""
    other_pids=""
    trap stop_and_clean_up EXIT
}

stop_and_clean_up() {
    for pid in $other_pids $server_pid; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work" 2>/dev/null || true
}

start_server() {
    cargo build -q -p appdeck-server
    export DATABASE_URL="sqlite://$work/appdeck.db"
    # A fresh key per run, unless the caller brings one: webhook endpoints
    # cannot be created without it.
    export APPDECK_WEBHOOK_SECRET_KEY="${APPDECK_WEBHOOK_SECRET_KEY:-$(head -c 32 /dev/urandom | base64)}"
    token=$(./target/debug/appdeck-server org create --name "Outside tests")
    APPDECK_BIND=127.0.0.1:0 ./target/debug/appdeck-server serve 2>"$work/server.log" &
    server_pid=$!
    base_url=""
    for _ in $(seq 100); do
        base_url=$(grep -o 'Swagger UI at http://[0-9.:]*' "$work/server.log" | head -1 | sed 's/Swagger UI at //') || true
        [ -n "$base_url" ] && return 0
        sleep 0.1
    done
    echo "the server did not start:" >&2
    cat "$work/server.log" >&2
    return 1
}
