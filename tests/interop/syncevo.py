"""Runs ONE sync of Debian 12's SyncEvolution 2.0.0 client, headless.

    from syncevo import SyncRun, run_sync
    result = run_sync(SyncRun(url=..., user="alice", password="pw",
                              remote_db="contacts", local_dir="/tmp/c",
                              kind="contacts", mode="slow",
                              state_dir="/tmp/state-a", curlfix=".../libsmk_curlfix.so"))
    result.ok, result.status, result.session_dir, result.log_tail()

Command line (the password comes from $SMK_SYNC_PASSWORD, never argv):

    SMK_SYNC_PASSWORD=pw /usr/bin/python3 syncevo.py --url http://127.0.0.1:7887/sync \
        --user alice --remote-db contacts --dir ./c --type contacts --mode two-way \
        --state ./state-a --curlfix build/tools/libsmk_curlfix.so

How the client is driven, and why (see README.md here for the whole list):
- `syncevolution --daemon=no`: no D-Bus service, the sync runs in this process
  tree, so a timeout can kill all of it (its own process group).
- HOME and the XDG dirs point into the state dir: the client's config, its
  anchors and change tracking live there and nowhere else. Reusing a state dir
  makes the next sync incremental; a new one makes it a first (slow) sync.
- The peer config uses the file backend: every file in the local dir is one
  item, its name the LUID, and the client writes received items there.
- LD_PRELOAD of the curlfix shim: without it the client crashes (SIGSEGV) on
  its first HTTP POST.
- preventSlowSync=0: otherwise a first sync with local items is refused.
- enableRefreshSync=1: otherwise one-way-from-server is alerted as 200 and
  refresh-from-server as a local wipe plus 201; with it they are 204 and 205.
- The password is stored as ${SMK_SYNC_PASSWORD} and read from the client's
  environment at sync time, so it appears on no command line and in no file.
"""

import argparse
import dataclasses
import html
import os
import re
import signal
import subprocess
import sys
import time

# Our mode names -> SyncEvolution's ("local" is the client, "remote" the server).
MODES = {
    "two-way": "two-way",
    "slow": "slow",
    "refresh-from-client": "refresh-from-local",
    "refresh-from-server": "refresh-from-remote",
    "one-way-from-client": "one-way-from-local",
    "one-way-from-server": "one-way-from-remote",
}
# The alert code each mode is sent with (a first two-way sync becomes 201).
ALERT_CODES = {"two-way": 200, "slow": 201, "one-way-from-client": 202,
               "refresh-from-client": 203, "one-way-from-server": 204, "refresh-from-server": 205}
FORMATS = {"contacts": "text/vcard", "calendar": "text/calendar", "tasks": "text/calendar", "notes": "text/plain"}
PEER = "smk"  # the client's name for the server
PASSWORD_VAR = "SMK_SYNC_PASSWORD"
STATUS_TIMEOUT = 124  # as timeout(1) reports it
SYNCEVOLUTION = "/usr/bin/syncevolution"


@dataclasses.dataclass
class SyncRun:
    url: str
    user: str
    password: str
    remote_db: str          # the Alert's Target: "contacts", "bob/contacts", ...
    local_dir: str          # one item per file; the client writes here too
    kind: str               # contacts | calendar | tasks | notes
    state_dir: str          # reuse for incremental syncs
    curlfix: str            # path of the LD_PRELOAD shim
    mode: str = "two-way"
    encoding: str = "wbxml"  # wbxml | xml
    auth: str = "md5"       # md5 | basic
    max_msg_size: int = 0   # 0 = SyncEvolution's default (150000)
    max_obj_size: int = 0   # 0 = SyncEvolution's default (4000000)
    device_id: str = "smk-interop-client"
    timeout: float = 300.0  # seconds for the whole sync
    loglevel: int = 5       # 5 = debug log plus every raw message in the session dir
    extra: tuple = ()       # more SyncEvolution properties, "name=value"


