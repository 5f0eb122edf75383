#!/usr/bin/env bash
# Smoke run of the load driver against tl_http (ctest http_load_smoke): the
# driver and the candidate server still work together, plain and TLS, closed
# and open loop. Not a timing check. Bounded: 2,000 requests or 10 s per run.
#   bench/http_load_smoke.sh BUILD_DIR
set -euo pipefail
bin=${1:?usage: http_load_smoke.sh BUILD_DIR}/bench
tmp=$(mktemp -d)
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then kill -TERM "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=smoke \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null

run() {  # mode, extra tl-load arguments...
  local mode=$1; shift
  local cert=() scheme=http ca=()
  if [[ $mode == tls ]]; then cert=(--cert "$tmp/cert.pem" --key "$tmp/key.pem"); scheme=https; ca=(--ca "$tmp/cert.pem"); fi
  : > "$tmp/server.out"
  "$bin/http_candidates" --lib tl --threads 2 --lifetime 60 "${cert[@]}" > "$tmp/server.out" &
  server_pid=$!
  local port=""
  for _ in $(seq 100); do
    port=$(awk '/^port/{print $2}' "$tmp/server.out" 2>/dev/null || true)
    [[ -n "$port" ]] && break
    sleep 0.05
  done
  [[ -n "$port" ]] || { echo "server did not start"; exit 1; }
  timeout 60 "$bin/tl-load" --url "$scheme://127.0.0.1:$port" --connections 8 --requests 2000 --seconds 10 \
    --label "smoke $mode $*" "${ca[@]}" "$@"
  kill -TERM "$server_pid"; wait "$server_pid" || true; server_pid=""
}

run plain
run tls --idle 16
run plain --rate 1000
