# shellcheck shell=bash
# Project-local PostgreSQL cluster for Switchboard development and tests.
#
# Source this file, then call `sb_postgres_up`: it installs PostgreSQL if
# missing, creates/starts a private cluster on 127.0.0.1:${SWITCHBOARD_PG_PORT:-55432}
# (data in .data/postgres), provisions the `switchboard` role and database,
# and exports SWITCHBOARD_DATABASE_URL / SWITCHBOARD_TEST_DATABASE_URL.
#
# No top-level `set -euo pipefail` here on purpose: this file may be sourced
# into an interactive shell, where errexit would kill the user's shell. The
# real work (sb__pg_provision) runs in a child bash that does set it, which
# also keeps errexit effective even if the caller writes `sb_postgres_up || …`.

SB_PG_LIB="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/$(basename "${BASH_SOURCE[0]}")"
SB_ROOT="$(cd "$(dirname "$SB_PG_LIB")/../.." && pwd -P)"
SB_DATA="$SB_ROOT/.data"
SB_PG_SUPERUSER_PWFILE="$SB_DATA/pg-superuser-password"
SB_PG_PWFILE="$SB_DATA/pg-password"
# Owned by scripts/run; removed here whenever the switchboard database is
# (re)created, because a new database has no platform key yet.
SB_PLATFORM_KEY_MARKER="$SB_DATA/platform-key-issued"

sb__log() { printf 'postgres: %s\n' "$*" >&2; }
# Only used from scripts and the provisioning child, never in a sourcing shell.
sb__die() { sb__log "error: $*"; exit 1; }

