#!/usr/bin/env bash
# A single-node Apache Kafka broker (KRaft, broker+controller in one JVM) for Floorwatch
# development and tests, without Docker. Needs Java 11+ (17 recommended); `fetch` needs Maven.
#
#   broker.sh fetch                     copy the Kafka jars from Maven Central into the cache (once)
#   broker.sh start [--port N] [--controller-port N] [--dir DIR] [--timeout S] [--watch-pid PID]
#                   [--keep-data]       format a fresh cluster in DIR (--keep-data: restart the
#                                       one there, same ports), start it in the background,
#                                       wait for "Kafka Server started", print bootstrap=HOST:PORT
#                   [--users FILE --sasl-port N --ssl-port N --sasl-ssl-port N]
#                                       also listen with SASL_PLAINTEXT, SSL (client certificate
#                                       required) and SASL_SSL; SASL users (PLAIN, SCRAM-SHA-256,
#                                       SCRAM-SHA-512) from FILE, a "name password" per line; a
#                                       throw-away CA, broker and client certificate in DIR/tls
#                                       for the TLS listeners (needs openssl);
#                                       prints sasl_plaintext_bootstrap=, ssl_bootstrap= and
#                                       sasl_ssl_bootstrap=HOST:PORT, tls_dir=DIR/tls
#   broker.sh stop [--dir DIR] [--timeout S]   SIGTERM, then SIGKILL after the timeout
#   broker.sh status [--dir DIR]        print the broker's state; exit 0 running, 3 not running
#
# Environment: FLOORWATCH_CACHE (default ~/.cache/floorwatch), FLOORWATCH_MAVEN_REPO (Maven's
# local repository, default $FLOORWATCH_CACHE/maven), FLOORWATCH_KAFKA_DIR (default --dir),
# JAVA_HOME, KAFKA_HEAP_OPTS (default "-Xmx512m -Xms256m"), KAFKA_JVM_PERFORMANCE_OPTS, KAFKA_OPTS.
# Exit codes: 2 usage, 3 no usable java, 4 port in use, 5 not ready in time, 6 fetch failed,
# 7 a broker is already running in DIR, 8 openssl missing (TLS listeners), 1 anything else.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SELF="$HERE/$(basename "${BASH_SOURCE[0]}")"
POM="$HERE/pom.xml"
KAFKA_VERSION=$(sed -n 's:.*<kafka\.version>\([^<]*\)</kafka\.version>.*:\1:p' "$POM" | head -n 1)
CACHE=${FLOORWATCH_CACHE:-$HOME/.cache/floorwatch}
KAFKA_CACHE="$CACHE/kafka-$KAFKA_VERSION"
LIBS="$KAFKA_CACHE/libs"
MARKER="$LIBS/.floorwatch-complete"
M2=${FLOORWATCH_MAVEN_REPO:-$CACHE/maven}
DEFAULT_DIR=${FLOORWATCH_KAFKA_DIR:-$CACHE/kafka-broker}
READY_LINE="Kafka Server started"
PLAIN_LOGIN=org.apache.kafka.common.security.plain.PlainLoginModule
SCRAM_LOGIN=org.apache.kafka.common.security.scram.ScramLoginModule

info() { printf '[kafka] %s\n' "$*" >&2; }
die() {
  local code=$1
  shift
  printf 'broker.sh: %s\n' "$*" >&2
  exit "$code"
}
usage() {
  sed -n '2,25s/^# \{0,1\}//p' "$SELF" >&2
  exit 2
}

elapsed() {  # seconds since $1 (an EPOCHREALTIME or SECONDS value), one decimal when possible
  if [ -n "${EPOCHREALTIME:-}" ]; then  # its decimal mark follows the locale: use a dot
    local a=${1/,/.} b=${EPOCHREALTIME/,/.}
    awk -v a="$a" -v b="$b" 'BEGIN { printf "%.1f", b - a }'
  else
    echo $((SECONDS - $1))
  fi
}
now() { if [ -n "${EPOCHREALTIME:-}" ]; then echo "$EPOCHREALTIME"; else echo "$SECONDS"; fi; }

checksum() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d ' ' -f 1
  else
    shasum -a 256 "$1" | cut -d ' ' -f 1
  fi
}

