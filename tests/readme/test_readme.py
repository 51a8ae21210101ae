#!/usr/bin/env python3
"""The README's commands, run as written.

Reads README.md, starts the server with the README's run command
(./scripts/run.sh, from the checkout), and runs every ```sh block of the
README in order, in one bash, in a fresh temporary directory with a fresh
HOME, as a newcomer pasting them into a second terminal would. A README
edit that breaks a command fails this test.

What the test fills in, and nothing else:
- the run command gets `--port P --data TMP/data` (a free port; a data
  folder of the test's own), options the README says may follow it;
- the lines `SMK=...`, `DATA=...` and `PASSWORD=...` that the README asks
  the reader to set from the run command's output get the values printed
  by this run (checkout, data folder, demo password);
- `127.0.0.1:7887` becomes the run command's printed address;
- a block marked as a server (it starts a second syncmlkit-httpd) gets
  `--bind 127.0.0.1` for `--bind 0.0.0.0` and a second free port for
  `--port 7887`: tests serve loopback only.

Each ```sh block is preceded by nothing (run it), or by a marker comment
`<!-- readme-test: KIND (reason) -->`: `run-command` (the one that starts
the server), `server` (run in the background until it listens, stopped at
the end), `skip` (with the reason; e.g. the test command itself). A block
of another language is not run.

Then the outcome is counted, not eyeballed: one contact on each client,
the phone's change on the laptop, the snapshot listed and restored, the
tools' output, the second server's users, grants, directory and TLS.

Needs root (the README's commands are run as root: apt-get); exits with 77
(skipped) otherwise. Environment: SMK_SOURCE_DIR (the checkout), SMK_WORK
(a folder for this test's files, wiped first).
"""
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.request

SKIP = 77
SOURCE = os.path.abspath(os.environ.get("SMK_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", "..")))
WORK = os.path.abspath(os.environ.get("SMK_WORK", "/tmp/smk-readme-test"))
# The run command compiles a Release build the first time (minutes on two
# cores without ccache); every wait below is bounded.
BUILD_TIMEOUT = float(os.environ.get("SMK_README_BUILD_TIMEOUT", "1800"))
BLOCKS_TIMEOUT = 600

MARKER = re.compile(r"^<!-- readme-test: (run-command|server|skip)\b(.*)-->\s*$")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sh_blocks(text):
    """[(line number, kind, reason, code)] of the README's ```sh blocks."""
    lines = text.splitlines()
    blocks = []
    i = 0
    while i < len(lines):
        if lines[i].strip() == "```sh":
            start = i + 1
            end = start
            while end < len(lines) and lines[end].strip() != "```":
                end += 1
            if end == len(lines):
                raise ValueError("README.md:%d: ```sh block never closed" % (i + 1))
            kind, reason = "run", ""
            if i > 0:
                m = MARKER.match(lines[i - 1].strip())
                if m:
                    kind, reason = m.group(1), m.group(2).strip()
            blocks.append((i + 1, kind, reason, "\n".join(lines[start:end]) + "\n"))
            i = end + 1
        else:
            i += 1
    return blocks


