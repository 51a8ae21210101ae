"""End to end: Debian's SyncEvolution client suspends a sync and resumes it.

SyncEvolution's command line asks its engine to suspend on the first SIGINT
("Asking to suspend..."; a second one within 2 s would abort). While the
server's package 4 comes in, the engine then sends Alert 224 in its next
message and ends the session; while it sends its own package 3 it just
stops after its next message, leaving the server's session open. Either
way its next sync alerts 225 (resume) for the database, with the anchors of
the last completed session. The server must answer a 224 with 200, keep
where the session stopped (a session left open ends when its device
resumes), answer the 225 with 200 and the suspended session's mode, and
carry on: the client sends what it had not sent, the server what the
client had not confirmed, and both sides end with exactly the expected
items (none lost, none twice).

    upload    a new device slow-syncs (201) 400 contacts to an empty server,
              suspended in the middle of its package 3
    download  a second device asks for refresh-from-server (205) of them,
              suspended in the middle of the server's package 4

The server runs with --max-msg-size 4096 and the client announces 4000
(SyncEvolution clamps that to 10240), so each package spans many messages.
The SIGINT is sent once the server has received a given number of the
client's messages (counted in --log-dir); should the sync end before the
client could suspend, the test fails rather than passing unchecked.
"""

import glob
import os
import re
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop_server  # noqa: E402
import syncevo  # noqa: E402
from interop_server import Device  # noqa: E402

SERVER = None
WORK = None
COUNT = 400
SERVER_MAX_MSG_SIZE = 4096
CLIENT_MAX_MSG_SIZE = 4000
SYNC_TIMEOUT = 300


def setUpModule():
    global SERVER, WORK
    WORK = interop_server.prepare_work_dir()
    SERVER = interop_server.start_server(WORK, args=("--max-msg-size", str(SERVER_MAX_MSG_SIZE)))
    unittest.addModuleCleanup(interop_server.stop_server, SERVER, WORK)


def messages_in(device_id):
    """How many messages of `device_id` the server has received (its --log-dir)."""
    part = re.sub(r"[^A-Za-z0-9.+@-]", "_", device_id)
    return len(glob.glob(os.path.join(SERVER.message_dir, "*-%s-*-in.*" % part)))


def all_alert_codes(result, direction):
    """Every Alert code (sync modes, 224, 225) in the messages of one direction."""
    codes = []
    for text in result.message_texts(direction):
        for code in re.findall(r"<Alert>.*?<Data>\s*(\d+)\s*</Data>", text, re.S):
            if int(code) != 222:
                codes.append(int(code))
    return codes


def suspend_answers(device_id):
    """The server's Status codes for the Alerts 224 `device_id` sent, from
    the server's copies of the messages (--log-dir)."""
    part = re.sub(r"[^A-Za-z0-9.+@-]", "_", device_id)
    codes = []
    for request in sorted(glob.glob(os.path.join(SERVER.message_dir, "*-%s-*-in.xml" % part))):
        with open(request, encoding="utf-8", errors="replace") as f:
            text = f.read()
        for alert in re.findall(r"<Alert>(.*?)</Alert>", text, re.S):
            if not re.search(r"<Data>\s*224\s*</Data>", alert):
                continue
            cmd_id = re.search(r"<CmdID>\s*(\d+)\s*</CmdID>", alert).group(1)
            with open(request[:-len("-in.xml")] + "-out.xml", encoding="utf-8", errors="replace") as f:
                reply = f.read()
            for status in re.findall(r"<Status>(.*?)</Status>", reply, re.S):
                if re.search(r"<Cmd>\s*Alert\s*</Cmd>", status) and \
                        re.search(r"<CmdRef>\s*%s\s*</CmdRef>" % cmd_id, status):
                    codes.append(re.search(r"<Data>\s*(\d+)\s*</Data>", status).group(1))
    return codes


def server_log_has(text):
    with open(SERVER.log_path, encoding="utf-8", errors="replace") as f:
        return text in f.read()