# Show paths inside the checkout relative to it; they are shorter to read.
sb__pretty() { if [[ $1 == "$SB_ROOT"/* ]]; then printf '%s' "${1#"$SB_ROOT"/}"; else printf '%s' "$1"; fi; }

# initdb, pg_ctl and postgres refuse to run as root: as root everything that
# touches the cluster runs as the `postgres` system user. `cd /` because that
# user may not be allowed into the caller's working directory.
sb__as_owner() {
  if ((EUID == 0)); then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

# Pick the server binaries: the major version an existing cluster was made
# with if it is installed (a newer major cannot open it), else the newest.
sb__pg_find_bin() {
  local want="" d
  if [[ -n ${SB_PGDATA:-} && -r $SB_PGDATA/PG_VERSION ]]; then
    want=$(<"$SB_PGDATA/PG_VERSION")
    if [[ -x /usr/lib/postgresql/$want/bin/initdb ]]; then
      printf '%s\n' "/usr/lib/postgresql/$want/bin"
      return 0
    fi
  fi
  for d in /usr/lib/postgresql/*/bin; do
    [[ -x $d/initdb && -x $d/pg_ctl && -x $d/postgres ]] && printf '%s\n' "$d"
  done | sort -V | tail -n 1
}

# Resolve where the cluster lives; no side effects, so `scripts/pg status`
# can use it too. Sets SB_PG_PORT, SB_PG_FALLBACK_BASE, SB_PG_BASE, SB_PGDATA,
# SB_PG_SOCKDIR, SB_PG_LOG, SB_PG_BIN (empty if PostgreSQL is not installed).
sb__pg_locate() {
  SB_PG_PORT=${SWITCHBOARD_PG_PORT:-55432}
  if ! [[ $SB_PG_PORT =~ ^[0-9]+$ ]] || ((SB_PG_PORT < 1024 || SB_PG_PORT > 65535)); then
    sb__log "error: SWITCHBOARD_PG_PORT must be a port number 1024-65535, got '$SB_PG_PORT'"
    return 1
  fi
  local hash
  hash=$(printf '%s' "$SB_ROOT" | sha256sum | cut -c1-12)
  SB_PG_FALLBACK_BASE="/var/tmp/switchboard-pg-$hash"
  # An existing cluster stays where it is; a new one goes into .data unless
  # the postgres user cannot reach it (decided in sb__pg_provision).
  if [[ ! -e $SB_DATA/postgres/PG_VERSION && -e $SB_PG_FALLBACK_BASE/postgres/PG_VERSION ]]; then
    SB_PG_BASE=$SB_PG_FALLBACK_BASE
  else
    SB_PG_BASE=$SB_DATA
  fi
  sb__pg_set_paths
  SB_PG_BIN=$(sb__pg_find_bin)
}

sb__pg_set_paths() {
  SB_PGDATA="$SB_PG_BASE/postgres"
  SB_PG_LOG="$SB_PG_BASE/postgres.log"
  SB_PG_SOCKDIR="$SB_PG_BASE/postgres-run"
  # Unix socket paths are limited to 107 bytes; a deep checkout would make
  # the server fail to start, so put the socket into the short fallback dir.
  if ((${#SB_PG_SOCKDIR} + ${#SB_PG_PORT} + 11 > 100)); then
    SB_PG_SOCKDIR="$SB_PG_FALLBACK_BASE/postgres-run"
  fi
}

sb__pg_tool() {
  if [[ -n ${SB_PG_BIN:-} && -x $SB_PG_BIN/$1 ]]; then printf '%s' "$SB_PG_BIN/$1"; else printf '%s' "$1"; fi
}

# True if our postmaster is running. pg_ctl status only checks that the PID in
# postmaster.pid is alive, which after a reboot or `kill -9` can be an
# unrelated process that reused the PID, so double-check via /proc.
sb__pg_running() {
  [[ -n ${SB_PG_BIN:-} && -e $SB_PGDATA/PG_VERSION ]] || return 1
  sb__as_owner "$SB_PG_BIN/pg_ctl" status -D "$SB_PGDATA" >/dev/null 2>&1 || return 1
  local pid cmdline
  pid=$(head -n 1 "$SB_PGDATA/postmaster.pid" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/cmdline ]] || return 0 # no /proc: trust pg_ctl
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline")
  [[ $cmdline == *postgres*"$SB_PGDATA"* ]]
}

# Port the running postmaster listens on (line 4 of postmaster.pid).
sb__pg_running_port() { sed -n 4p "$SB_PGDATA/postmaster.pid" 2>/dev/null; }

sb__random_alnum() {
  # No `tr </dev/urandom | head`: tr dies of SIGPIPE, which pipefail reports.
  local out=''
  while ((${#out} < 32)); do
    out+=$(head -c 96 /dev/urandom | LC_ALL=C tr -dc 'A-Za-z0-9')
  done
  printf '%s' "${out:0:32}"
}

# Write a secret file atomically with mode 600 (no half-written file if killed).
sb__write_secret() {
  local tmp
  tmp=$(umask 077 && mktemp "$1.XXXXXX")
  printf '%s\n' "$2" >"$tmp"
  mv -f "$tmp" "$1"
}

# Make a directory owned by the cluster owner (root: postgres), mode 700.
sb__owner_dir() {
  if [[ -L $1 ]]; then sb__die "$1 is a symlink; refusing to use it"; fi
  if ((EUID == 0)); then
    install -d -m 0700 -o postgres -g postgres "$1"
  else
    install -d -m 0700 "$1"
  fi
}

sb__pg_install() {
  if ((EUID != 0)); then
    sb__die "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin; install them (e.g. sudo apt-get install postgresql)"
  fi
  sb__log "PostgreSQL not installed; installing Debian's postgresql package"
  # Output to stderr: stdout of our callers stays clean.
  {
    DEBIAN_FRONTEND=noninteractive apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql </dev/null
  } >&2
}

# max_connections: the test suite runs its database tests in parallel, each with its own
# database and pool, so the default 100 connections run out.
# Start the postmaster with every inherited fd above 2 closed: otherwise the
# long-lived server keeps our flock fd (deadlocking the next run) or a CI
# harness pipe (so the CI job never sees EOF and hangs).
sb__pg_ctl_start() {
  (
    local fd
    for fd in /proc/self/fd/*; do
      fd=${fd##*/}
      if ((fd > 2)); then exec {fd}>&-; fi
    done 2>/dev/null
    sb__as_owner "$SB_PG_BIN/pg_ctl" start -w -t 90 -D "$SB_PGDATA" -l "$SB_PG_LOG" \
      -o "-p $SB_PG_PORT -k '$SB_PG_SOCKDIR' -c listen_addresses=127.0.0.1 -c max_connections=400" \
      </dev/null >/dev/null
  )
}

sb__pg_log_tail() {
  if [[ -r $SB_PG_LOG ]]; then
    sb__log "last lines of $(sb__pretty "$SB_PG_LOG"):"
    tail -n 20 "$SB_PG_LOG" | sed 's/^/    /' >&2
  fi
}

# psql over TCP (scram) as the given role; password via env, never argv.
sb__pg_psql() {
  local role=$1 pwfile=$2 db=$3
  shift 3
  PGPASSWORD=$(<"$pwfile") PGCONNECT_TIMEOUT=10 "$(sb__pg_tool psql)" -X -w -q -v ON_ERROR_STOP=1 \
    -h 127.0.0.1 -p "$SB_PG_PORT" -U "$role" -d "$db" "$@"
}

# Does everything; runs in a child `bash` with set -euo pipefail (see top).
sb__pg_provision() {
  mkdir -p "$SB_DATA"
  # Serialise concurrent runs (scripts/run and scripts/test at once).
  exec {lockfd}>"$SB_DATA/postgres.lock"
  if command -v flock >/dev/null; then
    flock -w 300 "$lockfd" || sb__die "timed out waiting for $(sb__pretty "$SB_DATA/postgres.lock")"
  fi

  sb__pg_locate
  if [[ -z $SB_PG_BIN ]]; then
    sb__pg_install
    SB_PG_BIN=$(sb__pg_find_bin)
    [[ -n $SB_PG_BIN ]] || sb__die "postgresql installed but no server binaries under /usr/lib/postgresql/*/bin"
  fi
  if ((EUID == 0)) && ! id -u postgres >/dev/null 2>&1; then
    sb__die "running as root but there is no 'postgres' system user to own the cluster"
  fi

  local initialized=0
  [[ -e $SB_PGDATA/PG_VERSION ]] && initialized=1

  # New cluster as root: the postgres user must be able to traverse into the
  # checkout (not the case under a 0700 home dir); otherwise use /var/tmp.
  if ((!initialized && EUID == 0)) && [[ $SB_PG_BASE == "$SB_DATA" ]]; then
    if ! sb__as_owner test -x "$SB_DATA"; then
      sb__log "the postgres user cannot reach $SB_DATA (a parent directory is not traversable);"
      sb__log "using $SB_PG_FALLBACK_BASE for the cluster instead (passwords stay in $(sb__pretty "$SB_DATA"))"
      SB_PG_BASE=$SB_PG_FALLBACK_BASE
      sb__pg_set_paths
    fi
  fi

  if [[ $SB_PG_BASE == "$SB_PG_FALLBACK_BASE" || $SB_PG_SOCKDIR == "$SB_PG_FALLBACK_BASE"/* ]]; then
    sb__owner_dir "$SB_PG_FALLBACK_BASE"
  fi
  sb__owner_dir "$SB_PG_SOCKDIR"
  if [[ ! -e $SB_PG_LOG ]]; then
    (umask 077 && : >>"$SB_PG_LOG")
    if ((EUID == 0)); then chown postgres:postgres "$SB_PG_LOG"; fi
  fi

  if [[ ! -s $SB_PG_SUPERUSER_PWFILE ]]; then
    if ((initialized)); then
      sb__die "cluster $(sb__pretty "$SB_PGDATA") exists but $(sb__pretty "$SB_PG_SUPERUSER_PWFILE") is gone; stop it (scripts/pg stop) and delete $SB_PGDATA to start over"
    fi
    sb__write_secret "$SB_PG_SUPERUSER_PWFILE" "$(sb__random_alnum)"
  fi
  if [[ ! -s $SB_PG_PWFILE ]]; then
    sb__write_secret "$SB_PG_PWFILE" "$(sb__random_alnum)"
  fi

  if ((!initialized)); then
    # initdb into a temp dir and rename: a killed initdb never leaves a
    # half-made cluster that later runs would mistake for a real one.
    local tmpdata="$SB_PGDATA.initdb-tmp" pwtmp="$SB_PG_SOCKDIR/.initdb-pw"
    rm -rf "$tmpdata"
    sb__owner_dir "$tmpdata"
    # The owner must read the password, but the file in .data is root-only.
    # shellcheck disable=SC2016 # $1 is expanded by that inner sh
    sb__as_owner sh -c 'umask 077 && cat >"$1"' sh "$pwtmp" <"$SB_PG_SUPERUSER_PWFILE"
    sb__as_owner test -w "$tmpdata" || sb__die "the cluster owner cannot write to $tmpdata"
    sb__log "initdb $(sb__pretty "$SB_PGDATA") ($SB_PG_BIN)"
    if ! sb__as_owner "$SB_PG_BIN/initdb" -D "$tmpdata" -U postgres --pwfile="$pwtmp" \
      -A scram-sha-256 -E UTF8 --locale=C --no-instructions >>"$SB_PG_LOG" 2>&1; then
      rm -f "$pwtmp"
      sb__pg_log_tail
      sb__die "initdb failed"
    fi
    rm -f "$pwtmp"
    # Only an empty leftover dir can be in the way (no PG_VERSION, see above).
    if [[ -e $SB_PGDATA ]]; then
      rmdir "$SB_PGDATA" 2>/dev/null || sb__die "$SB_PGDATA exists but is not a cluster; move it away"
    fi
    mv "$tmpdata" "$SB_PGDATA"
  fi

  local state
  if sb__pg_running; then
    local running_port
    running_port=$(sb__pg_running_port)
    if [[ $running_port != "$SB_PG_PORT" ]]; then
      sb__die "cluster is already running on port $running_port, not $SB_PG_PORT; run scripts/pg stop, or set SWITCHBOARD_PG_PORT=$running_port"
    fi
    state="running"
  else
    if [[ -e $SB_PGDATA/postmaster.pid ]]; then
      # Left by a killed server; its PID may now belong to another process
      # of the postgres user, which would make the server refuse to start.
      sb__log "removing stale $(sb__pretty "$SB_PGDATA/postmaster.pid")"
      rm -f "$SB_PGDATA/postmaster.pid" "$SB_PG_SOCKDIR/.s.PGSQL.$SB_PG_PORT.lock"
    fi
    # Retries: right after a `kill -9` the old backends may still hold the
    # shared memory for a moment and the new postmaster refuses to start.
    local attempt
    for attempt in 1 2 3 4 5; do
      if sb__pg_ctl_start; then break; fi
      if ((attempt == 5)); then
        sb__pg_log_tail
        sb__die "could not start the cluster (port $SB_PG_PORT busy?)"
      fi
      sleep 2
    done
    state="started"
  fi
  # A running-but-recovering server rejects connections for a while.
  "$(sb__pg_tool pg_isready)" -q -h 127.0.0.1 -p "$SB_PG_PORT" -t 60 ||
    sb__die "server on 127.0.0.1:$SB_PG_PORT is not accepting connections"

  # Role and database, idempotently. ALTER ROLE every time keeps the role in
  # sync with .data/pg-password even if that file was regenerated.
  local app_pw had_db
  app_pw=$(<"$SB_PG_PWFILE")
  had_db=$(sb__pg_psql postgres "$SB_PG_SUPERUSER_PWFILE" postgres -tA \
    -c "SELECT count(*) FROM pg_database WHERE datname = 'switchboard'")
  # SQL on stdin so the password never appears in a process list.
  sb__pg_psql postgres "$SB_PG_SUPERUSER_PWFILE" postgres <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'switchboard') THEN
    CREATE ROLE switchboard;
  END IF;
END \$\$;
ALTER ROLE switchboard WITH LOGIN CREATEDB NOSUPERUSER PASSWORD '$app_pw';
SELECT 'CREATE DATABASE switchboard OWNER switchboard'
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'switchboard') \gexec
SQL
  if [[ $had_db == 0 ]]; then
    sb__log "created role and database 'switchboard'"
    rm -f "$SB_PLATFORM_KEY_MARKER"
  fi
  sb__log "$state on 127.0.0.1:$SB_PG_PORT ($(sb__pretty "$SB_PGDATA"))"
}

# Public: bring the cluster up and export connection URLs (user values win).
sb_postgres_up() {
  local port=${SWITCHBOARD_PG_PORT:-55432} pw
  # Port passed explicitly: a non-exported shell variable would not reach the child.
  # shellcheck disable=SC2016 # $1 is expanded by the child bash
  SWITCHBOARD_PG_PORT=$port "${BASH:-bash}" -c 'set -euo pipefail; source "$1"; sb__pg_provision' \
    sb-postgres "$SB_PG_LIB" || return
  pw=$(<"$SB_PG_PWFILE") || return
  export SWITCHBOARD_DATABASE_URL="${SWITCHBOARD_DATABASE_URL:-postgres://switchboard:$pw@127.0.0.1:$port/switchboard}"
  # Maintenance DB: the tests CREATE DATABASE per suite from there.
  export SWITCHBOARD_TEST_DATABASE_URL="${SWITCHBOARD_TEST_DATABASE_URL:-postgres://switchboard:$pw@127.0.0.1:$port/postgres}"
}

# Stop the cluster if it runs (used by scripts/pg). `sb_postgres_stop immediate` stops it
# without a checkpoint, as a crash would (scripts/faults); the next start runs crash recovery.
sb_postgres_stop() {
  local mode=${1:-fast}
  sb__pg_locate || return
  if sb__pg_running; then
    sb__as_owner "$SB_PG_BIN/pg_ctl" stop -w -m "$mode" -D "$SB_PGDATA" >/dev/null || return
    sb__log "stopped ($(sb__pretty "$SB_PGDATA"))"
  else
    sb__log "not running ($(sb__pretty "$SB_PGDATA"))"
  fi
}

# Exit status like pg_ctl status: 0 running, 3 not running, 4 no cluster.
sb_postgres_status() {
  sb__pg_locate || return
  if [[ ! -e $SB_PGDATA/PG_VERSION ]]; then
    sb__log "no cluster yet ($(sb__pretty "$SB_PGDATA")); scripts/pg up creates it"
    return 4
  fi
  if sb__pg_running; then
    sb__log "running on 127.0.0.1:$(sb__pg_running_port) (pid $(head -n 1 "$SB_PGDATA/postmaster.pid"), $(sb__pretty "$SB_PGDATA"), log $(sb__pretty "$SB_PG_LOG"))"
    return 0
  fi
  sb__log "stopped ($(sb__pretty "$SB_PGDATA"))"
  return 3
}