class Output:
    """A process's stdout and stderr, collected line by line in a thread."""

    def __init__(self, stream):
        self.lines = []
        self.cond = threading.Condition()
        self.done = False
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream):
        for raw in iter(stream.readline, b""):
            with self.cond:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.done = True
            self.cond.notify_all()

    def wait_for(self, pattern, timeout):
        """The first match of `pattern` in a line, waiting up to `timeout`."""
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        with self.cond:
            while True:
                for line in self.lines:
                    m = rx.search(line)
                    if m:
                        return m
                left = deadline - time.monotonic()
                if self.done or left <= 0:
                    return None
                self.cond.wait(min(left, 1.0))

    def wait_done(self, timeout):
        """Waits until the stream ended (the process and its children closed it)."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while not self.done and time.monotonic() < deadline:
                self.cond.wait(0.2)

    def text(self):
        with self.cond:
            return "\n".join(self.lines)


def group_alive(pgid):
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def stop_group(proc):
    """Stops the process and everything in its process group, also when the
    leader has exited already (a server the README started in the
    background outlives the shell that started it)."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        pass
    deadline = time.monotonic() + 20
    while group_alive(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if group_alive(proc.pid):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def fail(message, *outputs):
    print("FAIL: " + message)
    for name, text in outputs:
        print("----- %s -----\n%s" % (name, text[-20000:]))
    sys.exit(1)


def fill_in(code, kind, values, server_port):
    """The block as the README reader would have it after filling in the values."""
    out = []
    for line in code.splitlines():
        for var in ("SMK", "DATA", "PASSWORD"):
            m = re.match(r"^%s=\S+(.*)$" % var, line)
            if m:
                line = "%s=%s%s" % (var, values[var], m.group(1))
        line = line.replace("http://127.0.0.1:7887/", values["URL"])
        if kind == "server":
            line = line.replace("--bind 0.0.0.0", "--bind 127.0.0.1").replace("--port 7887", "--port %d" % server_port)
        if "7887" in line:
            raise ValueError("a README command names port 7887 in a way the test cannot fill in: %r" % line)
        out.append(line)
    return "\n".join(out) + "\n"


def main():
    if os.geteuid() != 0:
        print("skipped: the README's commands are written for root (apt-get)")
        return SKIP
    with open(os.path.join(SOURCE, "README.md"), encoding="utf-8") as f:
        blocks = sh_blocks(f.read())
    run_blocks = [b for b in blocks if b[1] == "run-command"]
    if len(run_blocks) != 1:
        fail("README.md must have exactly one block marked run-command, has %d" % len(run_blocks))
    for line, kind, reason, _ in blocks:
        if kind == "skip" and not reason:
            fail("README.md:%d: a skipped block must say why" % line)
    commands = [l for l in run_blocks[0][3].splitlines() if l.strip() and not l.lstrip().startswith("#")]
    if commands != ["./scripts/run.sh"]:
        fail("the run-command block should be ./scripts/run.sh alone, is %r" % commands)

    shutil.rmtree(WORK, ignore_errors=True)
    home = os.path.join(WORK, "home")
    here = os.path.join(WORK, "here")
    data = os.path.join(WORK, "data")
    os.makedirs(home)
    os.makedirs(here)
    port = free_port()

    # The run command, from the checkout, as the README says.
    env = {k: v for k, v in os.environ.items()
           if k not in ("DBUS_SESSION_BUS_ADDRESS", "DISPLAY", "LD_PRELOAD") and not k.startswith("XDG_")}
    env["HOME"] = home
    server = subprocess.Popen(["./scripts/run.sh", "--port", str(port), "--data", data], cwd=SOURCE, env=env,
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              start_new_session=True)
    server_out = Output(server.stdout)
    driver = None
    try:
        if not server_out.wait_for(r"^  remote names ", BUILD_TIMEOUT):
            fail("the run command did not print the client settings", ("run.sh", server_out.text()))
        text = server_out.text()

        def printed(pattern, what):
            m = re.search(pattern, text, re.M)
            if not m:
                fail("the run command's output lacks " + what, ("run.sh", text))
            return m.group(1)

        values = {
            "SMK": printed(r"^run\.sh: checkout (\S+)$", "the checkout"),
            "DATA": printed(r" listening on \S+ \(data: (.*)\)$", "the data folder"),
            "PASSWORD": printed(r"^  password +(\S+)$", "the password"),
            "URL": printed(r"^  server URL +(\S+)$", "the server URL"),
        }
        if os.path.realpath(values["SMK"]) != os.path.realpath(SOURCE):
            fail("run.sh names the checkout %s, not %s" % (values["SMK"], SOURCE))
        if os.path.realpath(values["DATA"]) != os.path.realpath(data):
            fail("the server names its data folder %s, not %s" % (values["DATA"], data))
        if values["URL"] != "http://127.0.0.1:%d/" % port:
            fail("the server URL printed is %s" % values["URL"])
        # The password printed is the one kept in the data folder.
        with open(os.path.join(data, "demo-password")) as f:
            if f.read().strip() != values["PASSWORD"]:
                fail("the printed password is not the one in demo-password")

        # Every other block, in order, in one bash: variables and functions
        # carry from block to block as in a terminal. set -e: a failing
        # command stops the run at its block.
        server_port = free_port()
        script = ["set -eu"]
        servers = []
        for n, (line, kind, reason, code) in enumerate(blocks):
            if kind in ("run-command", "skip"):
                continue
            path = os.path.join(WORK, "block%02d.sh" % n)
            with open(path, "w") as f:
                f.write(fill_in(code, kind, values, server_port))
            script.append("echo '=== README.md:%d ==='" % line)
            if kind == "server":
                log = os.path.join(WORK, "server%02d.log" % n)
                servers.append((line, log))
                script.append("( . %s ) </dev/null >%s 2>&1 &" % (path, log))
                script.append("pid=$!")
                script.append("for i in $(seq 1 300); do grep -q ' listening on ' %s && break; "
                              "kill -0 $pid 2>/dev/null || { cat %s; echo 'the server stopped'; exit 1; }; "
                              "sleep 0.1; done" % (log, log))
                script.append("grep -q ' listening on ' %s || { cat %s; echo 'the server did not listen'; exit 1; }"
                              % (log, log))
            else:
                script.append(". %s" % path)
        script.append("echo '=== all README blocks ran ==='")
        with open(os.path.join(WORK, "readme.sh"), "w") as f:
            f.write("\n".join(script) + "\n")

        driver = subprocess.Popen(["bash", os.path.join(WORK, "readme.sh")], cwd=here, env=env,
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  start_new_session=True)
        driver_out = Output(driver.stdout)
        try:
            driver.wait(BLOCKS_TIMEOUT)
        except subprocess.TimeoutExpired:
            fail("the README's commands did not finish in %d s" % BLOCKS_TIMEOUT, ("commands", driver_out.text()),
                 ("run.sh", server_out.text()))
        driver_out.wait_done(2)  # the last lines (a server it started may still hold the stream)
        out = driver_out.text()
        if driver.returncode != 0 or "=== all README blocks ran ===" not in out:
            fail("a README command failed (exit %s; the block is the last === line)" % driver.returncode,
                 ("commands", out), ("run.sh", server_out.text()))

        check_outcome(here, out, servers, server_port)
        print(out[-4000:])
        print("OK: %d README blocks ran (%d skipped), outcome checked" %
              (sum(1 for b in blocks if b[1] not in ("run-command", "skip")), sum(1 for b in blocks if b[1] == "skip")))
        return 0
    finally:
        if driver is not None:
            stop_group(driver)  # and the servers the README started in it
        stop_group(server)
        for proc in (driver, server):
            if proc is not None and group_alive(proc.pid):
                print("FAIL: processes of the test's group %d are still running" % proc.pid)
                sys.exit(1)


def vcards(folder):
    """{file: text} of a client's folder."""
    out = {}
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), encoding="utf-8") as f:
            out[name] = f.read()
    return out


