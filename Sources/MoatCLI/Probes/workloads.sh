#!/bin/bash
# The application workloads of `moat bench --workloads`. moat bench copies this
# file into the Debian rootfs (/srv/moat-bench/workloads.sh) and runs
#   bash workloads.sh prepare          once, natively in a chroot: the inputs
#   bash workloads.sh NAME             under each runtime, /tmp a fresh tmpfs
# A workload sets up untimed, runs its measured part, and prints one line
# "moat-bench-us N": the measured part's wall time in microseconds, read from
# bash's $EPOCHREALTIME (no fork to read the clock). Exit 0 when it worked.
set -euo pipefail
export HOME=/root LC_ALL=C.UTF-8
here=/srv/moat-bench
exec 3>&1   # the result line, whatever a measured command's output is redirected to
nproc=$(nproc)

now() { local t=${EPOCHREALTIME/[.,]/}; echo "$t"; }
measured() {   # measured COMMAND...: runs it, prints its wall time
  local start end
  start=$(now)
  "$@"
  end=$(now)
  echo "moat-bench-us $((end - start))" >&3
}
need() { for p in "$@"; do command -v "$p" >/dev/null || { echo "moat-bench-missing $p"; exit 3; }; done; }

prepare() {
  mkdir -p "$here"
  # A repository of 1,000 files in 20 directories with 100 commits of 10 files each.
  if command -v git >/dev/null && [ ! -f "$here/repo/.complete" ]; then
    rm -rf "$here/repo"
    git init -q "$here/repo"
    cd "$here/repo"
    git config user.email bench@moat.invalid
    git config user.name "moat bench"
    for d in $(seq -w 0 19); do
      mkdir -p "dir$d"
      for f in $(seq -w 0 49); do printf 'file %s/%s\nline two\n' "$d" "$f" > "dir$d/file$f.txt"; done
    done
    git add -A && git commit -q -m "initial tree"
    for c in $(seq 1 100); do
      for f in $(seq 0 9); do echo "change $c" >> "dir$(printf %02d $(( (c + f) % 20 )))/file$(printf %02d $(( (c * 7 + f) % 50 ))).txt"; done
      git commit -q -a -m "change $c"
    done
    git status -s >/dev/null   # writes the index's stat cache once
    touch .complete
  fi
  # A C project of 40 translation units and a Makefile.
  if [ ! -f "$here/cproject/.complete" ]; then
    rm -rf "$here/cproject"
    mkdir -p "$here/cproject"
    cd "$here/cproject"
    for i in $(seq 0 39); do
      {
        echo '#include <stdio.h>'; echo '#include <string.h>'; echo '#include <stdlib.h>'
        echo "int unit$i(int n) { char b[64]; int s = 0; for (int k = 0; k < n; k++) { snprintf(b, sizeof b, \"%d\", k * $i); s += (int)strlen(b); } return s; }"
      } > "unit$i.c"
    done
    { echo '#include <stdio.h>'
      for i in $(seq 0 39); do echo "int unit$i(int);"; done
      echo 'int main(void) { int s = 0;'
      for i in $(seq 0 39); do echo "s += unit$i(10);"; done
      echo 'printf("%d\n", s); return 0; }'
    } > main.c
    printf 'OBJS := $(patsubst %%.c,%%.o,$(wildcard *.c))\nprogram: $(OBJS)\n\t$(CC) -o $@ $^\n%%.o: %%.c\n\t$(CC) -O2 -c -o $@ $<\n' > Makefile
    touch .complete
  fi
  # 2,000 inserts, each its own transaction (a journal file made and removed per row).
  if [ ! -f "$here/inserts.sql" ]; then
    { echo 'CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, value REAL);'
      for i in $(seq 1 2000); do echo "INSERT INTO t (name, value) VALUES ('row $i', $i.5);"; done
      echo 'SELECT count(*), sum(value) FROM t;'
    } > "$here/inserts.sql.new"
    mv "$here/inserts.sql.new" "$here/inserts.sql"
  fi
}

python3_startup() { need python3; measured bash -c 'for i in $(seq 1 20); do python3 -c pass; done'; }

git_status() { need git; [ -f "$here/repo/.complete" ]; cd "$here/repo"; measured bash -c 'for i in 1 2 3 4 5; do git status >/dev/null; done'; }

git_log() { need git; [ -f "$here/repo/.complete" ]; cd "$here/repo"; measured bash -c 'git log --stat >/dev/null'; }

make_c() {
  need make gcc
  cp -r "$here/cproject" /tmp/cproject
  measured make -s -C /tmp/cproject -j"$nproc"
  [ "$(/tmp/cproject/program)" != "" ]
}

sqlite_inserts() {
  need sqlite3
  measured bash -c "sqlite3 /tmp/bench.db < $here/inserts.sql > /tmp/sqlite.out"
  grep -q '^2000|' /tmp/sqlite.out
}

redis() {
  need redis-server redis-benchmark redis-cli
  redis-server --port 6390 --bind 127.0.0.1 --save '' --appendonly no --daemonize yes --dir /tmp \
    --logfile /tmp/redis.log --maxclients 900 >/dev/null
  for i in $(seq 1 100); do redis-cli -p 6390 ping 2>/dev/null | grep -q PONG && break; sleep 0.05; done
  measured redis-benchmark -h 127.0.0.1 -p 6390 -n 20000 -c 8 -t set,get -q >/tmp/redis-benchmark.out
  redis-cli -p 6390 shutdown nosave >/dev/null 2>&1 || true
  grep -q 'GET' /tmp/redis-benchmark.out
}

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | tail -1 || true; }
as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }

pg_initdb() {
  local bin; bin=$(pg_bin)
  measured as_postgres "$bin/initdb" -D /tmp/pg -A trust -U postgres --no-sync >/dev/null
}

pgbench() {
  local bin; bin=$(pg_bin)
  as_postgres "$bin/initdb" -D /tmp/pg -A trust -U postgres --no-sync >/dev/null
  as_postgres "$bin/pg_ctl" -D /tmp/pg -l /tmp/pg.log -w \
    -o "-k /tmp -c listen_addresses= -c synchronous_commit=off -c fsync=off" start >/dev/null
  as_postgres "$bin/pgbench" -h /tmp -U postgres -i -q -s 1 postgres >/dev/null 2>&1
  measured as_postgres "$bin/pgbench" -h /tmp -U postgres -c 4 -j 2 -t 500 -n postgres >/tmp/pgbench.out 2>&1
  as_postgres "$bin/pg_ctl" -D /tmp/pg -m fast -w stop >/dev/null
  grep -q 'number of transactions actually processed: 2000' /tmp/pgbench.out
}

case "${1:-}" in
  prepare) prepare ;;
  python3-startup) python3_startup ;;
  git-status) git_status ;;
  git-log) git_log ;;
  make) make_c ;;
  sqlite) sqlite_inserts ;;
  redis) redis ;;
  pg-initdb) command -v setpriv >/dev/null && [ -n "$(pg_bin)" ] || { echo "moat-bench-missing postgresql"; exit 3; }; pg_initdb ;;
  pgbench) command -v setpriv >/dev/null && [ -n "$(pg_bin)" ] || { echo "moat-bench-missing postgresql"; exit 3; }; pgbench ;;
  *) echo "usage: workloads.sh prepare|python3-startup|git-status|git-log|make|sqlite|redis|pg-initdb|pgbench" >&2; exit 2 ;;
esac
