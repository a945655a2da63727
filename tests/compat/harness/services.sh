#!/usr/bin/env bash
# The ORIGINAL NileCare Clinical and Facility services (TypeScript, mohfadul/nilecare), booted on
# 127.0.0.1 with real PostgreSQL, MariaDB and Redis, seed data and an auth stand-in, so that
# `make compat` can run the Python clients against them. docs/compatibility.md explains every
# step that differs from upstream and why.
#
#   services.sh up            boot everything (idempotent: live processes and data are reused)
#   services.sh down [--wipe] stop what `up` started, by recorded pid; --wipe deletes the state
#   services.sh mint ARGS...  print a token signed with this state's secret (auth_standin.py mint)
#
# Needs: root (databases run as their own system users), git, python3, and NILECARE_SOURCE = a git
# directory (bare or not) of mohfadul/nilecare; only its committed objects are read. Debian packages
# that are missing (nodejs npm postgresql postgresql-client mariadb-server redis-server) are
# installed by name, and npm installs the services' declared dependencies: nothing else is fetched.
#
# Environment (all optional): NILECARE_STATE (/var/tmp/nilecare-real: data, logs, pids, env.sh),
# NILECARE_CACHE (~/.cache/nilecare-clients-compat: sources and node_modules), CLINICAL_PORT (3004),
# FACILITY_PORT (5001), AUTH_PORT (7020), MARIADB_PORT (3306), REDIS_PORT (6379): a port that is
# taken is replaced by a free one. PostgreSQL is always 5432 (see "Clinical's two databases").
# NILECARE_NODE_ENV (production; `development` adds stack traces to error bodies).
#
# Several copies of this must not run at once on one machine (fixed port 5432, one state
# directory): serialise callers, e.g. `flock /tmp/nilecare-real.lock make compat`.
set -euo pipefail

HARNESS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STATE="${NILECARE_STATE:-/var/tmp/nilecare-real}"
CACHE="${NILECARE_CACHE:-${HOME:-/root}/.cache/nilecare-clients-compat}"
SRC="$CACHE/src"
RUN="$STATE/run"
LOGS="$STATE/logs"
PG_PORT=5432
TENANT=550e8400-e29b-41d4-a716-446655440001  # organisation of the seed rows and minted tokens
OTHER_TENANT=99999999-9999-4999-8999-999999999999
# Commit b3ddefba4 ("Major repository cleanup") deleted Facility's entry point and six files its
# routes still import; they are taken unchanged from its parent.
FACILITY_RESTORE_FROM=a6ba38500
FACILITY_RESTORED=(src/index.ts src/controllers/FacilityController.ts src/services/FacilityService.ts
  src/repositories/FacilityRepository.ts src/models/Facility.ts src/models/FacilitySettings.ts
  src/middleware/facilityMiddleware.ts)
# Clinical's routes import these, and no upstream commit ever contained them.
CLINICAL_MISSING=(EncounterController DiagnosticController FHIRController)
# Kafka has no small stand-in: point kafkajs at a closed loopback port so it fails at once.
NO_KAFKA=127.0.0.1:1

say() { printf '[services] %s\n' "$*"; }
fail() { printf '[services] error: %s\n' "$*" >&2; exit 1; }
pid_alive() { [ -s "$RUN/$1.pid" ] && kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null; }
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
choose_port() { # choose_port NAME PREFERRED: our live process's port, else PREFERRED if free, else any
  if pid_alive "$1" && [ -s "$RUN/$1.port" ]; then cat "$RUN/$1.port"
  elif port_in_use "$2"; then free_port
  else echo "$2"; fi
}
pg_bin() { dirname "$(command -v initdb 2>/dev/null || ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1)"; }