def check_outcome(here, out, servers, server_port):
    problems = []

    def expect(cond, what):
        if not cond:
            problems.append(what)

    laptop = vcards(os.path.join(here, "laptop-contacts"))
    phone = vcards(os.path.join(here, "phone-contacts"))
    for name, items in (("laptop", laptop), ("phone", phone)):
        cards = sum(t.count("BEGIN:VCARD") for t in items.values())
        expect(cards == 1, "%s holds %d contacts, not 1 (lost or duplicated)" % (name, cards))
        expect(all("FN:Ann Smith" in t for t in items.values()), "%s's contact is not Ann Smith" % name)
    expect(any("+44 20 7946 0999" in t for t in laptop.values()), "the phone's new number did not reach the laptop")
    expect(any("+44 20 7946 0999" in t for t in phone.values()), "the restored contact lacks the last number")
    expect(re.search(r"-refresh-from-client +1 ", out) is not None, "no refresh-from-client snapshot of 1 item listed")
    expect("restored demo/contacts from" in out, "the restore did not report")
    expect("<SyncML" in out and "</SyncML>" in out, "syncmlkit-dump printed no message")
    expect("VERSION:2.1" in out, "syncmlkit-convert --to vcard21 printed no vCard 2.1")
    expect("<contact>" in out, "syncmlkit-convert --to sifc printed no SIF contact")
    expect(re.search(r"(?m)^demo: databases: contacts; 2 devices$", out) is not None, "syncmlkit-admin users did not list demo with contacts and 2 devices")
    expect(out.count("contacts: last sync") == 2, "syncmlkit-admin devices did not show two devices' last sync")
    expect(re.search(r"demo/contacts: 1 item, 2 devices: ok", out) is not None, "syncmlkit-admin check did not pass")

    expect(len(servers) == 1, "expected one server block, found %d" % len(servers))
    for line, log in servers:
        with open(log, encoding="utf-8", errors="replace") as f:
            text = f.read()
        expect("2 users from users.txt" in text, "README.md:%d: the server did not load 2 users" % line)
        expect("2 grants from grants.txt" in text, "README.md:%d: the server did not load 2 grants" % line)
        expect("Global Address Book: 1 entries" in text, "README.md:%d: the directory did not load" % line)
        expect("listening on https://127.0.0.1:%d/" % server_port in text,
               "README.md:%d: the server does not serve HTTPS on its port" % line)
        # A real HTTPS request to it (the certificate is the README's self-signed one).
        ctx = ssl.create_default_context(cafile=os.path.join(here, "cert.pem"))
        ctx.check_hostname = False
        try:
            with urllib.request.urlopen("https://127.0.0.1:%d/" % server_port, context=ctx, timeout=10) as r:
                page = r.read().decode("utf-8", "replace")
                expect(r.status == 200 and "SyncML" in page, "the HTTPS page is not the server's")
        except OSError as e:
            problems.append("HTTPS GET to the README's server failed: %s" % e)
    if problems:
        fail("; ".join(problems), ("commands", out))


if __name__ == "__main__":
    sys.exit(main())
