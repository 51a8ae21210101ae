"""End to end: many items through small messages. Debian's SyncEvolution
client and a syncmlkit-httpd started with a small --max-msg-size:

    upload    device a slow-syncs 1000 contacts to the empty server (201)
    download  a new device b gets them all by refresh-from-server (205)

Both sides are compared item by item after each sync, and every message on
the wire is checked against the size its receiver announced: the client's
against the server's MaxMsgSize, the server's against the client's.

The sizes: the client is configured with maxMsgSize=4000, but SyncEvolution
2.0.0 (its Synthesis engine) clamps the MaxMsgSize it announces to at least
10240 bytes, so the server may send up to 10240. The server is started with
--max-msg-size 4000, so the client must split its upload into messages of
at most 4000 bytes.

One test per encoding, each with a user of its own, on one server.
"""

import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop_server  # noqa: E402
from interop_server import Device  # noqa: E402

SERVER = None
WORK = None
COUNT = 1000
CLIENT_MAX_MSG_SIZE = 4000    # what the client is configured with
CLIENT_ANNOUNCED_MIN = 10240  # SyncEvolution announces no less than this
SERVER_MAX_MSG_SIZE = 4000    # what the server announces
SYNC_TIMEOUT = 300            # seconds for one sync of 1000 items in small messages


def setUpModule():
    global SERVER, WORK
    WORK = interop_server.prepare_work_dir()
    SERVER = interop_server.start_server(WORK, args=("--max-msg-size", str(SERVER_MAX_MSG_SIZE)))
    unittest.addModuleCleanup(interop_server.stop_server, SERVER, WORK)


def announced_max_msg_size(result, direction):
    """The MaxMsgSize in the SyncHdr of the messages of one direction (the
    sender's limit for what it receives); None when none was announced."""
    sizes = set()
    for text in interop_server.message_texts(result, direction):
        hdr = re.search(r"<SyncHdr>.*?</SyncHdr>", text, re.S)
        m = hdr and re.search(r"<MaxMsgSize[^>]*>\s*(\d+)\s*</MaxMsgSize>", hdr.group(0))
        if m:
            sizes.add(int(m.group(1)))
    return min(sizes) if sizes else None


class SmallMessages(interop_server.SyncChecks):
    kind = "contacts"
    encoding = None

    def setUp(self):
        self.server = SERVER
        self.user, self.password = SERVER.new_account()
        self.workdir = os.path.join(WORK, "%s-%s" % (self.encoding, self._testMethodName))

    def assertMessageSizes(self, result, step):
        """Every message fits the limit its receiver announced, and the
        sync took many of them."""
        client_limit = announced_max_msg_size(result, "outgoing")
        server_limit = announced_max_msg_size(result, "incoming")
        self.assertIsNotNone(client_limit, "%s: the client announced no MaxMsgSize" % step)
        self.assertGreaterEqual(client_limit, CLIENT_ANNOUNCED_MIN)
        self.assertEqual(server_limit, SERVER_MAX_MSG_SIZE,
                         "%s: the server should announce its --max-msg-size (%s)" % (step, result.session_dir))
        messages = interop_server.raw_messages(result)
        # The client's first message goes out before it has seen the
        # server's MaxMsgSize (it carries the client's DevInf, 14 kB in XML).
        first_reply = min((seq for seq, direction, _ in messages if direction == "incoming"), default=None)
        self.assertIsNotNone(first_reply, "%s: no raw messages in %s" % (step, result.session_dir))
        sent = [size for seq, direction, size in messages if direction == "outgoing" and seq > first_reply]
        received = [size for _, direction, size in messages if direction == "incoming"]
        too_big = [s for s in sent if s > server_limit]
        self.assertFalse(too_big, "%s: client messages above the server's MaxMsgSize %d: %s (%s)" % (
            step, server_limit, too_big, result.session_dir))
        too_big = [s for s in received if s > client_limit]
        self.assertFalse(too_big, "%s: server messages above the client's MaxMsgSize %d: %s (%s)" % (
            step, client_limit, too_big, result.session_dir))
        return sent, received

    def test_thousand_contacts_up_and_down_in_small_messages(self):
        a = Device(self, "a")
        a.add(COUNT, first=1)
        sent = a.identities()
        result = self.sync_mode(a, "slow", 201, max_msg_size=CLIENT_MAX_MSG_SIZE, timeout=SYNC_TIMEOUT)
        self.assertIdentities(self.server_identities(), sent, "server after the upload of %d contacts" % COUNT)
        self.assertSameItems(a, "the upload")
        up, _ = self.assertMessageSizes(result, "the upload")
        # 1000 contacts of about 300 bytes do not fit in a few 4 kB messages.
        self.assertGreater(len(up), COUNT // 20, "the upload took only %d messages" % len(up))

        b = Device(self, "b")
        result = self.sync_mode(b, "refresh-from-server", 205, max_msg_size=CLIENT_MAX_MSG_SIZE,
                                timeout=SYNC_TIMEOUT)
        self.assertEqual(len(b.texts()), COUNT, "device b after the download")
        self.assertSameItems(b, "the download")
        self.assertIdentities(b.identities(), sent, "device b after the download")
        _, down = self.assertMessageSizes(result, "the download")
        self.assertGreater(len(down), COUNT // 50, "the download took only %d messages" % len(down))


class SmallMessagesXml(SmallMessages, unittest.TestCase):
    encoding = "xml"


class SmallMessagesWbxml(SmallMessages, unittest.TestCase):
    encoding = "wbxml"


if __name__ == "__main__":
    unittest.main(verbosity=2)
