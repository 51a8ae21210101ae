"""The scale-out set-up of tests/scale: one PostgreSQL, HAProxy balancing
round-robin (no stickiness) over several syncmlkit-httpd processes that
share it, all on 127.0.0.1 and free ports, all stopped at the end (and, should
the test process be killed, by the kernel: PR_SET_PDEATHSIG).

    cluster = Cluster(workdir, processes=3)
    cluster.start()
    cluster.url                       # HAProxy's frontend: what the clients sync with
    cluster.item_texts("user01", "contacts")   # the server's items, from PostgreSQL
    cluster.stop()

The processes run with `--state URL --store postgresql` when the binary
has these options (`cluster.postgres_mode`); without them (a build before
the PostgreSQL backend) the harness runs ONE process on its SQLite default
behind the same HAProxy, so that everything but the PostgreSQL parts can
be tried, and the tests skip what needs several processes.

PostgreSQL comes from tests/support/pg_cluster.py (`start DIR` prints a
conninfo URL, `stop DIR`): initdb into work/postgres as an unprivileged user
(`nobody` when run as root: PostgreSQL refuses root), 127.0.0.1 only, a free
port, durability off (a test cluster). $SMK_TEST_PG (a URL) or
$SMK_TEST_PG_FILE (a file holding one, as the ctest fixture `postgres`
writes it) name a running server instead.

The balancer's log (work/haproxy.log, one line a request, see LOG_FORMAT)
names the process each message went to; each process's own log
(work/httpd-N/httpd.log) has an access line for every message it served.
Both are read by requests_since() / served_counts() to prove that the
messages of one session went round the processes.

Environment (set by ctest, tests/scale/CMakeLists.txt):
    SMK_HTTPD         the syncmlkit-httpd binary
    SMK_CURLFIX       the client's LD_PRELOAD shim (tests/interop/README.md)
    SMK_SOURCE_DIR    the checkout (for tests/support/pg_cluster.py)
    SMK_SCALE_WORK    where logs and data go; wiped at the start, kept after
    SMK_TEST_PG       (optional) a PostgreSQL URL to use instead of starting one
    SMK_TEST_PG_FILE  (optional) a file holding such a URL
"""

import base64
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "interop"))
import interop_server  # noqa: E402
import items  # noqa: E402
import syncevo  # noqa: E402

STARTUP_TIMEOUT = 30     # seconds for PostgreSQL, HAProxy or a process to listen
HAPROXY = "/usr/sbin/haproxy"
PSQL = "/usr/bin/psql"

# One line per request in HAProxy's log: the marker, the server that got it
# (h1, h2, ... or <NOSRV>), the HTTP status, the reply's bytes, the total
# time in ms, the method and the URI with its session token (?s=...).
LOG_FORMAT = "SMK %s %ST %B %Ta %HM %HU"
LOG_LINE = re.compile(r"^SMK (\S+) (-?\d+) (\d+) (-?\d+) (\S+) (\S+)\s*$")


def free_port():
    return interop_server.free_port()