@dataclasses.dataclass
class SyncResult:
    status: int             # the client's exit status; 124 on timeout, -N killed by signal N
    session_dir: str        # "" when the client made none
    output: str             # the client's stdout and stderr
    timed_out: bool = False

    @property
    def ok(self):
        return self.status == 0

    def session_status(self):
        """The session's status.ini as a dict, e.g. {"status": "200",
        "source-contacts-mode": "two-way", "source-contacts-first": "false"}
        ("first" is true when the datastore had a slow or refresh sync)."""
        values = {}
        path = os.path.join(self.session_dir, "status.ini") if self.session_dir else ""
        if path and os.path.exists(path):
            with open(path, encoding="utf-8", errors="replace") as f:
                for line in f:
                    name, eq, value = line.partition("=")
                    if eq:
                        values[name.strip()] = value.strip()
        return values

    def message_texts(self, direction):
        """The engine's XML translation of every message of one direction,
        "outgoing" (client to server) or "incoming", in order. The engine
        writes them (*_trmNNN_*.xml) in either encoding at loglevel 5 (the
        default here)."""
        if not self.session_dir:
            return []
        # Named *_trm<MsgID>_<sequence>_<direction>.xml; the sequence orders
        # them even when the client restarts a session at MsgID 1.
        files = {}
        for name in os.listdir(self.session_dir):
            m = re.search(r"_trm\d+_(\d+)_%s\.xml$" % direction, name)
            if m:
                files[int(m.group(1))] = name
        texts = []
        for _, name in sorted(files.items()):
            with open(os.path.join(self.session_dir, name), encoding="utf-8", errors="replace") as f:
                texts.append(f.read())
        return texts

    def alert_codes(self, direction="outgoing"):
        """The sync alert codes (200-210) in the messages of one direction, in order."""
        codes = []
        for text in self.message_texts(direction):
            for code in re.findall(r"<Alert>.*?<Data>\s*(\d+)\s*</Data>", text, re.S):
                if 200 <= int(code) <= 210:
                    codes.append(int(code))
        return codes

    def log_tail(self, lines=60):
        """The end of the client's output and of its session log, for CI logs."""
        parts = ["--- syncevolution exit status %d%s" % (self.status, " (timed out)" if self.timed_out else "")]
        parts += ["--- its output (last %d lines):" % lines] + self.output.splitlines()[-lines:]
        log = os.path.join(self.session_dir, "syncevolution-log.html") if self.session_dir else ""
        if log and os.path.exists(log):
            text = html_log_text(log)
            # The debug log runs to thousands of lines; its warnings and
            # errors usually say what went wrong, wherever they are.
            problems = [l for l in text if re.search(r"ERROR|WARNING|[Ff]ailed|[Aa]bort", l)]
            parts += ["--- warnings and errors in %s (first %d):" % (log, lines // 2)] + problems[:lines // 2]
            parts += ["--- its last %d lines:" % (lines // 2)] + text[-(lines // 2):]
        return "\n".join(parts)


def html_log_text(path):
    """The text lines of SyncEvolution's HTML session log."""
    with open(path, encoding="utf-8", errors="replace") as f:
        text = re.sub(r"<[^>]*>", "", f.read())
    return [html.unescape(line) for line in text.splitlines() if line.strip()]


def client_env(state_dir, password, curlfix=None):
    """An environment that confines the client to `state_dir`.

    DBUS_SESSION_BUS_ADDRESS and DISPLAY are removed so the client neither
    talks to a desktop session nor asks a keyring for the password."""
    home = os.path.join(state_dir, "home")
    env = {k: v for k, v in os.environ.items()
           if k not in ("DBUS_SESSION_BUS_ADDRESS", "DISPLAY", "SESSION_MANAGER", "LD_PRELOAD")}
    env.update(HOME=home,
               XDG_CONFIG_HOME=os.path.join(home, ".config"),
               XDG_CACHE_HOME=os.path.join(home, ".cache"),
               XDG_DATA_HOME=os.path.join(home, ".local", "share"),
               XDG_RUNTIME_DIR=os.path.join(home, "run"),
               LC_ALL="C.UTF-8")
    env[PASSWORD_VAR] = password
    if curlfix:
        env["LD_PRELOAD"] = curlfix
    return env


def config_properties(run):
    """The peer and datastore properties of one run (see the module's doc)."""
    ds = run.kind
    props = [
        "keyring=no",
        "syncURL=" + run.url,
        "username=" + run.user,
        "password=${%s}" % PASSWORD_VAR,
        "deviceId=" + run.device_id,
        "clientAuthType=" + run.auth,
        "enableWBXML=%d" % (run.encoding == "wbxml"),
        "preventSlowSync=0",
        "enableRefreshSync=1",
        "logdir=" + os.path.join(run.state_dir, "logs"),
        "maxlogdirs=100",
        "loglevel=%d" % run.loglevel,
        # Debian ships no synccompare, so change reports only add noise, and
        # the before/after data backups are not needed: the tests compare.
        "printChanges=0",
        "dumpData=0",
        # Give up on a silent server well inside the harness's own timeout.
        "RetryInterval=%d" % max(5, int(run.timeout / 8)),
        "RetryDuration=%d" % max(10, int(run.timeout / 2)),
        "%s/backend=file" % ds,
        "%s/databaseFormat=%s" % (ds, FORMATS[run.kind]),
        "%s/database=file://%s" % (ds, os.path.abspath(run.local_dir)),
        "%s/uri=%s" % (ds, run.remote_db),
        "%s/sync=two-way" % ds,
    ]
    if run.max_msg_size:
        props.append("maxMsgSize=%d" % run.max_msg_size)
    if run.max_obj_size:
        props.append("maxObjSize=%d" % run.max_obj_size)
    return props + list(run.extra)


def check(run):
    if run.mode not in MODES:
        raise ValueError("mode must be one of %s, not %r" % (", ".join(MODES), run.mode))
    if run.kind not in FORMATS:
        raise ValueError("type must be one of %s, not %r" % (", ".join(FORMATS), run.kind))
    if run.encoding not in ("xml", "wbxml"):
        raise ValueError("encoding must be xml or wbxml, not %r" % run.encoding)
    if run.auth not in ("md5", "basic"):
        raise ValueError("auth must be md5 or basic, not %r" % run.auth)
    if not os.path.isfile(run.curlfix):
        raise FileNotFoundError("curlfix shim not found: %r (build the project first)" % run.curlfix)
    if not os.access(SYNCEVOLUTION, os.X_OK):
        raise FileNotFoundError("%s missing: run scripts/install-deps.sh" % SYNCEVOLUTION)


def run_bounded(argv, env, timeout, on_start=None):
    """Runs argv in a process group of its own, killed whole on timeout.
    on_start, if given, is called with the Popen right after the start
    (a test that kills the client mid-sync keeps it).

    Returns (status, output, timed_out)."""
    proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    if on_start:
        on_start(proc)
    try:
        out, _ = proc.communicate(timeout=timeout)
        return proc.returncode, out.decode("utf-8", "replace"), False
    except subprocess.TimeoutExpired:
        kill_group(proc)
        # Every process of the group is gone, so the pipe is at its end.
        out, _ = proc.communicate()
        return STATUS_TIMEOUT, out.decode("utf-8", "replace"), True


def kill_group(proc, grace=5.0):
    """Stops proc and everything it started: SIGTERM to its process group,
    up to `grace` seconds for the leader to exit, then SIGKILL to whatever
    is left of the group."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break  # the group is empty
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    proc.wait()


def session_dirs(logdir):
    try:
        return {d for d in os.listdir(logdir) if os.path.isdir(os.path.join(logdir, d))}
    except FileNotFoundError:
        return set()


def newest(logdir, names):
    if not names:
        return ""
    return os.path.join(logdir, max(names, key=lambda d: os.path.getmtime(os.path.join(logdir, d))))


def run_sync(run, on_start=None):
    """Configures the peer in run.state_dir and runs one sync. Never raises
    for a failed sync: look at result.ok. on_start(Popen) is called when the
    sync's process starts (not the configure step's): its process group is
    the client's whole process tree."""
    check(run)
    os.makedirs(run.local_dir, exist_ok=True)
    logdir = os.path.join(run.state_dir, "logs")
    os.makedirs(logdir, exist_ok=True)
    os.makedirs(os.path.join(run.state_dir, "home", "run"), mode=0o700, exist_ok=True)
    started = time.monotonic()

    # Configuring again on every run is cheap and keeps anchors and change
    # tracking: only the properties given change.
    env = client_env(run.state_dir, run.password)
    configure = [SYNCEVOLUTION, "--daemon=no", "--configure", "--template", "none"] + \
        config_properties(run) + [PEER, run.kind]
    status, out, timed_out = run_bounded(configure, env, run.timeout)
    if status != 0:
        return SyncResult(status, "", "configure failed:\n" + out, timed_out)

    before = session_dirs(logdir)
    env = client_env(run.state_dir, run.password, os.path.abspath(run.curlfix))
    sync = [SYNCEVOLUTION, "--daemon=no", "--run", "--sync", MODES[run.mode], PEER, run.kind]
    left = max(1.0, run.timeout - (time.monotonic() - started))
    status, out, timed_out = run_bounded(sync, env, left, on_start)
    new = session_dirs(logdir) - before
    return SyncResult(status, newest(logdir, new), out, timed_out)


def write_item(path, text):
    """Writes an item file so that the file backend sees the change.

    The backend's revision of an item is its mtime in whole seconds. A file
    rewritten within the same second as its previous mtime keeps its
    revision and the change is never sent, so in that one case this waits
    for the next second. New files need no wait: a new name is a new item."""
    if os.path.exists(path):
        old = int(os.stat(path).st_mtime)
        while int(time.time()) <= old:
            time.sleep(int(time.time()) + 1 - time.time() + 0.01)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Run one SyncEvolution client sync. "
                                 "The password is read from $%s." % PASSWORD_VAR)
    ap.add_argument("--url", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--remote-db", required=True, help='e.g. contacts, "bob/contacts"')
    ap.add_argument("--dir", required=True, help="local item directory")
    ap.add_argument("--type", required=True, choices=sorted(FORMATS))
    ap.add_argument("--mode", default="two-way", choices=list(MODES))
    ap.add_argument("--encoding", default="wbxml", choices=["wbxml", "xml"])
    ap.add_argument("--auth", default="md5", choices=["md5", "basic"])
    ap.add_argument("--max-msg-size", type=int, default=0)
    ap.add_argument("--max-obj-size", type=int, default=0)
    ap.add_argument("--device-id", default="smk-interop-client")
    ap.add_argument("--state", required=True, help="client state dir; reuse it for incremental syncs")
    ap.add_argument("--timeout", type=float, default=300.0)
    ap.add_argument("--loglevel", type=int, default=5)
    ap.add_argument("--curlfix", default=os.environ.get("SMK_CURLFIX", ""),
                    help="path of libsmk_curlfix.so (default $SMK_CURLFIX)")
    ap.add_argument("--set", action="append", default=[], metavar="PROP=VALUE",
                    help="any other SyncEvolution property (repeatable)")
    args = ap.parse_args(argv)
    if PASSWORD_VAR not in os.environ:
        ap.error("set $%s to the password" % PASSWORD_VAR)
    run = SyncRun(url=args.url, user=args.user, password=os.environ[PASSWORD_VAR],
                  remote_db=args.remote_db, local_dir=args.dir, kind=args.type,
                  state_dir=os.path.abspath(args.state), curlfix=args.curlfix, mode=args.mode,
                  encoding=args.encoding, auth=args.auth, max_msg_size=args.max_msg_size,
                  max_obj_size=args.max_obj_size, device_id=args.device_id,
                  timeout=args.timeout, loglevel=args.loglevel, extra=tuple(args.set))
    try:
        result = run_sync(run)
    except (ValueError, FileNotFoundError) as e:
        print("syncevo.py: %s" % e, file=sys.stderr)
        return 2
    print(result.output, end="" if result.output.endswith("\n") else "\n")
    if not result.ok:
        print(result.log_tail(), file=sys.stderr)
    print("EXIT_STATUS=%d" % result.status)
    print("SESSION_DIR=%s" % result.session_dir)
    return result.status if 0 <= result.status < 256 else 1


if __name__ == "__main__":
    sys.exit(main())
