#!/usr/bin/env python3
"""orgraph (PostgreSQL and SQLite) against PostGraphile 5 on the same data, in one run.

Run through ./run.sh (it installs the npm packages and builds the Rust side first); see
docs/performance.md ("Side by side with PostGraphile"). Steps:

1. Generates the dataset twice with orgraph's own benchmark generator (`cargo bench --bench
   org_tree` with BENCH_KEEP_DB=1 and no scenario): once into a new PostgreSQL database, once into
   a SQLite file. Same seed (42), so the same tree, users and memberships; only the random ids
   differ, so targets are picked by department code and answers compared by username.
2. Creates a third PostgreSQL database with the plain schema (schema.sql) and copies the data of
   orgraph's PostgreSQL database into it (psql `COPY ... TO STDOUT` piped into `COPY ... FROM
   STDIN`), ids included, then builds its indexes (indexes.sql).
3. Starts the three servers: `target/release/orgraph` on each orgraph database and PostGraphile 5
   (server.mjs, Node 22 from npm's `node` package) on the plain one.
4. Checks each query's first page (usernames, in order) and count on every server against the
   plain database's SQL, then (holding BENCH_LOCK if set) runs each query against each server in
   turn with benches/http_load.rs (closed loop, every answer checked), REPEATS times, the order of
   the servers rotating between runs; samples each server's CPU (/proc/<pid>/stat), peak RSS, and
   the CPU of its PostgreSQL backends.
5. Prints a Markdown report (also written to target/pgl-bench/report.md, raw runs in runs.json)
   with the database sizes, and drops the databases (PGL_KEEP=1 keeps them).
"""

import fcntl
import json
import os
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
OUT = ROOT / "target" / "pgl-bench"
ADMIN = os.environ.get("PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
SECONDS = float(os.environ.get("SECONDS_PER_RUN", "10"))
REPEATS = int(os.environ.get("REPEATS", "3"))
PAGE_CONCURRENCY = [int(c) for c in os.environ.get("CONCURRENCY", "4,32").split(",")]
WARMUP = float(os.environ.get("WARMUP_SECONDS", "3"))
LIST_CONCURRENCY = int(os.environ.get("LIST_CONCURRENCY", "4"))
CASES_WANTED = os.environ.get("CASES", "a,b,c,d").split(",")
LOCK = os.environ.get("BENCH_LOCK")
KEEP = os.environ.get("PGL_KEEP") == "1"
REUSE = os.environ.get("PGL_REUSE") == "1"
POOL, SECRET = "benchpool", "bench-secret-0123456789"
TICK = os.sysconf("SC_CLK_TCK")


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def db_url(name):
    return ADMIN.rsplit("/", 1)[0] + "/" + name


def psql(url, sql, *extra):
    """One psql call; its output as text (unaligned, tuples only)."""
    return subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", url, *extra, "-c", sql],
                          check=True, capture_output=True, text=True).stdout.strip()


# ---------------------------------------------------------------- building

