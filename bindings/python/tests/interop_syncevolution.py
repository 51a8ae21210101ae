"""End to end: Debian's SyncEvolution client syncs with the Python host
(examples/host.py: http.server on 127.0.0.1, a free port, the dictionary
store, the Users table with MD5), both ways, counted item by item:

    slow sync            device a uploads 20 contacts; the store holds exactly those 20
    refresh-from-server  device b, empty, gets the 20
    two-way              an edit on a reaches the store and then b; an edit on b
                         reaches a; 20 on every side throughout
    wrong password       refused, nothing changes

Not found by `unittest discover` (its name does not start with test): ctest
runs it on its own (labels interop and bindings) with SMK_CURLFIX (the
client's LD_PRELOAD shim), SMK_SOURCE_DIR and SMK_INTEROP_WORK set, as for
tests/interop.
"""

import os
import re
import shutil
import sys
import tempfile
import threading
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("SMK_SOURCE_DIR") or os.path.join(HERE, "..", "..", "..")
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "examples"))
sys.path.insert(0, os.path.join(SOURCE, "tests", "interop"))
import host  # noqa: E402
import items  # noqa: E402
import syncevo  # noqa: E402
import syncmlkit  # noqa: E402

KIND = "contacts"
COUNT = 20
SYNC_TIMEOUT = 120