need_value() { [ $# -ge 2 ] && [ -n "$2" ] || die 2 "$1 needs a value (see broker.sh --help)"; }
need_port() {
  case "$2" in '' | *[!0-9]*) die 2 "$1 must be a port number, not '$2'" ;; esac
  [ "$2" -ge 1 ] && [ "$2" -le 65535 ] || die 2 "$1 must be between 1 and 65535, not $2"
}
need_int() {
  case "$2" in '' | *[!0-9]*) die 2 "$1 must be a whole number, not '$2'" ;; esac
}

# ---------------------------------------------------------------- jars

libs_complete() { [ -f "$MARKER" ] && [ "$(cat "$MARKER")" = "$(checksum "$POM")" ]; }

fetch_libs() {
  [ -n "$KAFKA_VERSION" ] || die 6 "no <kafka.version> in $POM"
  if libs_complete; then
    info "Kafka $KAFKA_VERSION jars already in $LIBS ($(jar_count "$LIBS") jars): nothing to fetch"
    return 0
  fi
  command -v mvn >/dev/null 2>&1 ||
    die 6 "mvn not found: install Maven 3.8+ (Debian/Ubuntu: sudo apt-get install maven;" \
      "macOS: brew install maven) to fetch Kafka $KAFKA_VERSION into $LIBS"
  find_java  # Maven needs it too; say so plainly
  mkdir -p "$KAFKA_CACHE" "$M2"
  if command -v flock >/dev/null 2>&1; then  # parallel test workers: one fetch at a time
    exec 9>"$KAFKA_CACHE/.fetch.lock"
    flock 9
    if libs_complete; then
      exec 9>&-
      info "Kafka $KAFKA_VERSION jars already in $LIBS (fetched by another process)"
      return 0
    fi
  fi
  local start tmp log
  start=$(now)
  tmp=$(mktemp -d "$KAFKA_CACHE/libs.tmp.XXXXXX")
  log="$KAFKA_CACHE/fetch.log"
  # shellcheck disable=SC2064  # expand $tmp now: it is local to this function
  trap "rm -rf '$tmp'" EXIT
  local args=(-B -f "$POM" "-Dmaven.repo.local=$M2" dependency:copy-dependencies
    "-DoutputDirectory=$tmp")
  if [ -d "$M2/org/apache/kafka/kafka_2.13/$KAFKA_VERSION" ] && mvn -o "${args[@]}" >"$log" 2>&1
  then
    info "copied Kafka $KAFKA_VERSION jars from the local Maven repository $M2 (offline)"
  else
    info "downloading Apache Kafka $KAFKA_VERSION and its dependencies from Maven Central"
    info "  (about 70 MB with Maven's plugins, once) into $M2; full Maven log: $log"
    # Progress: one line per downloaded jar. awk, unlike grep, never fails on no match.
    if ! mvn "${args[@]}" 2>&1 | tee "$log" | awk '
        /^\[INFO\] Downloaded from .*\.jar / {
          n = split($5, parts, "/"); size = $0; sub(/^.*\.jar /, "", size)
          printf "[kafka]   %s %s\n", parts[n], size; fflush()
        }' >&2
    then
      tail -n 30 "$log" >&2
      die 6 "Maven could not resolve Kafka $KAFKA_VERSION (is Maven Central reachable?" \
        "proxy settings go in ~/.m2/settings.xml); full log: $log"
    fi
  fi
  checksum "$POM" >"$tmp/.floorwatch-complete"
  rm -rf "$LIBS"
  mv "$tmp" "$LIBS"
  trap - EXIT
  exec 9>&-
  info "Kafka $KAFKA_VERSION: $(jar_count "$LIBS") jars ($(du -sh "$LIBS" | cut -f 1)) in $LIBS," \
    "fetched in $(elapsed "$start")s"
}