def cargo_executable(args, name):
    """Builds a cargo target and returns the path of executable `name` (cargo also lists others)."""
    out = subprocess.run(["cargo", *args, "--message-format=json-render-diagnostics"], cwd=ROOT, check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    exe = None
    for line in out.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg.get("executable") and msg["target"]["name"] == name:
            exe = msg["executable"]
    if not exe:
        raise SystemExit(f"cargo {' '.join(args)}: no executable")
    return exe


# ---------------------------------------------------------------- datasets

def generate(backend):
    """orgraph's benchmark generator into a kept database: (url or path, seconds, size line)."""
    env = dict(os.environ, BENCH_KEEP_DB="1", BENCH_SCENARIOS="none", BENCH_MOVES="0")
    env.pop("DATABASE_URL", None)
    if backend == "postgres":
        env["DATABASE_URL"] = ADMIN
    log(f"generating the dataset on {backend} (cargo bench --bench org_tree) ...")
    out = subprocess.run(["cargo", "bench", "--bench", "org_tree"], cwd=ROOT, env=env, check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    log(out.strip())
    kept = re.search(r"^kept database: (.+)$", out, re.M).group(1).strip()
    secs = float(re.search(r"generated in ([0-9.]+) s", out).group(1))
    return kept, secs


COPIES = [
    ("departments", "SELECT id, org_id, parent_id, code, name, created_at, updated_at FROM node"),
    ("department_closure", "SELECT ancestor_id, descendant_id, depth FROM node_closure"),
    ("users", "SELECT id, username, email, phone, name, nickname, photo, created_at, updated_at FROM users"),
    ("memberships", "SELECT node_id, user_id, is_main_department, joined_at FROM membership"),
]


def load_plain(src, name):
    """The plain schema in a new database, filled from orgraph's PostgreSQL database."""
    psql(ADMIN, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    psql(ADMIN, f"CREATE DATABASE {name}")
    dst = db_url(name)
    t = time.monotonic()
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", dst, "-f", str(HERE / "schema.sql")], check=True)
    for table, select in COPIES:
        out = subprocess.Popen(["psql", "-X", "-v", "ON_ERROR_STOP=1", src, "-c", f"\\copy ({select}) TO STDOUT"],
                               stdout=subprocess.PIPE)
        subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", dst, "-c", f"\\copy {table} FROM STDIN"],
                       stdin=out.stdout, check=True)
        if out.wait() != 0:
            raise SystemExit(f"copying {table} failed")
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", dst, "-f", str(HERE / "indexes.sql")], check=True)
    return dst, time.monotonic() - t


# ---------------------------------------------------------------- targets and expected answers

def pick_targets(orgraph_pg, users):
    """Department codes of the mid-level node (depth 2, subtree closest to 2% of the users) and
    the leaf (direct members closest to 26), as org_tree.rs picks them; the root by its parent."""
    mid = psql(orgraph_pg, f"SELECT code FROM node WHERE depth = 2 ORDER BY abs(subtree_member_count - {users // 50}), code LIMIT 1")
    leaf = psql(orgraph_pg, "SELECT n.code FROM node n WHERE NOT EXISTS (SELECT 1 FROM node c WHERE c.parent_id = n.id) "
                            "ORDER BY abs(n.member_count - 26), n.code LIMIT 1")
    return mid, leaf


def expected(plain, codes):
    """From the plain database's SQL: each target's id there, count and first page (usernames)."""
    root = psql(plain, "SELECT id FROM departments WHERE parent_id IS NULL")
    ids = {"root": root, "mid": psql(plain, f"SELECT id FROM departments WHERE code = '{codes[0]}'"),
           "leaf": psql(plain, f"SELECT id FROM departments WHERE code = '{codes[1]}'")}
    exp = {}
    for case, fn, target in [("a", "subtree_users", "root"), ("b", "subtree_users", "mid"), ("c", "direct_users", "leaf")]:
        count = int(psql(plain, f"SELECT count(*) FROM {fn}('{ids[target]}')"))
        page = psql(plain, f"SELECT username FROM {fn}('{ids[target]}') LIMIT 10").split("\n")
        exp[case] = {"count": count, "page": [p for p in page if p]}
    exp["d"] = {"count": int(psql(plain, "SELECT count(*) FROM departments"))}
    return ids, exp


def orgraph_ids(kind, where, codes):
    """The targets' ids in an orgraph database (PostgreSQL url or SQLite path)."""
    queries = [("root", "SELECT id FROM node WHERE parent_id IS NULL"),
               ("mid", f"SELECT id FROM node WHERE code = '{codes[0]}'"),
               ("leaf", f"SELECT id FROM node WHERE code = '{codes[1]}'"),
               ("org", "SELECT org_id FROM node WHERE parent_id IS NULL")]
    if kind == "postgres":
        return {k: psql(where, q) for k, q in queries}
    con = sqlite3.connect(f"file:{where}?mode=ro", uri=True)
    try:
        return {k: con.execute(q).fetchone()[0] for k, q in queries}
    finally:
        con.close()


# ---------------------------------------------------------------- servers

def post(url, body, token=None, timeout=120):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"content-type": "application/json"})
    if token:
        req.add_header("authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=timeout) as res:
        return json.loads(res.read())


class Server:
    def __init__(self, label, cmd, env, url, db=None):
        self.label, self.url, self.db, self.token = label, url, db, None
        self.log = open(OUT / f"{label.replace(' ', '-')}.log", "w")
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, probe):
        for _ in range(600):
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.label} exited; see {self.log.name}")
            try:
                probe(self)
                return
            except Exception:
                time.sleep(0.2)
        raise SystemExit(f"{self.label} did not start; see {self.log.name}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def rss_mib(self):
        return status_kib(self.proc.pid, "VmRSS") / 1024

    def cpu_ticks(self):
        return proc_ticks(self.proc.pid)


def status_kib(pid, field):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def proc_ticks(pid):
    """utime + stime of a process (all its threads), in clock ticks; 0 once it is gone."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError):
        return 0


def backend_ticks(db):
    """CPU ticks of the PostgreSQL backends connected to database `db`, by pid."""
    if not db:
        return {}
    pids = psql(ADMIN, f"SELECT pid FROM pg_stat_activity WHERE datname = '{db}' AND backend_type = 'client backend'")
    return {p: proc_ticks(p) for p in pids.split()}


# ---------------------------------------------------------------- queries

ORGRAPH_PAGE = ("query($id: String!) {{ nodeById(id: $id) {{ id users(page: 1, limit: 10{sub}) "
                "{{ totalCount list {{ id username email createdAt }} }} }} }}")
ORGRAPH_ORG = "query($id: String!) { org(id: $id) { id nodes { id name code depth path children } } }"
PGL_PAGE = "query($id: String!) {{ {fn}(departmentId: $id, first: 10) {{ totalCount nodes {{ rowId username email createdAt }} }} }}"
PGL_ORG = ("query($org: String!) { allDepartments(condition: { orgId: $org }) { nodes { rowId name code parentId "
           "departmentsByParentId { nodes { rowId } } } } }")

CASES = {
    "a": "root subtree members page + totalCount",
    "b": "mid subtree members page + totalCount",
    "c": "leaf, direct members page + totalCount",
    "d": "whole org listing",
}


def request(server, case, ids):
    """(body, checks for http_load, how to read (count, usernames) from an answer) of a case."""
    target = {"a": "root", "b": "mid", "c": "leaf"}.get(case)
    if server.kind == "orgraph":
        if case == "d":
            body = {"query": ORGRAPH_ORG, "variables": {"id": ids["org"]}}
            return body, lambda v: (len(v["data"]["org"]["nodes"]), None), "/data/org/nodes"
        body = {"query": ORGRAPH_PAGE.format(sub=", includeChildrenNodes: true" if case != "c" else ""),
                "variables": {"id": ids[target]}}
        read = lambda v: (v["data"]["nodeById"]["users"]["totalCount"], [u["username"] for u in v["data"]["nodeById"]["users"]["list"]])
        return body, read, "/data/nodeById/users"
    if case == "d":
        body = {"query": PGL_ORG, "variables": {"org": ids["org"]}}
        return body, lambda v: (len(v["data"]["allDepartments"]["nodes"]), None), "/data/allDepartments/nodes"
    fn = "directUsers" if case == "c" else "subtreeUsers"
    body = {"query": PGL_PAGE.format(fn=fn), "variables": {"id": ids[target]}}
    read = lambda v: (v["data"][fn]["totalCount"], [u["username"] for u in v["data"][fn]["nodes"]])
    return body, read, f"/data/{fn}"


def checks(server, case, exp):
    _, _, ptr = request(server, case, server.ids)
    if case == "d":
        return ["--expect-len", f"{ptr}={exp['d']['count']}"]
    lst = "list" if server.kind == "orgraph" else "nodes"
    return ["--expect", f"{ptr}/totalCount={exp[case]['count']}", "--expect-len", f"{ptr}/{lst}={len(exp[case]['page'])}"]


def verify(server, case, exp):
    body, read, _ = request(server, case, server.ids)
    v = post(server.url, body, server.token)
    if "errors" in v:
        raise SystemExit(f"{server.label} ({case}): {json.dumps(v)[:500]}")
    count, page = read(v)
    want = exp[case]
    if count != want["count"] or (page is not None and page != want["page"]):
        raise SystemExit(f"{server.label} ({case}): got {count} {page}, expected {want}")


# ---------------------------------------------------------------- load

def run_load(loader, server, case, conc, exp, seconds=SECONDS):
    body, _, _ = request(server, case, server.ids)
    cmd = [loader, "--url", server.url, "--body", json.dumps(body), "--seconds", str(seconds),
           "--concurrency", str(conc), *checks(server, case, exp)]
    if server.token:
        cmd += ["--bearer", server.token]
    peak, done = [server.rss_mib()], threading.Event()

    def sample():
        while not done.wait(0.1):
            peak.append(server.rss_mib())

    sampler = threading.Thread(target=sample)
    db_before, cpu_before = backend_ticks(server.db), server.cpu_ticks()
    sampler.start()
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
    done.set()
    sampler.join()
    cpu = server.cpu_ticks() - cpu_before
    db_after = backend_ticks(server.db)
    db_cpu = sum(t - db_before.get(p, 0) for p, t in db_after.items())
    r = json.loads(out.strip().splitlines()[-1])
    n = max(r["requests"], 1)
    r.update(server=server.label, case=case, concurrency=conc, cpu_ms=cpu * 1000 / TICK / n,
             db_cpu_ms=(db_cpu * 1000 / TICK / n) if server.db else None, peak_rss_mib=max(peak))
    return r


# ---------------------------------------------------------------- report

def spread(xs, fmt="{:,.0f}"):
    xs = [x for x in xs if x is not None]
    if not xs:
        return "—"
    lo, hi = min(xs), max(xs)
    return fmt.format(lo) if fmt.format(lo) == fmt.format(hi) else f"{fmt.format(lo)}–{fmt.format(hi)}"


def report(runs, servers, exp, sizes, meta):
    labels = [s.label for s in servers]
    lines = [f"# orgraph vs PostGraphile 5, {meta['date']}", "",
             f"Dataset: {meta['nodes']:,} departments, {meta['users']:,} users, {meta['memberships']:,} memberships "
             f"(seed 42). {REPEATS} repeats of {SECONDS:g} s per cell after a {WARMUP:g} s warm-up, servers in rotating order; each cell gives "
             f"the range over the repeats. `errors` sums every failed request (transport, HTTP, GraphQL errors, wrong "
             f"count or page length). CPU is the server process's (and its PostgreSQL backends') per request. "
             f"Load generator, servers and PostgreSQL share the machine's {os.cpu_count()} cores.", ""]
    lines += ["| query | c | " + " | ".join(labels) + " |", "|---|---|" + "---|" * len(labels)]
    combos = sorted({(r["case"], r["concurrency"]) for r in runs})
    for case, conc in combos:
        cells = []
        for label in labels:
            rs = [r for r in runs if r["case"] == case and r["concurrency"] == conc and r["server"] == label]
            cells.append(f"{spread([r['rps'] for r in rs], '{:,.1f}' if max(r['rps'] for r in rs) < 100 else '{:,.0f}')} req/s")
        what = CASES[case] + ("" if case == "d" else f" ({exp[case]['count']:,} users)")
        lines.append(f"| ({case}) {what} | {conc} | " + " | ".join(cells) + " |")
    lines += ["", "Details (ranges over the repeats):", "",
              "| query | c | server | req/s | p50 ms | p99 ms | errors | server CPU ms/req | PostgreSQL CPU ms/req | peak RSS MiB |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for case, conc in combos:
        for label in labels:
            rs = [r for r in runs if r["case"] == case and r["concurrency"] == conc and r["server"] == label]
            lines.append(f"| ({case}) | {conc} | {label} | {spread([r['rps'] for r in rs], '{:,.1f}')} | "
                         f"{spread([r['p50_ms'] for r in rs], '{:,.2f}')} | {spread([r['p99_ms'] for r in rs], '{:,.2f}')} | "
                         f"{sum(r['errors'] for r in rs)} | {spread([r['cpu_ms'] for r in rs], '{:,.2f}')} | "
                         f"{spread([r['db_cpu_ms'] for r in rs], '{:,.2f}')} | {spread([r['peak_rss_mib'] for r in rs], '{:,.0f}')} |")
    lines += ["", "Ratios of medians (req/s, orgraph ÷ PostGraphile):", "", "| query | c | " +
              " | ".join(l for l in labels if l != "PostGraphile 5") + " |", "|---|---|" + "---|" * (len(labels) - 1)]
    for case, conc in combos:
        med = {label: statistics.median([r["rps"] for r in runs if r["case"] == case and r["concurrency"] == conc and r["server"] == label])
               for label in labels}
        lines.append(f"| ({case}) | {conc} | " + " | ".join(f"{med[l] / med['PostGraphile 5']:.2f}×" if med["PostGraphile 5"] else "—"
                                                           for l in labels if l != "PostGraphile 5") + " |")
    lines += ["", "Storage and load:", "", "| database | size | load |", "|---|---|---|"]
    for name, (size, load) in sizes.items():
        lines.append(f"| {name} | {size / 1e6:,.0f} MB | {load:,.0f} s |")
    plain = sizes["plain schema (PostgreSQL)"][0]
    lines += ["", f"orgraph PostgreSQL ÷ plain: {sizes['orgraph PostgreSQL'][0] / plain:.2f}×; "
              f"orgraph SQLite ÷ plain: {sizes['orgraph SQLite'][0] / plain:.2f}×.", "",
              "Largest relations of orgraph's PostgreSQL database (table with its indexes):", ""]
    lines += [f"- {row}" for row in meta["largest"]]
    lines += ["", f"Servers: orgraph {meta['orgraph']} (release), PostGraphile {meta['postgraphile']} amber preset on Node "
              f"{meta['node']}; PostgreSQL {meta['postgres']}; machine: {os.cpu_count()} cores."]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- main

def main():
    OUT.mkdir(parents=True, exist_ok=True)
    subprocess.run(["cargo", "build", "--release", "--bin", "orgraph"], cwd=ROOT, check=True)
    orgraph_bin = str(ROOT / "target" / "release" / "orgraph")
    loader = cargo_executable(["bench", "--bench", "http_load", "--no-run"], "http_load")
    node_bin = str(HERE / "node_modules" / ".bin" / "node")
    users = int(os.environ.get("BENCH_USERS", "200000"))
    state_file = OUT / "datasets.json"

    if REUSE and state_file.exists():
        state = json.loads(state_file.read_text())
        log(f"reusing the datasets of {state_file}")
    else:
        pg, pg_secs = generate("postgres")
        lite, lite_secs = generate("sqlite")
        plain_name = "pgl_plain_" + pg.rsplit("_", 1)[1]
        plain, plain_secs = load_plain(pg, plain_name)
        state = {"pg": pg, "pg_secs": pg_secs, "lite": lite, "lite_secs": lite_secs, "plain": plain, "plain_secs": plain_secs}
        state_file.write_text(json.dumps(state))
    pg, lite, plain = state["pg"], state["lite"], state["plain"]

    codes = pick_targets(pg, users)
    plain_ids, exp = expected(plain, codes)
    plain_ids["org"] = psql(plain, "SELECT org_id FROM departments WHERE parent_id IS NULL")
    log(f"targets (codes mid, leaf): {codes}; expected: {json.dumps(exp)}")

    servers = []
    try:
        base_env = dict(os.environ, ORGRAPH_LOG="warn", ORGRAPH_BOOTSTRAP_POOL_ID=POOL, ORGRAPH_BOOTSTRAP_POOL_SECRET=SECRET)
        base_env.pop("DATABASE_URL", None)
        specs = [("orgraph PostgreSQL", "postgres", pg + "?sslmode=disable", 3911),
                 ("orgraph SQLite", "sqlite", f"sqlite://{lite}?mode=rwc", 3912)]
        for label, kind, url, port in specs:
            env = dict(base_env, DATABASE_URL=url, ORGRAPH_LISTEN=f"127.0.0.1:{port}")
            s = Server(label, [orgraph_bin], env, f"http://127.0.0.1:{port}/graphql/v2", db=pg.rsplit("/", 1)[1] if kind == "postgres" else None)
            s.kind, s.ids = "orgraph", orgraph_ids(kind, pg if kind == "postgres" else lite, codes)
            servers.append(s)
        s = Server("PostGraphile 5", [node_bin, str(HERE / "server.mjs"), plain, "3913"], dict(os.environ, NODE_ENV="production"),
                   "http://127.0.0.1:3913/graphql", db=plain.rsplit("/", 1)[1])
        s.kind, s.ids = "postgraphile", plain_ids
        servers.append(s)

        token_q = {"query": f'query {{ accessToken(userPoolId: "{POOL}", secret: "{SECRET}") {{ accessToken }} }}'}
        for s in servers:
            if s.kind == "orgraph":
                s.wait_ready(lambda s: setattr(s, "token", post(s.url, token_q)["data"]["accessToken"]["accessToken"]))
            else:
                s.wait_ready(lambda s: post(s.url, {"query": "{ __typename }"})["data"])
        log("servers ready: " + ", ".join(f"{s.label} (pid {s.proc.pid}, {s.rss_mib():.0f} MiB)" for s in servers))

        cases = [c for c in "abcd" if c in CASES_WANTED]
        for s in servers:
            for case in cases:
                verify(s, case, exp)
        log("every server gives the expected count and first page for " + ", ".join(cases))

        lock = open(LOCK, "a") if LOCK else None
        if lock:
            log(f"waiting for {LOCK} ...")
            fcntl.flock(lock, fcntl.LOCK_EX)
        runs = []
        try:
            combos = [(c, conc) for c in cases for conc in ([LIST_CONCURRENCY] if c == "d" else PAGE_CONCURRENCY)]
            # Warm-up, not reported: V8's JIT, PostgreSQL's plan caches and every cache get the
            # same chance before the first measured run.
            for case, conc in combos:
                for s in servers:
                    r = run_load(loader, s, case, conc, exp, WARMUP)
                    log(f"warm-up ({case}) c={conc} {s.label}: {r['rps']:.1f} req/s, errors {r['errors']}")
            for rep in range(REPEATS):
                for i, (case, conc) in enumerate(combos):
                    k = (rep + i) % len(servers)
                    for s in servers[k:] + servers[:k]:
                        r = run_load(loader, s, case, conc, exp)
                        r["repeat"] = rep + 1
                        runs.append(r)
                        log(f"repeat {rep + 1} ({case}) c={conc} {s.label}: {r['rps']:.1f} req/s, p50 {r['p50_ms'] or 0:.2f} ms, "
                            f"p99 {r['p99_ms'] or 0:.2f} ms, errors {r['errors']}, CPU {r['cpu_ms']:.2f} ms/req, RSS {r['peak_rss_mib']:.0f} MiB"
                            + (f" ({r['first_error']})" if r["first_error"] else ""))
                        (OUT / "runs.json").write_text(json.dumps(runs, indent=1))
            # Sizes after the load, under the same lock: nothing else writes meanwhile.
            try:  # orgraph checkpoints in the background anyway; this only trims what is left
                lite_conn = sqlite3.connect(lite)
                lite_conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                lite_conn.close()
            except sqlite3.Error as e:
                log(f"checkpoint: {e}")
            lite_size = sum(p.stat().st_size for p in Path(lite).parent.iterdir())
            sizes = {"orgraph PostgreSQL": (int(psql(pg, "SELECT pg_database_size(current_database())")), state["pg_secs"]),
                     "orgraph SQLite": (lite_size, state["lite_secs"]),
                     "plain schema (PostgreSQL)": (int(psql(plain, "SELECT pg_database_size(current_database())")), state["plain_secs"])}
        finally:
            if lock:
                lock.close()
        largest = psql(pg, "SELECT relname || ': ' || pg_size_pretty(pg_total_relation_size(oid)) FROM pg_class "
                           "WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace ORDER BY pg_total_relation_size(oid) DESC LIMIT 4").split("\n")
        meta = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "nodes": exp["d"]["count"], "users": users,
                "memberships": int(psql(plain, "SELECT count(*) FROM memberships")), "largest": largest,
                "orgraph": subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip(),
                "postgraphile": json.loads((HERE / "node_modules" / "postgraphile" / "package.json").read_text())["version"],
                "node": subprocess.run([node_bin, "--version"], capture_output=True, text=True).stdout.strip(),
                "postgres": psql(ADMIN, "SHOW server_version")}
        text = report(runs, servers, exp, sizes, meta)
        (OUT / "report.md").write_text(text)
        print(text)
    finally:
        for s in servers:
            s.stop()
        if not KEEP:
            for url in (state["pg"], state["plain"]):
                psql(ADMIN, f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)")
            shutil.rmtree(Path(state["lite"]).parent, ignore_errors=True)
            state_file.unlink(missing_ok=True)
        else:
            log(f"kept: {state} (PGL_REUSE=1 runs again on them)")


if __name__ == "__main__":
    main()