# ------------------------------------------------------------------------------------------ up
install_packages() {
  local missing=()
  command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)
  command -v psql >/dev/null || missing+=(postgresql-client)
  command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
  command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] || missing+=(mariadb-server)
  command -v redis-server >/dev/null || missing+=(redis-server)
  [ ${#missing[@]} -eq 0 ] && return
  say "installing Debian packages: ${missing[*]}"
  local log="$LOGS/apt.log"
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
    tail -n 20 "$log" >&2; fail "apt-get install ${missing[*]} failed"
  fi
}

extract_sources() {
  # Re-extract only when the upstream HEAD or this harness's stub changes.
  local want have=""
  want="$(git -C "$NILECARE_SOURCE" rev-parse HEAD) $(sha1sum "$HARNESS/missing_controller.ts.in" | cut -c1-12)"
  [ -f "$SRC/.extracted-from" ] && have="$(cat "$SRC/.extracted-from")"
  [ "$have" = "$want" ] && return
  say "extracting the two services from $NILECARE_SOURCE (HEAD) into $SRC"
  rm -rf "$SRC"; mkdir -p "$SRC"
  git -C "$NILECARE_SOURCE" archive HEAD \
      microservices/clinical microservices/facility-service \
      shared/database shared/middleware shared/package.json shared/package-lock.json shared/tsconfig.json \
      packages/@nilecare/response-wrapper infrastructure/kubernetes/postgres.yaml | tar -x -C "$SRC"
  local f
  for f in "${FACILITY_RESTORED[@]}"; do
    git -C "$NILECARE_SOURCE" show "$FACILITY_RESTORE_FROM:microservices/facility-service/$f" \
      > "$SRC/microservices/facility-service/$f"
  done
  # The services import '../../shared/...' from src/, i.e. microservices/shared; upstream keeps
  # that code at the repository root.
  ln -s ../shared "$SRC/microservices/shared"
  local name
  for name in "${CLINICAL_MISSING[@]}"; do
    sed "s/@NAME@/$name/g" "$HARNESS/missing_controller.ts.in" \
      > "$SRC/microservices/clinical/src/controllers/$name.ts"
  done
  echo "$want" > "$SRC/.extracted-from"
}

npm_install() { # npm_install DIR LABEL NPM-ARGS...: once per extraction
  local dir=$1 label=$2; shift 2
  [ -f "$dir/node_modules/.compat-installed" ] && return
  say "npm $* in ${dir#"$SRC"/}"
  (cd "$dir" && npm "$@" --no-audit --no-fund >"$LOGS/npm-$label.log" 2>&1) \
    || { tail -n 30 "$LOGS/npm-$label.log" >&2; fail "npm $* failed in $dir"; }
  touch "$dir/node_modules/.compat-installed"
}

install_node_deps() {
  npm_install "$SRC/packages/@nilecare/response-wrapper" response-wrapper install --omit=dev
  npm_install "$SRC/shared" shared ci --omit=dev
  # shared/database imports mysql2 and Clinical's clients import axios, but no package.json
  # declares them: upstream got them from the monorepo's hoisted root node_modules. A root
  # package with exactly those two, at the versions upstream had committed, plays that part.
  if [ ! -f "$SRC/package.json" ]; then
    printf '%s\n' '{"name": "compat-hoisted-root", "private": true,' \
      ' "dependencies": {"axios": "1.12.2", "mysql2": "3.15.2"}}' > "$SRC/package.json"
  fi
  npm_install "$SRC" hoisted-root install
  npm_install "$SRC/microservices/clinical" clinical install
  npm_install "$SRC/microservices/facility-service" facility install
}

as_postgres() { runuser -u postgres -- "$@"; }
psql_admin() { as_postgres psql -h "$STATE/pgsock" -p $PG_PORT -U postgres -v ON_ERROR_STOP=1 -qAt "$@"; }
psql_as() { # psql_as DB USER PASSWORD ARGS...
  local db=$1 user=$2 password=$3; shift 3
  PGPASSWORD=$password psql -h 127.0.0.1 -p $PG_PORT -U "$user" -d "$db" -v ON_ERROR_STOP=1 -qAt "$@"
}
table_exists() { [ "$(psql_as "$1" "$2" "$3" -c "SELECT to_regclass('public.$4') IS NOT NULL")" = t ]; }

start_postgres() {
  local bin; bin="$(pg_bin)"
  id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
  if [ ! -s "$STATE/pg/PG_VERSION" ]; then
    say "initdb $STATE/pg"
    mkdir -p "$STATE/pg" "$STATE/pgsock"; chown postgres:postgres "$STATE/pg" "$STATE/pgsock"; chmod 700 "$STATE/pg"
    as_postgres "$bin/initdb" -D "$STATE/pg" -U postgres -E UTF8 --locale=C.UTF-8 \
      --auth-local=trust --auth-host=scram-sha-256 >"$LOGS/initdb.log" 2>&1 || { cat "$LOGS/initdb.log" >&2; fail initdb; }
  fi
  if ! as_postgres "$bin/pg_ctl" -D "$STATE/pg" status >/dev/null 2>&1; then
    port_in_use $PG_PORT && fail "127.0.0.1:$PG_PORT is in use; Clinical can only reach PostgreSQL there"
    say "postgres on 127.0.0.1:$PG_PORT"
    touch "$LOGS/postgres.log"; chown postgres "$LOGS/postgres.log"
    as_postgres "$bin/pg_ctl" -D "$STATE/pg" -l "$LOGS/postgres.log" -w \
      -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $STATE/pgsock" start >/dev/null
  fi
  head -n 1 "$STATE/pg/postmaster.pid" > "$RUN/postgres.pid"
}

load_databases() {
  # Clinical's patient store connects with the pg driver's built-in defaults (user nilecare,
  # password nilecare123, database nilecare); Facility gets its own role through PG_*.
  psql_admin -c "DO \$\$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'nilecare') THEN
      CREATE ROLE nilecare LOGIN PASSWORD 'nilecare123'; END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'nilecare_facility') THEN
      CREATE ROLE nilecare_facility LOGIN PASSWORD 'facility_pw'; END IF; END \$\$;"
  local db owner
  for db in nilecare:nilecare nilecare_facility:nilecare_facility; do
    owner=${db#*:}; db=${db%%:*}
    [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" = 1 ] \
      || psql_admin -c "CREATE DATABASE $db OWNER $owner"
  done
  if ! table_exists nilecare nilecare nilecare123 patients; then
    # Clinical's own migrations are MySQL DDL for another column layout; the PostgreSQL init.sql
    # in the Kubernetes manifest matches what its patient store queries, column for column.
    say "Clinical tables: init.sql from infrastructure/kubernetes/postgres.yaml"
    awk '/^  init.sql: \|/ { inside = 1; next } inside { sub(/^    /, ""); print }' \
      "$SRC/infrastructure/kubernetes/postgres.yaml" > "$STATE/clinical-init.sql"
    psql_as nilecare nilecare nilecare123 -f "$STATE/clinical-init.sql" >"$LOGS/schema-clinical.log" 2>&1 \
      || { cat "$LOGS/schema-clinical.log" >&2; fail "Clinical schema"; }
  fi
  psql_as nilecare nilecare nilecare123 -f "$HARNESS/seed_clinical.sql" >"$LOGS/seed-clinical.log" 2>&1 \
    || { cat "$LOGS/seed-clinical.log" >&2; fail "Clinical seed"; }
  if ! table_exists nilecare_facility nilecare_facility facility_pw beds; then
    # Facility's database/schema.sql has two GIN index statements PostgreSQL refuses; run the
    # file the way psql does by default (carry on after an error) and show what was skipped.
    say "Facility tables: microservices/facility-service/database/schema.sql"
    psql_as nilecare_facility nilecare_facility facility_pw -v ON_ERROR_STOP=0 \
      -f "$SRC/microservices/facility-service/database/schema.sql" >"$LOGS/schema-facility.log" 2>&1 || true
    grep ERROR "$LOGS/schema-facility.log" | sed 's/^/[services]   skipped: /' || true
    table_exists nilecare_facility nilecare_facility facility_pw beds \
      || { cat "$LOGS/schema-facility.log" >&2; fail "Facility schema"; }
  fi
  psql_as nilecare_facility nilecare_facility facility_pw -f "$HARNESS/seed_facility.sql" >"$LOGS/seed-facility.log" 2>&1 \
    || { cat "$LOGS/seed-facility.log" >&2; fail "Facility seed"; }
}

start_mariadb() {
  # Clinical's entry point pings MySQL at startup (and exits after five failures) before its
  # PostgreSQL patient store is ever used; a real MariaDB answers that ping.
  local port data="$STATE/mariadb" i
  port=$(choose_port mariadb "${MARIADB_PORT:-3306}")
  id mysql >/dev/null 2>&1 || useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin mysql
  if [ ! -d "$data/mysql" ]; then
    say "mariadb-install-db $data"
    mkdir -p "$data"; chown mysql:mysql "$data"
    mariadb-install-db --user=mysql --datadir="$data" --auth-root-authentication-method=socket \
      --skip-test-db >"$LOGS/mariadb-install.log" 2>&1 || { cat "$LOGS/mariadb-install.log" >&2; fail mariadb-install-db; }
  fi
  if ! pid_alive mariadb; then
    say "mariadb on 127.0.0.1:$port"
    nohup "$(command -v mariadbd || echo /usr/sbin/mariadbd)" --no-defaults --user=mysql --datadir="$data" \
      --bind-address=127.0.0.1 --port="$port" --socket="$data/mariadb.sock" \
      --pid-file="$data/mariadb.pidfile" --skip-log-bin >"$LOGS/mariadb.log" 2>&1 </dev/null &
    echo $! > "$RUN/mariadb.pid"; echo "$port" > "$RUN/mariadb.port"
    for i in $(seq 60); do
      mariadb --no-defaults -S "$data/mariadb.sock" -uroot -e 'SELECT 1' >/dev/null 2>&1 && break
      sleep 0.5
    done
  fi
  mariadb --no-defaults -S "$data/mariadb.sock" -uroot -e "CREATE DATABASE IF NOT EXISTS nilecare_clinical;
    CREATE USER IF NOT EXISTS 'nilecare'@'127.0.0.1' IDENTIFIED BY 'nilecare_mysql';
    GRANT ALL ON nilecare_clinical.* TO 'nilecare'@'127.0.0.1';" || fail "mariadb does not answer ($LOGS/mariadb.log)"
}

start_redis() {
  local port; port=$(choose_port redis "${REDIS_PORT:-6379}")
  pid_alive redis && return
  say "redis on 127.0.0.1:$port"
  nohup redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no --protected-mode yes \
    >"$LOGS/redis.log" 2>&1 </dev/null &
  echo $! > "$RUN/redis.pid"; echo "$port" > "$RUN/redis.port"
}

env_value() { sed -n "s/^$1=//p" "$2" | tail -n 1 | tr -d '\r'; }

start_auth() {
  [ -s "$STATE/jwt_secret" ] || { (umask 077; python3 -c 'import secrets; print(secrets.token_hex(32))' > "$STATE/jwt_secret"); }
  local port keys
  port=$(choose_port auth "${AUTH_PORT:-7020}")
  # The services authenticate to Auth with the AUTH_SERVICE_API_KEY of their committed .env.
  keys="$(env_value AUTH_SERVICE_API_KEY "$SRC/microservices/clinical/.env"),$(env_value AUTH_SERVICE_API_KEY "$SRC/microservices/facility-service/.env")"
  if ! pid_alive auth; then
    say "auth stand-in on 127.0.0.1:$port"
    JWT_SECRET="$(cat "$STATE/jwt_secret")" SERVICE_API_KEYS="$keys" \
      nohup python3 "$HARNESS/auth_standin.py" serve --port "$port" >"$LOGS/auth.log" 2>&1 </dev/null &
    echo $! > "$RUN/auth.pid"; echo "$port" > "$RUN/auth.port"
  fi
  wait_healthy "http://127.0.0.1:$port/health" 20 auth
}

wait_healthy() { # wait_healthy URL SECONDS NAME
  local i
  for ((i = 0; i < $2; i++)); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    pid_alive "$3" || { tail -n 40 "$LOGS/$3.log" >&2; fail "$3 exited during startup"; }
    sleep 1
  done
  tail -n 40 "$LOGS/$3.log" >&2; fail "$3 did not answer $1 within $2 s"
}

mint() { JWT_SECRET="$(cat "$STATE/jwt_secret")" python3 "$HARNESS/auth_standin.py" mint "$@"; }

start_services() {
  local node_env="${NILECARE_NODE_ENV:-production}" auth_url mariadb_port redis_port clinical_port facility_port
  auth_url="http://127.0.0.1:$(cat "$RUN/auth.port")"
  mariadb_port=$(cat "$RUN/mariadb.port"); redis_port=$(cat "$RUN/redis.port")
  # One runner for both: tsx (from Clinical's devDependencies) transpiles without type-checking.
  # Facility's own ts-node runner stops on type errors in imports of files that never existed.
  local tsx="file://$SRC/microservices/clinical/node_modules/tsx/dist/loader.mjs"
  local preload="--require $HARNESS/loopback_only.cjs"
  clinical_port=$(choose_port clinical "${CLINICAL_PORT:-3004}")
  if ! pid_alive clinical; then
    # Clinical reads DB_* twice: its patient store at import time (before dotenv runs, so only
    # the process environment counts; left unset it falls back to the PostgreSQL defaults), and
    # its startup MySQL ping after dotenv. So DB_* stay out of the environment and only the DB_*
    # lines of the extracted .env are pointed at our MariaDB.
    sed -i -e "s/^DB_HOST=.*/DB_HOST=127.0.0.1/" -e "s/^DB_PORT=.*/DB_PORT=$mariadb_port/" \
      -e "s/^DB_USER=.*/DB_USER=nilecare/" -e "s/^DB_PASSWORD=.*/DB_PASSWORD=nilecare_mysql/" \
      "$SRC/microservices/clinical/.env"
    say "clinical on 127.0.0.1:$clinical_port"
    # (`cd` on a line of its own: the `&` must background node itself, so that $! is node's pid
    # and `down` stops the service rather than a wrapper shell.)
    (cd "$SRC/microservices/clinical" || exit 1
      env -u DB_HOST -u DB_PORT -u DB_NAME -u DB_USER -u DB_PASSWORD \
        NODE_ENV="$node_env" PORT="$clinical_port" AUTH_SERVICE_URL="$auth_url" KAFKA_BROKER=$NO_KAFKA \
        CORS_ORIGIN=http://127.0.0.1 NODE_OPTIONS="$preload" \
        nohup node --import "$tsx" src/index.ts >"$LOGS/clinical.log" 2>&1 </dev/null &
      echo $! > "$RUN/clinical.pid")
    echo "$clinical_port" > "$RUN/clinical.port"
  fi
  facility_port=$(choose_port facility "${FACILITY_PORT:-5001}")
  if ! pid_alive facility; then
    # Facility's entry point only checks that DB_* are set (DB_PASSWORD non-empty); its pool
    # uses PG_* and its cache REDIS_*.
    say "facility on 127.0.0.1:$facility_port"
    (cd "$SRC/microservices/facility-service" || exit 1
      env NODE_ENV="$node_env" PORT="$facility_port" \
        AUTH_SERVICE_URL="$auth_url" KAFKA_BROKERS=$NO_KAFKA KAFKA_BROKER=$NO_KAFKA \
        DB_HOST=127.0.0.1 DB_NAME=nilecare_facility DB_USER=nilecare_facility DB_PASSWORD=facility_pw \
        PG_HOST=127.0.0.1 PG_PORT=$PG_PORT PG_DATABASE=nilecare_facility PG_USER=nilecare_facility \
        PG_PASSWORD=facility_pw REDIS_HOST=127.0.0.1 REDIS_PORT="$redis_port" \
        ALLOWED_ORIGINS=http://127.0.0.1 NODE_OPTIONS="$preload" \
        nohup node --import "$tsx" src/index.ts >"$LOGS/facility.log" 2>&1 </dev/null &
      echo $! > "$RUN/facility.pid")
    echo "$facility_port" > "$RUN/facility.port"
  fi
  wait_healthy "http://127.0.0.1:$clinical_port/health" 120 clinical
  wait_healthy "http://127.0.0.1:$facility_port/health" 120 facility
}

write_env() {
  local clinical="http://127.0.0.1:$(cat "$RUN/clinical.port")" facility="http://127.0.0.1:$(cat "$RUN/facility.port")"
  local admin doctor nurse other clinician
  admin=$(mint --org $TENANT --role admin --user 550e8400-e29b-41d4-a716-446655440002 --email admin@nilecare.test --perm '*')
  doctor=$(mint --org $TENANT --role doctor --user 44444444-4444-4444-8444-000000000001 --email doctor@nilecare.test \
    --perm patients:read --perm patients:create --perm patients:update)
  nurse=$(mint --org $TENANT --role nurse --user 44444444-4444-4444-8444-000000000009 --email nurse@nilecare.test --perm patients:read)
  other=$(mint --org $OTHER_TENANT --role admin --perm '*')
  # Role doctor with every permission: write routes get past the role and permission checks.
  clinician=$(mint --org $TENANT --role doctor --user 44444444-4444-4444-8444-000000000001 \
    --email clinician@nilecare.test --perm '*')
  (umask 077; cat > "$STATE/env.sh" <<EOF
# Written by tests/compat/harness/services.sh up. Source it; it holds bearer tokens.
export NILECARE_CLINICAL_URL=$clinical
export NILECARE_FACILITY_URL=$facility
export CLINICAL_URL=$clinical
export FACILITY_URL=$facility
export AUTH_STANDIN_URL=http://127.0.0.1:$(cat "$RUN/auth.port")
export NILECARE_ORG_ID=$TENANT
export NILECARE_ADMIN_TOKEN=$admin
export NILECARE_DOCTOR_TOKEN=$doctor
export NILECARE_NURSE_NOPERM_TOKEN=$nurse
export NILECARE_OTHER_ORG_TOKEN=$other
export NILECARE_CLINICIAN_TOKEN=$clinician
export NILECARE_JWT_SECRET=$(cat "$STATE/jwt_secret")
export NILECARE_PG_URL_CLINICAL=postgresql://nilecare:nilecare123@127.0.0.1:$PG_PORT/nilecare
export NILECARE_PG_URL_FACILITY=postgresql://nilecare_facility:facility_pw@127.0.0.1:$PG_PORT/nilecare_facility
export NILECARE_LOGS=$LOGS
EOF
  )
  say "up: Clinical $clinical, Facility $facility; URLs and tokens in $STATE/env.sh"
}

up() {
  [ "$(id -u)" = 0 ] || fail "run as root: PostgreSQL and MariaDB are started as their own users"
  [ -n "${NILECARE_SOURCE:-}" ] && git -C "$NILECARE_SOURCE" rev-parse -q --verify HEAD >/dev/null 2>&1 \
    || fail "NILECARE_SOURCE must name a git directory of mohfadul/nilecare"
  mkdir -p "$CACHE" "$RUN" "$LOGS"; chmod 755 "$STATE"  # the database users must reach their dirs
  install_packages
  for tool in git node npm psql curl python3 runuser; do command -v $tool >/dev/null || fail "missing $tool"; done
  extract_sources
  install_node_deps
  start_postgres
  load_databases
  start_mariadb
  start_redis
  start_auth
  start_services
  write_env
}

# ---------------------------------------------------------------------------------------- down
stop_recorded() { # stop_recorded NAME: TERM, wait up to 10 s, then KILL; only the recorded pid
  local pid i
  [ -s "$RUN/$1.pid" ] || return 0
  pid=$(cat "$RUN/$1.pid")
  if kill -0 "$pid" 2>/dev/null; then
    say "stopping $1 (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    if kill -0 "$pid" 2>/dev/null; then say "$1 ignored TERM; KILL $pid"; kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  # A port still answering means a process we did not record (say, a child): report it.
  if [ -s "$RUN/$1.port" ] && port_in_use "$(cat "$RUN/$1.port")"; then
    say "warning: 127.0.0.1:$(cat "$RUN/$1.port") still answers after stopping $1"
  fi
  rm -f "$RUN/$1.pid" "$RUN/$1.port"
}

down() {
  local name
  for name in facility clinical auth redis mariadb; do stop_recorded $name; done
  if [ -s "$RUN/postgres.pid" ] && kill -0 "$(cat "$RUN/postgres.pid")" 2>/dev/null; then
    say "stopping postgres (pid $(cat "$RUN/postgres.pid"))"
    as_postgres "$(pg_bin)/pg_ctl" -D "$STATE/pg" -m fast -w stop >/dev/null || stop_recorded postgres
  fi
  rm -f "$RUN/postgres.pid"
  if [ "${1:-}" = --wipe ]; then say "deleting $STATE"; rm -rf "$STATE"; fi
  say "down"
}

case "${1:-}" in
  up) up ;;
  down) shift; down "$@" ;;
  mint) shift; [ -s "$STATE/jwt_secret" ] || fail "no $STATE/jwt_secret: run up first"; mint "$@" ;;
  *) echo "usage: $0 up | down [--wipe] | mint --org UUID [--role R] [--perm P ...]" >&2; exit 2 ;;
esac