jar_count() {
  local jars=("$1"/*.jar)
  [ -e "${jars[0]}" ] && echo "${#jars[@]}" || echo 0
}

# ---------------------------------------------------------------- java

find_java() {
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
    JAVA="$JAVA_HOME/bin/java"
  elif command -v java >/dev/null 2>&1; then
    JAVA=$(command -v java)
  else
    die 3 "java not found: install a JDK 17 (Debian/Ubuntu: sudo apt-get install" \
      "openjdk-17-jdk-headless; macOS: brew install openjdk@17) or set JAVA_HOME"
  fi
  local spec
  spec=$("$JAVA" -XshowSettings:properties -version 2>&1 |
    sed -n 's/^ *java\.specification\.version = //p')
  case "$spec" in
    1.* | 9 | 10 | '')
      die 3 "$JAVA is Java '${spec:-unknown}'; Kafka $KAFKA_VERSION needs 11+: install a JDK 17" ;;
  esac
}

java_opts() {  # the JVM options of the broker, Kafka's own environment variables honoured
  local heap perf extra
  read -r -a heap <<<"${KAFKA_HEAP_OPTS:--Xmx512m -Xms256m}"
  read -r -a perf <<<"${KAFKA_JVM_PERFORMANCE_OPTS:--server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
-XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15 \
-Djava.awt.headless=true}"
  read -r -a extra <<<"${KAFKA_OPTS:-}"
  JAVA_OPTS=("${heap[@]}" "${perf[@]}")
  [ ${#extra[@]} -eq 0 ] || JAVA_OPTS+=("${extra[@]}")
}

storage_tool() {  # kafka.tools.StorageTool with a small heap, warnings to stderr
  "$JAVA" -Xmx256m -XX:TieredStopAtLevel=1 -Dlog4j.configuration="file:$DIR/tools-log4j.properties" \
    -cp "$LIBS/*" kafka.tools.StorageTool "$@"
}

# ---------------------------------------------------------------- process helpers

show_log_errors() {  # the broker's first errors, or the end of its log
  if grep -qE '^\[[^]]*\] (ERROR|FATAL)' "$DIR/broker.log"; then
    grep -E -A 3 '^\[[^]]*\] (ERROR|FATAL)' "$DIR/broker.log" | head -n 20 >&2
  else
    tail -n 25 "$DIR/broker.log" >&2
  fi
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

broker_pid() {  # the pid of the broker running from $DIR, or fail
  local pid
  [ -f "$DIR/broker.pid" ] || return 1
  pid=$(cat "$DIR/broker.pid")
  case "$pid" in '' | *[!0-9]*) return 1 ;; esac
  kill -0 "$pid" 2>/dev/null || return 1
  # Guard against a recycled pid: it must be our kafka.Kafka with our server.properties.
  case "$(ps -ww -o args= -p "$pid" 2>/dev/null)" in
    *kafka.Kafka*"$DIR/server.properties"*) echo "$pid" ;;
    *) return 1 ;;
  esac
}

advertised() {  # HOST:PORT of DIR's listener for security protocol $1, or nothing
  sed -n 's/^advertised\.listeners=//p' "$DIR/server.properties" 2>/dev/null | tr ',' '\n' |
    sed -n "s|^$1://||p"
}

bootstrap_of() { advertised PLAINTEXT; }

parse_dir_args() {  # sets DIR PORT CPORT TIMEOUT WATCH_PID KEEP_DATA and the secured listeners'
  DIR=$DEFAULT_DIR PORT=9092 CPORT="" TIMEOUT=$1 WATCH_PID="" KEEP_DATA=""
  USERS="" SASL_PORT="" SSL_PORT="" SASL_SSL_PORT=""
  local allowed=$2
  shift 2
  while [ $# -gt 0 ]; do
    case "$1" in
      -h | --help) usage ;;
      --keep-data)
        case " $allowed " in *" $1 "*) ;; *) die 2 "unknown option for this command: $1" ;; esac
        KEEP_DATA=1
        shift
        ;;
      --dir | --port | --controller-port | --timeout | --watch-pid | --users | --sasl-port | \
        --ssl-port | --sasl-ssl-port)
        case " $allowed " in *" $1 "*) ;; *) die 2 "unknown option for this command: $1" ;; esac
        need_value "$@"
        case "$1" in
          --dir) DIR=$2 ;;
          --users) [ -r "$2" ] && USERS=$(cd "$(dirname "$2")" && pwd -P)/$(basename "$2") ||
            die 2 "--users $2: no such readable file" ;;
          --sasl-port) need_port "$1" "$2" && SASL_PORT=$2 ;;
          --ssl-port) need_port "$1" "$2" && SSL_PORT=$2 ;;
          --sasl-ssl-port) need_port "$1" "$2" && SASL_SSL_PORT=$2 ;;
          --port) need_port "$1" "$2" && PORT=$2 ;;
          --controller-port) need_port "$1" "$2" && CPORT=$2 ;;
          --timeout) need_int "$1" "$2" && TIMEOUT=$2 ;;
          --watch-pid) need_int "$1" "$2" && WATCH_PID=$2 ;;
        esac
        shift 2
        ;;
      *) die 2 "unknown argument: $1 (see broker.sh --help)" ;;
    esac
  done
  [ -n "$CPORT" ] || CPORT=$((PORT + 1))
  if [ -n "$SASL_PORT$SASL_SSL_PORT" ] && [ -z "$USERS" ]; then
    die 2 "--sasl-port and --sasl-ssl-port need --users FILE (a \"name password\" per line)"
  fi
  # Absolute and symlink-free: stop and status recognise the broker by this path.
  if [ -d "$DIR" ]; then DIR=$(cd "$DIR" && pwd -P); fi
}

# ---------------------------------------------------------------- start

secured_listeners() {  # NAME://127.0.0.1:PORT of each secured listener asked for, comma-led
  [ -z "$SASL_PORT" ] || printf ',SASL_PLAINTEXT://127.0.0.1:%s' "$SASL_PORT"
  [ -z "$SSL_PORT" ] || printf ',SSL://127.0.0.1:%s' "$SSL_PORT"
  [ -z "$SASL_SSL_PORT" ] || printf ',SASL_SSL://127.0.0.1:%s' "$SASL_SSL_PORT"
}

make_certificates() {  # a throw-away CA, and broker and client certificates signed by it
  command -v openssl >/dev/null 2>&1 ||
    die 8 "openssl not found: install it (Debian/Ubuntu: sudo apt-get install openssl) for" \
      "the SSL listeners"
  local tls=$DIR/tls name
  rm -rf "$tls"
  mkdir -p "$tls"
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=floorwatch-dev-ca" \
    -keyout "$tls/ca.key" -out "$tls/ca.pem" 2>/dev/null
  for name in broker client; do
    openssl req -newkey rsa:2048 -nodes -subj "/CN=floorwatch-$name" \
      -keyout "$tls/$name.key" -out "$tls/$name.csr" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$tls/$name.ext"
    openssl x509 -req -days 30 -in "$tls/$name.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" \
      -CAcreateserial -extfile "$tls/$name.ext" -out "$tls/$name.pem" 2>/dev/null
  done
  cat "$tls/broker.key" "$tls/broker.pem" >"$tls/broker-keystore.pem"  # a PEM key store
}

write_secured_config() {  # SASL users and the key store of the secured listeners
  local plain="" name password listener mechanism
  while read -r name password || [ -n "$name" ]; do  # a last line without a newline too
    [ -n "$name" ] && plain="$plain user_$name=\"$password\""
  done <"${USERS:-/dev/null}"  # SSL alone needs no users
  echo "sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512"
  if [ -n "$SSL_PORT$SASL_SSL_PORT" ]; then
    echo "ssl.keystore.type=PEM"
    echo "ssl.keystore.location=$DIR/tls/broker-keystore.pem"
    echo "ssl.truststore.type=PEM"
    echo "ssl.truststore.location=$DIR/tls/ca.pem"
    echo "listener.name.ssl.ssl.client.auth=required"
  fi
  for listener in sasl_plaintext sasl_ssl; do
    echo "listener.name.$listener.plain.sasl.jaas.config=$PLAIN_LOGIN required$plain;"
    for mechanism in scram-sha-256 scram-sha-512; do
      echo "listener.name.$listener.$mechanism.sasl.jaas.config=$SCRAM_LOGIN required;"
    done
  done
}

scram_args() {  # StorageTool's --add-scram for every user and both SCRAM mechanisms
  local name password mechanism
  while read -r name password || [ -n "$name" ]; do  # a last line without a newline too
    [ -n "$name" ] || continue
    for mechanism in SCRAM-SHA-256 SCRAM-SHA-512; do
      printf '%s\n' --add-scram "$mechanism=[name=$name,password=$password]"
    done
  done <"$USERS"
}

write_config() {
  local secured
  secured=$(secured_listeners)
  cat >"$DIR/server.properties" <<EOF
# Written by devtools/kafka/broker.sh: a throw-away single-node KRaft cluster for development.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CPORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CPORT$secured
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT$secured
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL
log.dirs=$DIR/data
# One node: every internal topic has one replica.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
default.replication.factor=1
min.insync.replicas=1
num.partitions=1
# Floorwatch creates its topics; a typo must not create one silently.
auto.create.topics.enable=false
# Tests: consumer groups form at once.
group.initial.rebalance.delay.ms=0
# Small machine: few threads, a 32 MB compaction buffer (default 128 MB of a 512 MB heap).
num.network.threads=2
num.io.threads=2
num.recovery.threads.per.data.dir=1
log.cleaner.dedupe.buffer.size=33554432
EOF
  if [ -n "$secured" ]; then
    [ -z "$SSL_PORT$SASL_SSL_PORT" ] || make_certificates
    write_secured_config >>"$DIR/server.properties"
  fi
  cat >"$DIR/log4j.properties" <<'EOF'
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.Target=System.out
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.log.LogCleaner=WARN
EOF
  cat >"$DIR/tools-log4j.properties" <<'EOF'
log4j.rootLogger=WARN, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.Target=System.err
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n
EOF
}

start_watchdog() {  # stop the broker when process $WATCH_PID (the test run) is gone
  # shellcheck disable=SC2016  # $1… are the inner bash's arguments
  nohup bash -c '
    while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 1; done
    if kill -0 "$2" 2>/dev/null; then
      echo "process $1 is gone: stopping the broker"
      exec "$3" stop --dir "$4"
    fi' broker-watchdog "$WATCH_PID" "$1" "$SELF" "$DIR" \
    </dev/null >>"$DIR/watchdog.log" 2>&1 9>&- &
  echo $! >"$DIR/watchdog.pid"
}

cmd_start() {
  parse_dir_args 60 "--dir --port --controller-port --timeout --watch-pid --keep-data --users \
    --sasl-port --ssl-port --sasl-ssl-port" "$@"
  [ "$PORT" != "$CPORT" ] || die 2 "--port and --controller-port must differ (both $PORT)"
  find_java
  libs_complete || fetch_libs
  mkdir -p "$DIR"
  DIR=$(cd "$DIR" && pwd -P)
  local pid
  if pid=$(broker_pid); then
    die 7 "a broker is already running from $DIR (pid $pid, bootstrap=$(bootstrap_of));" \
      "stop it first: $SELF stop --dir $DIR"
  fi
  port_in_use "$PORT" && die 4 "port in use: 127.0.0.1:$PORT is taken; choose another --port"
  port_in_use "$CPORT" &&
    die 4 "port in use: controller port 127.0.0.1:$CPORT is taken; choose another --controller-port"
  local secured_port
  for secured_port in $SASL_PORT $SSL_PORT $SASL_SSL_PORT; do
    port_in_use "$secured_port" && die 4 "port in use: 127.0.0.1:$secured_port is taken;" \
      "choose other ports for the secured listeners"
  done

  local start cluster_id
  start=$(now)
  rm -f "$DIR/broker.pid" "$DIR/watchdog.pid"
  if [ -n "$KEEP_DATA" ] && [ -f "$DIR/data/meta.properties" ]; then
    [ -z "$USERS$SASL_PORT$SSL_PORT$SASL_SSL_PORT" ] ||
      die 2 "--keep-data restarts the cluster as first configured, secured listeners included:" \
        "drop --users and the --sasl-port, --ssl-port and --sasl-ssl-port options"
    cluster_id=$(sed -n 's/^cluster.id=//p' "$DIR/data/meta.properties")
  else
    rm -rf "$DIR/data"
    write_config
    cluster_id=$(storage_tool random-uuid | tail -n 1)
    [[ $cluster_id =~ ^[A-Za-z0-9_-]{22}$ ]] ||
      die 1 "kafka.tools.StorageTool random-uuid printed '$cluster_id', not a cluster id"
    local scram=() arg  # an empty array expands safely under set -u in bash < 4.4 this way
    if [ -n "$USERS" ]; then
      while IFS= read -r arg; do scram+=("$arg"); done < <(scram_args)
    fi
    storage_tool format -t "$cluster_id" -c "$DIR/server.properties" ${scram[@]+"${scram[@]}"} \
      >"$DIR/format.log" 2>&1 || {
      cat "$DIR/format.log" >&2
      die 1 "kafka.tools.StorageTool format failed (log: $DIR/format.log)"
    }
  fi

  java_opts
  nohup "$JAVA" "${JAVA_OPTS[@]}" -Dlog4j.configuration="file:$DIR/log4j.properties" \
    -cp "$LIBS/*" kafka.Kafka "$DIR/server.properties" \
    </dev/null >"$DIR/broker.log" 2>&1 9>&- &
  pid=$!
  echo "$pid" >"$DIR/broker.pid"
  [ -z "$WATCH_PID" ] || start_watchdog "$pid"
  info "Kafka $KAFKA_VERSION starting: pid $pid, cluster $cluster_id, log $DIR/broker.log"
  # Interrupted while waiting: do not leave a half-started broker behind.
  trap '"$SELF" stop --dir "$DIR" --timeout 10; exit 130' INT TERM

  local deadline=$((SECONDS + TIMEOUT))
  until grep -qF "$READY_LINE" "$DIR/broker.log"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$DIR/broker.pid"
      show_log_errors
      if grep -qE 'BindException|Address already in use' "$DIR/broker.log"; then
        die 4 "port in use: one of the broker's ports was taken during start-up;" \
          "choose other ports"
      fi
      die 1 "the broker exited during start-up (log: $DIR/broker.log)"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      show_log_errors
      "$SELF" stop --dir "$DIR" --timeout 10 || true
      die 5 "the broker did not log '$READY_LINE' within ${TIMEOUT}s (log: $DIR/broker.log);" \
        "a slow machine may need --timeout"
    fi
    sleep 0.2
  done
  trap - INT TERM
  info "ready in $(elapsed "$start")s; stop it with: $SELF stop --dir $DIR"
  echo "bootstrap=$(bootstrap_of)"
  local protocol address  # the secured listeners of the config in use (--keep-data too)
  for protocol in SASL_PLAINTEXT SSL SASL_SSL; do
    address=$(advertised "$protocol")
    [ -z "$address" ] || echo "$(echo "$protocol" | tr '[:upper:]' '[:lower:]')_bootstrap=$address"
  done
  [ -z "$(advertised SSL)$(advertised SASL_SSL)" ] || echo "tls_dir=$DIR/tls"
}

# ---------------------------------------------------------------- stop, status

cmd_stop() {
  parse_dir_args 30 "--dir --timeout" "$@"
  local pid wpid start
  if ! pid=$(broker_pid); then
    rm -f "$DIR/broker.pid"
    info "no broker running from $DIR"
    return 0
  fi
  start=$(now)
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + TIMEOUT))
  while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    info "the broker (pid $pid) did not stop within ${TIMEOUT}s of SIGTERM: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  rm -f "$DIR/broker.pid"
  if [ -f "$DIR/watchdog.pid" ]; then
    wpid=$(cat "$DIR/watchdog.pid")
    rm -f "$DIR/watchdog.pid"
    # The watchdog may be this very process (it execs `stop`): do not signal ourselves.
    [ "$wpid" = "$$" ] || kill "$wpid" 2>/dev/null || true
  fi
  info "stopped the broker (pid $pid) in $(elapsed "$start")s"
}

cmd_status() {
  parse_dir_args 0 "--dir" "$@"
  local pid state=ready
  if pid=$(broker_pid); then
    port_in_use "$(bootstrap_of | sed 's/.*://')" || state=starting
    echo "running ($state) pid=$pid bootstrap=$(bootstrap_of) dir=$DIR log=$DIR/broker.log"
  else
    echo "not running (dir=$DIR)"
    return 3
  fi
}

case "${1:-}" in
  fetch)
    [ $# -eq 1 ] || die 2 "fetch takes no options"
    fetch_libs
    ;;
  start | stop | status)
    command=$1
    shift
    "cmd_$command" "$@"
    ;;
  '' | -h | --help | help) usage ;;
  *)
    printf 'broker.sh: unknown command: %s\n\n' "$1" >&2
    usage
    ;;
esac
