# Sourced by the wrk benchmarks (run_http.sh, run_static.sh): starting, measuring and stopping
# the server under test. The caller sets $scratch; start functions set server_pid/server_port.

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Waits for a program that prints "listening on ...:PORT" into LOG, and takes its port.
await_listening_line() {  # LOG
  for _ in $(seq 100); do grep -q "listening on" "$1" && break; sleep 0.05; done
  server_port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$1")
}

# Waits until an HTTP server (nginx) answers URL.
await_answer() {  # URL
  for _ in $(seq 100); do curl -s "$1" >/dev/null && break; sleep 0.05; done
}

# nginx with nginx_conf (the caller's) for WORKERS, run under the command prefix PIN
# (taskset, or nothing); waits until it answers PROBE.
start_nginx() {  # WORKERS PROBE [PIN...]
  local workers=$1 probe=$2
  shift 2
  server_port=$(free_port)
  nginx_conf "$workers" "$server_port"
  "$@" nginx -c "$scratch/nginx.conf" &
  server_pid=$!
  await_answer "http://127.0.0.1:$server_port$probe"
}

# The server's processes: the one started, and its children (nginx's workers).
server_pids() { echo "$server_pid" $(pgrep -P "$server_pid" || true); }
cpu_ticks() { local t=0; for p in $(server_pids); do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo $t; }
rss_kib() { local t=0; for p in $(server_pids); do t=$((t + $(awk '/^VmRSS/ {print $2}' "/proc/$p/status"))); done; echo $t; }

stop_server() {
  kill -TERM "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
}

# nginx's config in $scratch/nginx.conf: WORKERS, PORT, more http directives, the server's.
# Access log off and keep-alive without limit, for every benchmark.
write_nginx_conf() {  # WORKERS PORT HTTP_DIRECTIVES SERVER_DIRECTIVES
  cat >"$scratch/nginx.conf" <<CONF
worker_processes $1;
worker_rlimit_nofile 20000;
daemon off;
pid $scratch/nginx.pid;
error_log $scratch/nginx_error.log;
events { worker_connections 16000; }
http {
  access_log off;
  keepalive_requests 100000000;
  keepalive_timeout 600s;
  $3
  server {
    listen 127.0.0.1:$2;
    $4
  }
}
CONF
}
