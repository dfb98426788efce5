# Sourced by the scripts that drive a live server from outside Rust
# (tests/browser, tests/clients): starts `appdeck-server` on a fresh SQLite
# database in "$work" and sets `base_url`, `token` and `server_pid`.
# The caller creates "$work" and stops the server when done.

start_server() {
    cargo build -q -p appdeck-server
    export DATABASE_URL="sqlite://$work/appdeck.db"
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
