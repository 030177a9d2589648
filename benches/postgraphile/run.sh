#!/usr/bin/env bash
# orgraph (PostgreSQL and SQLite) against PostGraphile 5 on the same generated data, in one run:
# see compare.py for the steps and docs/performance.md for the knobs. Needs cargo, npm,
# psql and a PostgreSQL reachable at PG_ADMIN_URL (default postgres://postgres@127.0.0.1:5432/postgres).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
# PostGraphile 5 needs Node >= 22: npm's `node` package (pinned in package-lock.json) brings one.
[ -x node_modules/.bin/node ] || npm ci --no-audit --no-fund
exec python3 "$here/compare.py" "$@"
