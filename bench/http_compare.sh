#!/usr/bin/env bash
# Compares the candidate HTTP server libraries under our load driver
# (docs/http-server.md). Server and driver run on this machine, loopback only;
# every run is bounded by a request count and by time.
#   bench/http_compare.sh BUILD_DIR [REQUESTS] [SECONDS]
# Env: LIBS="tl httplib civetweb", CONNS="64 256", WORK="0 100", MODES="plain tls",
#      TL_THREADS="2" (tl_http worker threads to try),
#      IDLE="0" (extra idle keep-alive connections held open during each run),
#      REPS=3 (the whole matrix again, so the libraries interleave in time;
#      the summary at the end gives medians).
set -euo pipefail
build=${1:?usage: http_compare.sh BUILD_DIR [REQUESTS] [SECONDS]}
requests=${2:-20000}
seconds=${3:-15}
bin=$build/bench
libs=${LIBS:-"tl httplib civetweb"}
conns_list=${CONNS:-"64 256"}
work_list=${WORK:-"0 100"}
modes=${MODES:-"plain tls"}
idle_list=${IDLE:-0}
reps=${REPS:-3}

tmp=$(mktemp -d)
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then kill -TERM "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# A private CA and a server certificate for 127.0.0.1 / localhost.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=bench-ca \
  -keyout "$tmp/ca.key" -out "$tmp/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
  -keyout "$tmp/server.key" -out "$tmp/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > "$tmp/ext"
openssl x509 -req -in "$tmp/server.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" -CAcreateserial -days 2 \
  -extfile "$tmp/ext" -out "$tmp/server.pem" 2>/dev/null
cat "$tmp/server.key" "$tmp/server.pem" > "$tmp/server-civetweb.pem"  # CivetWeb: key + chain in one file

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

ulimit -n 20000 2>/dev/null || true  # idle connections need descriptors
echo "# $(date -u +%FT%TZ) $(nproc) cores, load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for rep in $(seq "$reps"); do
for idle in $idle_list; do
for work in $work_list; do
  for mode in $modes; do
    for lib in $libs; do
      # Threads: tl_http = cores (asynchronous I/O); the thread-per-connection
      # libraries at their default pool, and once more with a thread per connection.
      case $lib in
        tl) thread_sets=${TL_THREADS:-"2"} ;;
        httplib) thread_sets="8 256" ;;
        civetweb) thread_sets="50 256" ;;
      esac
      if [[ $lib == civetweb && $mode == tls ]]; then
        # Debian 12's libcivetweb1 loads OpenSSL 3 at run time and calls a NULL
        # function pointer on the first TLS connection (SIGSEGV in a worker).
        echo "lib=civetweb $mode: skipped (crashes on the first TLS connection)"
        continue
      fi
      for threads in $thread_sets; do
        for conns in $conns_list; do
          cert=() ; url_scheme=http ; ca=()
          if [[ $mode == tls ]]; then
            url_scheme=https ; ca=(--ca "$tmp/ca.pem")
            if [[ $lib == civetweb ]]; then cert=(--cert "$tmp/server-civetweb.pem")
            else cert=(--cert "$tmp/server.pem" --key "$tmp/server.key"); fi
          fi
          "$bin/http_candidates" --lib "$lib" --threads "$threads" --work-us "$work" --lifetime 300 \
            "${cert[@]}" > "$tmp/server.out" &
          server_pid=$!
          port=""
          for _ in $(seq 200); do
            port=$(awk '/^port/{print $2}' "$tmp/server.out" 2>/dev/null || true)
            [[ -n "$port" ]] && break
            sleep 0.05
          done
          if [[ -z "$port" ]]; then
            echo "lib=$lib threads=$threads $mode: server did not report a port"
            kill -TERM "$server_pid"; wait "$server_pid" || true; server_pid=""
            continue
          fi
          before=$(cpu_ticks "$server_pid")
          label="lib=$lib threads=$threads $mode work=${work}us idle=$idle"
          timeout $((seconds + 60)) "$bin/tl-load" --url "$url_scheme://127.0.0.1:$port" --path /echo \
            --connections "$conns" --requests "$requests" --seconds "$seconds" --label "$label" "${ca[@]}" \
            --idle "$idle" \
            > "$tmp/load.out" 2>&1 || true
          after=$(cpu_ticks "$server_pid")
          ok=$(sed -n 's/.*"ok":\([0-9]*\).*/\1/p' "$tmp/load.out")
          server_us=$(( ok > 0 ? (after - before) * 10000 / ok : 0 ))
          if [[ -n "$ok" ]]; then
            echo "$(head -1 "$tmp/load.out") server_cpu=${server_us}us/req" | tee -a "$tmp/rows"
          else
            echo "$label conns=$conns: $(head -1 "$tmp/load.out")"
          fi
          grep '^first' "$tmp/load.out" || true
          kill -TERM "$server_pid"; wait "$server_pid" || true; server_pid=""
        done
      done
    done
  done
done
done
done
echo "# done $(date -u +%FT%TZ), load average: $(cut -d' ' -f1-3 /proc/loadavg)"

# Medians over the repetitions, one line per configuration.
echo "# medians over $reps runs: configuration | runs | req/s | p50 ms | p99 ms | max ms | failed | server CPU us/req"
python3 - "$tmp/rows" <<'PY'
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    key = line.split(" ok=")[0]
    get = lambda name: float(re.search(name + r"=([0-9.]+)", line).group(1))
    rows.setdefault(key, []).append((get("rps"), get("p50"), get("p99"), get("max"), get("failed"), get("server_cpu")))
for key, runs in rows.items():
    med = [statistics.median(r[i] for r in runs) for i in range(6)]
    print(f"{key} | {len(runs)} | {med[0]:.0f} | {med[1]:.1f} | {med[2]:.1f} | {med[3]:.0f} | {med[4]:.0f} | {med[5]:.0f}")
PY