def wait_port(port, proc=None, timeout=STARTUP_TIMEOUT):
    """True once something listens on 127.0.0.1:port (False when proc died first)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.1)
    return False


# --------------------------------------------------------------------------
# PostgreSQL


class Postgres:
    """The test's PostgreSQL: $SMK_TEST_PG, $SMK_TEST_PG_FILE, or one started
    by tests/support/pg_cluster.py. `url` points at a database of the test's own."""

    def __init__(self, directory):
        self.dir = directory
        self.script = os.path.join(os.environ.get("SMK_SOURCE_DIR", os.path.join(HERE, "..", "..")),
                                   "tests", "support", "pg_cluster.py")
        self.started = False
        self.base_url = None
        self.url = None
        self.how = ""

    def start(self):
        if os.environ.get("SMK_TEST_PG"):
            self.base_url = os.environ["SMK_TEST_PG"]
            self.how = "SMK_TEST_PG"
        elif os.environ.get("SMK_TEST_PG_FILE"):
            with open(os.environ["SMK_TEST_PG_FILE"]) as f:
                self.base_url = f.read().strip()
            self.how = "SMK_TEST_PG_FILE"
        else:
            self.started = True  # stop() cleans up whatever part of it started
            r = subprocess.run([sys.executable, "-B", self.script, "start", self.dir], stdin=subprocess.DEVNULL,
                               capture_output=True, text=True, timeout=180)
            if r.returncode != 0 or not r.stdout.strip():
                raise RuntimeError("pg_cluster.py start failed:\n" + r.stdout + r.stderr)
            self.base_url = r.stdout.strip().splitlines()[-1]
            self.how = "tests/support/pg_cluster.py"
        # A database of our own, so that a shared server or a rerun never
        # meets another run's tables.
        name = "smk_scale_%s" % uuid.uuid4().hex[:12]
        self.psql(self.base_url, "CREATE DATABASE %s" % name)
        self.url = with_database(self.base_url, name)
        return self.url

    def stop(self):
        if self.started:
            subprocess.run([sys.executable, "-B", self.script, "stop", self.dir], stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=120)
            self.started = False

    @staticmethod
    def psql(url, sql):
        """Runs one statement; its rows as lists of fields (tab-separated, unaligned)."""
        r = subprocess.run([PSQL, url, "-X", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError("psql %r failed: %s" % (sql, r.stderr.strip()))
        return [line.split("\t") for line in r.stdout.splitlines() if line]

    def query(self, sql):
        return self.psql(self.url, sql)


def with_database(url, name):
    """The URL (postgresql://... or key=value conninfo) with another database."""
    if url.startswith(("postgresql://", "postgres://")):
        m = re.match(r"^(postgres(?:ql)?://[^/?]*)(/[^?]*)?(\?.*)?$", url)
        return m.group(1) + "/" + name + (m.group(3) or "")
    parts = [p for p in url.split() if not p.startswith("dbname=")]
    return " ".join(parts + ["dbname=" + name])


# --------------------------------------------------------------------------
# HAProxy


class HAProxy:
    """haproxy in the foreground (-db), mode http, round-robin, no stickiness,
    a health check (GET /) on every server, its log on its stdout."""

    def __init__(self, workdir, servers):
        self.workdir = workdir
        self.servers = servers            # [(name, port)]
        self.cfg_path = os.path.join(workdir, "haproxy.cfg")
        self.log_path = os.path.join(workdir, "haproxy.log")
        self.proc = None
        self.port = None

    @property
    def url(self):
        return "http://127.0.0.1:%d/sync" % self.port

    def config(self):
        lines = [
            "global",
            "    log stdout format raw local0",
            "    maxconn 2000",
            "defaults",
            "    mode http",
            "    log global",
            '    log-format "%s"' % LOG_FORMAT,
            "    timeout connect 2s",
            "    timeout client 300s",
            "    timeout server 300s",
            "    timeout http-request 60s",
            # A connection refused by a dead process is tried again on another
            # (the request was never sent: nothing is replayed).
            "    retries 3",
            "    option redispatch 1",
            "frontend sync",
            "    bind 127.0.0.1:%d" % self.port,
            "    default_backend httpd",
            "backend httpd",
            "    balance roundrobin",
            "    option httpchk GET /",
            "    default-server inter 500ms fall 2 rise 2",
        ]
        lines += ["    server %s 127.0.0.1:%d check" % s for s in self.servers]
        return "\n".join(lines) + "\n"

    def start(self):
        for _ in range(3):
            self.port = free_port()
            with open(self.cfg_path, "w") as f:
                f.write(self.config())
            with open(self.log_path, "ab") as log:
                self.proc = subprocess.Popen([HAPROXY, "-f", self.cfg_path, "-db"], stdin=subprocess.DEVNULL,
                                             stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                             preexec_fn=interop_server.die_with_parent)
            if wait_port(self.port, self.proc):
                return
            self.stop()
        raise RuntimeError("haproxy did not start:\n" + interop_server.tail(self.log_path))

    def stop(self):
        if self.proc and self.proc.poll() is None:
            syncevo.kill_group(self.proc, grace=5)
        self.proc = None

    def log_size(self):
        try:
            return os.path.getsize(self.log_path)
        except FileNotFoundError:
            return 0

    def requests_since(self, offset):
        """[(server, status, method, uri)] of the requests logged after byte
        `offset` of the log, in order (health checks are not logged)."""
        with open(self.log_path, "rb") as f:
            f.seek(offset)
            text = f.read().decode("utf-8", "replace")
        return parse_log(text)


def parse_log(text):
    found = []
    for line in text.splitlines():
        m = LOG_LINE.match(line)
        if m:
            found.append((m.group(1), int(m.group(2)), m.group(5), m.group(6)))
    return found


def session_token(uri):
    """The session token of a request URI (?s=...), or "" for a session's first message."""
    m = re.search(r"[?&]s=([^&]*)", uri)
    return m.group(1) if m else ""


def sessions_of(requests):
    """The requests of one client's syncs grouped by session: a message
    without a token opens a session, the messages with its token follow."""
    groups, token = [], None
    for r in requests:
        t = session_token(r[3]) or None
        if not t:
            groups.append([r])
        elif groups and token in (None, t):
            groups[-1].append(r)
        else:
            groups.append([r])
        token = t
    return groups


def round_robin_problems(requests, servers):
    """What breaks strict rotation in the requests of ONE client's sync
    (nobody else syncing meanwhile): two consecutive messages on one
    process, a process of `servers` left out, a message no process got."""
    problems = []
    names = [r[0] for r in requests]
    for i in range(1, len(names)):
        if names[i] == names[i - 1]:
            problems.append("messages %d and %d both went to %s" % (i, i + 1, names[i]))
    for i, r in enumerate(requests):
        if r[0] not in servers:
            problems.append("message %d went to %s (status %d)" % (i + 1, r[0], r[1]))
    if len(names) >= len(servers):
        missing = set(servers) - set(names)
        if missing:
            problems.append("%s got none of %d messages" % (", ".join(sorted(missing)), len(names)))
    return problems


# --------------------------------------------------------------------------
# syncmlkit-httpd processes


class Process(interop_server.Httpd):
    """One syncmlkit-httpd of the cluster; all share one users file's accounts.
    It can be killed (SIGKILL) and started again on its port."""

    def __init__(self, binary, workdir, name, args, accounts):
        super().__init__(binary, workdir, args=args)
        self.name = name
        self.accounts = accounts

    def launch(self):
        """Starts the process again on its port after a kill."""
        with open(self.log_path, "ab") as log:
            log.write(b"\n===== started again =====\n")
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            with open(self.log_path, "ab") as log:
                self.proc = subprocess.Popen(
                    [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--data", self.data_dir,
                     "--users", self.users_path, "--log-dir", self.message_dir] + self.args,
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                    preexec_fn=interop_server.die_with_parent)
            if self.wait_listening():
                return
            self.stop()
            if time.monotonic() > deadline:
                raise RuntimeError("%s did not start again:\n%s" % (self.name, self.log_tail()))
            time.sleep(0.5)

    def kill9(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    @property
    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def posts(self):
        """The access lines of the SyncML messages (POSTs) this process served."""
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return [l for l in f if re.match(r"^\S+ \S+ POST ", l)]
        except FileNotFoundError:
            return []

    def request_files(self):
        """The requests it received (its --log-dir), by name."""
        try:
            return sorted(n for n in os.listdir(self.message_dir) if n.endswith("-in.xml"))
        except FileNotFoundError:
            return []

    def reply_files(self):
        try:
            return sorted(n for n in os.listdir(self.message_dir) if n.endswith("-out.xml"))
        except FileNotFoundError:
            return []


def httpd_options(binary):
    """The long options the binary's --help lists."""
    r = subprocess.run([binary, "--help"], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    return set(re.findall(r"(--[a-z][a-z-]*)", r.stdout + r.stderr))


# The PostgreSQL store's items (lib/store/postgres_datastore.cpp): table and
# columns. The owner and category select one database.
PG_ITEMS_TABLE = "smk_store_items"
PG_DATA_COLUMN = "data"
PG_OWNER_COLUMN = "owner"
PG_CATEGORY_COLUMN = "category"


class Cluster:
    """PostgreSQL + HAProxy + `processes` syncmlkit-httpd. Offers what
    interop_server.SyncChecks asks of its server: url, item_texts(),
    log_tail(), new_account()."""

    def __init__(self, workdir, processes=3, args=()):
        self.workdir = workdir
        self.binary = os.environ.get("SMK_HTTPD", "")
        if not os.access(self.binary, os.X_OK):
            raise RuntimeError("set SMK_HTTPD to the syncmlkit-httpd binary (ctest does), got %r" % self.binary)
        options = httpd_options(self.binary)
        self.postgres_mode = "--state" in options and "--store" in options
        self.wanted = processes
        self.args = list(args)
        self.pg = Postgres(os.path.join(workdir, "postgres"))
        self.processes = []
        self.haproxy = None
        self.next_account = 0
        self.accounts = [("user%02d" % n, "pw-%02d-%s" % (n, uuid.uuid4().hex[:8]))
                         for n in range(1, interop_server.ACCOUNTS + 1)]

    # -- start and stop ----------------------------------------------------

    def start(self):
        self.pg.start()
        count = self.wanted if self.postgres_mode else 1
        args = self.args + (["--state", self.pg.url, "--store", "postgresql"] if self.postgres_mode else [])
        for n in range(1, count + 1):
            p = Process(self.binary, os.path.join(self.workdir, "httpd-%d" % n), "h%d" % n, args, self.accounts)
            self.processes.append(p)
            p.start()
        self.haproxy = HAProxy(self.workdir, [(p.name, p.port) for p in self.processes])
        self.haproxy.start()
        self.wait_all_up()

    def stop(self):
        """Stops everything that runs, whatever failed; raises the first error at the end."""
        errors = []
        for part in [self.haproxy] + self.processes + [self.pg]:
            if part is None:
                continue
            try:
                part.stop()
            except Exception as e:  # noqa: BLE001 - stop the rest first
                errors.append("%s: %s" % (type(part).__name__, e))
        reports = [r for p in self.processes for r in p.sanitizer_reports()]
        print("\nscale work dir (logs, data): %s" % self.workdir, file=sys.stderr)
        if errors:
            raise RuntimeError("; ".join(errors))
        if reports:
            raise AssertionError("a process's log has sanitizer reports:\n" + "\n".join(reports[:20]))

    def wait_all_up(self, timeout=15):
        """Until HAProxy's health checks see every live process up (its log
        says "is UP" after a restart; at the start every server is up)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(p.alive for p in self.processes):
                return True
            time.sleep(0.2)
        return False

    def wait_marked(self, name, state, timeout=15):
        """Until HAProxy's log says server `name` is `state` ("UP", "DOWN")."""
        pattern = re.compile(r"Server httpd/%s is %s" % (re.escape(name), state))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(self.haproxy.log_path, encoding="utf-8", errors="replace") as f:
                # The last verdict about this server counts.
                verdicts = re.findall(r"Server httpd/%s is (UP|DOWN)" % re.escape(name), f.read())
            if verdicts and pattern.match("Server httpd/%s is %s" % (name, verdicts[-1])):
                return True
            time.sleep(0.2)
        return False

    # -- what SyncChecks uses ----------------------------------------------

    @property
    def url(self):
        return self.haproxy.url

    def new_account(self):
        account = self.accounts[self.next_account]
        self.next_account += 1
        return account

    def item_texts(self, owner, category):
        """The server's items of one database: from PostgreSQL, or from the
        one process's SQLite file."""
        if not self.postgres_mode:
            return items.server_item_texts(self.processes[0].database_path(owner, category))
        # base64 without its line breaks: one item a line of psql's output.
        rows = self.pg.query("SELECT translate(encode(%s, 'base64'), E'\\n', '') FROM %s"
                             " WHERE %s = '\\x%s'::bytea AND %s = '%s'" % (
            PG_DATA_COLUMN, PG_ITEMS_TABLE, PG_OWNER_COLUMN, owner.encode().hex(), PG_CATEGORY_COLUMN, category))
        return [base64.b64decode(r[0]).decode("utf-8") for r in rows]

    def mapping_counts(self, owner, category, device):
        """The server's side of one device's pairing, from PostgreSQL
        (smk_client_items, lib/state/postgres): {"items": items of the
        database, "mapped": the device's mapped GUIDs, "unmapped": items the
        device has no mapping for, "dangling": mappings of GUIDs that are no
        item, "luid twice": LUIDs mapped to more than one GUID}; None without
        PostgreSQL."""
        if not self.postgres_mode:
            return None
        where = "owner = '\\x%s'::bytea AND category = '%s'" % (owner.encode().hex(), category)
        dev = "device = '\\x%s'::bytea" % device.encode().hex()
        sql = ("SELECT (SELECT count(*) FROM {items} WHERE {w}),"
               " (SELECT count(*) FROM smk_client_items WHERE {w} AND {d}),"
               " (SELECT count(*) FROM {items} i WHERE {wi} AND NOT EXISTS (SELECT 1 FROM smk_client_items m"
               "   WHERE m.owner = i.owner AND m.category = i.category AND {dm} AND m.guid = i.guid)),"
               " (SELECT count(*) FROM smk_client_items m WHERE {wm} AND {dm} AND NOT EXISTS (SELECT 1 FROM {items} i"
               "   WHERE i.owner = m.owner AND i.category = m.category AND i.guid = m.guid)),"
               " (SELECT count(*) FROM (SELECT luid FROM smk_client_items WHERE {w} AND {d}"
               "   GROUP BY luid HAVING count(*) > 1) t)").format(
            items=PG_ITEMS_TABLE, w=where, d=dev, wi=where.replace("owner", "i.owner").replace("category", "i.category"),
            wm=where.replace("owner", "m.owner").replace("category", "m.category"), dm="m." + dev)
        row = self.pg.query(sql)[0]
        return dict(zip(("items", "mapped", "unmapped", "dangling", "luid twice"), (int(v) for v in row)))

    def log_tail(self, lines=40):
        parts = []
        for p in self.processes:
            parts.append("--- %s (%s):\n%s" % (p.name, p.log_path, p.log_tail(lines)))
        if self.haproxy:
            parts.append("--- haproxy (%s):\n%s" % (self.haproxy.log_path, interop_server.tail(self.haproxy.log_path, lines)))
        return "\n".join(parts)

    # -- the balancing -----------------------------------------------------

    def server_names(self):
        return [p.name for p in self.processes]

    def process(self, name):
        return next(p for p in self.processes if p.name == name)


def prepare_work_dir():
    """$SMK_SCALE_WORK (or a new temporary dir), emptied; checks $SMK_CURLFIX."""
    work = os.environ.get("SMK_SCALE_WORK") or tempfile.mkdtemp(prefix="smk-scale-")
    # A server a killed run left behind in it is stopped first.
    if os.path.isdir(os.path.join(work, "postgres", "data")):
        leftover = Postgres(os.path.join(work, "postgres"))
        leftover.started = True
        leftover.stop()
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    os.chmod(work, 0o755)
    curlfix = os.environ.get("SMK_CURLFIX", "")
    if not os.path.isfile(curlfix):
        raise RuntimeError("set SMK_CURLFIX to the built libsmk_curlfix.so (ctest does), got %r" % curlfix)
    return work