class SuspendResume(interop_server.SyncChecks):
    kind = "contacts"
    encoding = None

    def setUp(self):
        self.server = SERVER
        self.user, self.password = SERVER.new_account()
        self.workdir = os.path.join(WORK, "%s-%s" % (self.encoding, self._testMethodName))

    def run_args(self, device, mode):
        return syncevo.SyncRun(
            url=self.server.url, user=self.user, password=self.password, remote_db=device.kind,
            local_dir=device.dir, kind=device.kind, state_dir=device.state, curlfix=os.environ["SMK_CURLFIX"],
            mode=mode, encoding=self.encoding, device_id=device.device_id, timeout=SYNC_TIMEOUT,
            max_msg_size=CLIENT_MAX_MSG_SIZE)

    def suspended_sync(self, device, mode, after_messages):
        """Runs a sync of `device` and sends the client one SIGINT once the
        server got `after_messages` more of its messages; returns the result."""
        run = self.run_args(device, mode)
        syncevo.check(run)
        os.makedirs(run.local_dir, exist_ok=True)
        logdir = os.path.join(run.state_dir, "logs")
        os.makedirs(logdir, exist_ok=True)
        os.makedirs(os.path.join(run.state_dir, "home", "run"), mode=0o700, exist_ok=True)
        env = syncevo.client_env(run.state_dir, run.password)
        configure = [syncevo.SYNCEVOLUTION, "--daemon=no", "--configure", "--template", "none"] + \
            syncevo.config_properties(run) + [syncevo.PEER, run.kind]
        status, out, _ = syncevo.run_bounded(configure, env, run.timeout)
        self.assertEqual(status, 0, "configure failed:\n" + out)
        before = syncevo.session_dirs(logdir)
        seen = messages_in(device.device_id)
        env = syncevo.client_env(run.state_dir, run.password, os.path.abspath(run.curlfix))
        argv = [syncevo.SYNCEVOLUTION, "--daemon=no", "--run", "--sync", syncevo.MODES[run.mode], syncevo.PEER,
                run.kind]
        proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, start_new_session=True)
        signalled = False
        try:
            deadline = time.monotonic() + run.timeout
            while proc.poll() is None and time.monotonic() < deadline:
                if not signalled and messages_in(device.device_id) >= seen + after_messages:
                    proc.send_signal(signal.SIGINT)
                    signalled = True
                time.sleep(0.02)
            if proc.poll() is None:
                syncevo.kill_group(proc)
            out = proc.stdout.read().decode("utf-8", "replace")
        finally:
            if proc.poll() is None:
                syncevo.kill_group(proc)
            proc.stdout.close()
        self.assertTrue(signalled, "the sync ended before %d messages: nothing was suspended\n%s" % (
            after_messages, out[-3000:]))
        new = syncevo.session_dirs(logdir) - before
        return syncevo.SyncResult(proc.returncode, syncevo.newest(logdir, new), out)

    def assertSuspended(self, result, step, mode_code, device_id):
        """The client stopped as suspended. SyncEvolution 2.0.0 sends Alert
        224 when the user suspends while the server's package 4 comes in;
        while it sends its own package 3 it stops between two messages
        without one (its last message carries statuses only) and leaves the
        server's session open. Returns whether it sent a 224."""
        self.assertIn("Asking to suspend", result.output, step)
        self.assertIn("explicitly suspended", result.output, "%s: %s" % (step, result.output[-2000:]))
        self.assertNotEqual(result.status, 0, step)
        sent = all_alert_codes(result, "outgoing")
        self.assertEqual(sent[0], mode_code, "%s: %s" % (step, sent))
        if 224 not in sent:
            return False
        # The server answered it with 200 (the client does not log the
        # reply to its last message: the server's copies tell).
        self.assertEqual(suspend_answers(device_id), ["200"], "%s: the server's answer to the 224" % step)
        return True

    def assertResumed(self, result, step, mode_code):
        sent, got = all_alert_codes(result, "outgoing"), all_alert_codes(result, "incoming")
        self.assertEqual(sent, [225], "%s: the client should resume (%s)" % (step, result.session_dir))
        self.assertEqual(interop_server.status_codes(result, "Alert"), [200],
                         "%s: the resume should be accepted, not 509 (%s)" % (step, result.session_dir))
        self.assertEqual(got, [mode_code], "%s: the server should alert the suspended mode (%s)" % (
            step, result.session_dir))

    def test_upload_and_download_suspended_and_resumed(self):
        a = Device(self, "a")
        a.add(COUNT, first=1)
        sent = a.identities()
        result = self.suspended_sync(a, "slow", after_messages=6)
        self.assertSuspended(result, "the suspended upload", 201, a.device_id)
        stored = len(self.server_texts())
        self.assertGreater(stored, 0, "nothing of the upload arrived before the suspend")
        self.assertLess(stored, COUNT, "the upload was complete before the suspend")

        result = self.sync(a, "two-way")
        self.assertResumed(result, "the resumed upload", 201)
        self.assertTrue(server_log_has("device %s: resumes the session " % a.device_id))
        self.assertIdentities(self.server_identities(), sent, "server after the resumed upload")
        self.assertSameItems(a, "the resumed upload")
        # No item came back to its sender, and the next sync has nothing to do.
        result = self.sync_mode(a, "two-way", 200)
        self.assertReceived(result, "the sync after the resume")
        self.assertIdentities(self.server_identities(), sent, "server after the next sync")

        b = Device(self, "b")
        result = self.suspended_sync(b, "refresh-from-server", after_messages=4)
        self.assertTrue(self.assertSuspended(result, "the suspended download", 205, b.device_id),
                        "the client sent no Alert 224 in package 4 (%s)" % result.session_dir)
        got = len(b.texts())
        self.assertLess(got, COUNT, "the download was complete before the suspend")
        result = self.sync(b, "two-way")
        self.assertResumed(result, "the resumed download", 205)
        self.assertTrue(server_log_has("device %s: resumes the session suspended" % b.device_id))
        self.assertIdentities(b.identities(), sent, "device b after the resumed download")
        self.assertSameItems(b, "the resumed download")
        result = self.sync_mode(b, "two-way", 200)
        self.assertReceived(result, "device b's sync after the resume")
        self.assertIdentities(self.server_identities(), sent, "server at the end")


class SuspendResumeXml(SuspendResume, unittest.TestCase):
    encoding = "xml"


class SuspendResumeWbxml(SuspendResume, unittest.TestCase):
    encoding = "wbxml"


if __name__ == "__main__":
    unittest.main(verbosity=2)