class PythonHostWithSyncEvolution(unittest.TestCase):
    def setUp(self):
        self.curlfix = os.environ.get("SMK_CURLFIX", "")
        if not os.path.isfile(self.curlfix):
            self.fail("set SMK_CURLFIX to the built libsmk_curlfix.so (ctest does), got %r" % self.curlfix)
        self.work = os.environ.get("SMK_INTEROP_WORK") or tempfile.mkdtemp(prefix="smk-py-interop-")
        shutil.rmtree(self.work, ignore_errors=True)
        os.makedirs(self.work)
        self.lines = []
        self.lock = threading.Lock()
        self.passwords = {"alice": "pw-alice-%s" % os.urandom(4).hex()}
        # Port 0: the kernel picks a free one, no race with other tests.
        self.httpd, self.server, self.provider = host.serve(
            0, self.passwords, os.path.join(self.work, "state"), log=self.log)
        self.addCleanup(host.stop, self.httpd, self.server)
        self.url = "http://127.0.0.1:%d/sync" % self.httpd.server_address[1]
        print("\nPython host at %s, work dir %s" % (self.url, self.work), file=sys.stderr)

    def log(self, level, text):
        with self.lock:
            self.lines.append((level, text))
        with open(os.path.join(self.work, "host.log"), "a", encoding="utf-8") as f:
            f.write("%d %s\n" % (level, text))

    def device(self, name):
        base = os.path.join(self.work, name)
        d = {"name": name, "dir": os.path.join(base, "items"), "state": os.path.join(base, "state"),
             "id": "smk-py-host-" + name}
        os.makedirs(d["dir"])
        return d

    def sync(self, device, mode, password=None, expect_ok=True):
        run = syncevo.SyncRun(url=self.url, user="alice", password=password or self.passwords["alice"],
                              remote_db=KIND, local_dir=device["dir"], kind=KIND, state_dir=device["state"],
                              curlfix=self.curlfix, mode=mode, device_id=device["id"], timeout=SYNC_TIMEOUT)
        result = syncevo.run_sync(run)
        if result.ok != expect_ok:
            self.fail("%s sync of device %s %s\n%s\n--- host log (last lines):\n%s" % (
                mode, device["name"], "failed" if expect_ok else "succeeded but should have failed",
                result.log_tail(), "\n".join(l for _, l in self.lines[-40:])))
        return result

    def assertReceived(self, result, step, **expected):
        """The server sent exactly these changes (Add, Replace, Delete)."""
        got = {"Add": 0, "Replace": 0, "Delete": 0}
        for text in result.message_texts("incoming"):
            for cmd in re.findall(r"<(Add|Replace|Delete)>", text):
                got[cmd] += 1
        want = {"Add": 0, "Replace": 0, "Delete": 0}
        want.update(expected)
        self.assertEqual(got, want, "%s: the changes the host sent (%s)" % (step, result.session_dir))

    def store(self):
        return self.provider.stores[("alice", KIND)]

    def store_identities(self):
        return items.identities(KIND, [item[0].decode("utf-8") for item in self.store().items.values()])

    def device_identities(self, device):
        return items.identities(KIND, items.read_dir(device["dir"]).values())

    def assertSame(self, device, step):
        on_device, on_host = self.device_identities(device), self.store_identities()
        self.assertEqual(sum(on_device.values()), COUNT, "%s: items on device %s" % (step, device["name"]))
        self.assertEqual(sum(on_host.values()), COUNT, "%s: items in the host's store" % step)
        self.assertEqual(on_device, on_host, "%s: device %s and the store differ" % (step, device["name"]))

    def test_both_ways(self):
        a = self.device("a")
        uploaded = items.generate(KIND, COUNT, seed=11, first=1)
        items.write_items(a["dir"], uploaded)
        result = self.sync(a, "slow")
        self.assertEqual(set(result.alert_codes("incoming")), {201})
        self.assertReceived(result, "slow sync of a")
        self.assertEqual(self.store_identities(), items.identities(KIND, uploaded.values()))
        self.assertSame(a, "slow sync of a")
        self.assertEqual({item[2] for item in self.store().items.values()}, {("text/vcard", "3.0")})

        b = self.device("b")
        result = self.sync(b, "refresh-from-server")
        self.assertEqual(set(result.alert_codes("incoming")), {205})
        self.assertReceived(result, "refresh-from-server of b", Add=COUNT)
        self.assertEqual(len(items.read_dir(b["dir"])), COUNT)
        self.assertSame(b, "refresh-from-server of b")

        # An edit on a: up by a's two-way sync, down by b's.
        path = os.path.join(a["dir"], sorted(os.listdir(a["dir"]))[3])
        with open(path, encoding="utf-8", newline="") as f:
            old = f.read()
        new = items.edited(KIND, old)
        syncevo.write_item(path, new)
        self.assertReceived(self.sync(a, "two-way"), "a's two-way sync with its edit")
        self.assertSame(a, "a's two-way sync with its edit")
        self.assertEqual(self.store_identities()[items.identity(KIND, new)], 1)
        self.assertEqual(self.store_identities()[items.identity(KIND, old)], 0)
        self.assertReceived(self.sync(b, "two-way"), "b's two-way sync after a's edit", Replace=1)
        self.assertSame(b, "b's two-way sync after a's edit")

        # An edit on b: up by b's two-way sync, down by a's.
        path = os.path.join(b["dir"], sorted(os.listdir(b["dir"]))[7])
        with open(path, encoding="utf-8", newline="") as f:
            old_b = f.read()
        new_b = items.edited(KIND, old_b)
        syncevo.write_item(path, new_b)
        self.assertReceived(self.sync(b, "two-way"), "b's two-way sync with its edit")
        self.assertSame(b, "b's two-way sync with its edit")
        self.assertReceived(self.sync(a, "two-way"), "a's two-way sync after b's edit", Replace=1)
        self.assertSame(a, "a's two-way sync after b's edit")
        self.assertEqual(self.device_identities(a)[items.identity(KIND, new_b)], 1)

        # A wrong password: refused, nothing changes.
        before = dict(self.store().items)
        self.sync(b, "two-way", password="wrong", expect_ok=False)
        self.assertEqual(self.store().items, before)
        errors = [l for level, l in self.lines if level >= syncmlkit.LOG_ERROR]
        self.assertEqual(errors, [], "the host logged errors")


if __name__ == "__main__":
    unittest.main()
