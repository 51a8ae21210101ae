"""End to end: a contact with a 500 kB photo through small messages, both
ways, with Debian's SyncEvolution client and a syncmlkit-httpd started with
--max-msg-size 4000:

    up        device a slow-syncs 10 contacts and the photo contact (201):
              the client must send the photo in chunks of at most 4000 bytes
    down      a new device b gets them by refresh-from-server (205): the
              server sends the photo in chunks (the client announces 10240,
              SyncEvolution's minimum, for maxMsgSize=4000)
    replace   b gives the contact another 500 kB photo and syncs (200): a
              Replace in chunks up; a syncs (200) and gets it as a Replace
              in chunks down

After each sync both sides are compared item by item (identities, counted
as multisets), the photo is decoded on each side and compared byte for
byte with what was written, every message is checked against the MaxMsgSize
its receiver announced, and the chunks on the wire are counted (MoreData,
213 statuses). The server's log must show no chunk dropped and no Alert 223.

One test per encoding, each with a user of its own, on one server.
"""

import base64
import os
import random
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop_server  # noqa: E402
import items  # noqa: E402
import syncevo  # noqa: E402
from interop_server import Device  # noqa: E402

SERVER = None
WORK = None
PHOTO_BYTES = 500 * 1024
SERVER_MAX_MSG_SIZE = 4000    # what the server announces
CLIENT_MAX_MSG_SIZE = 4000    # what the client is configured with
CLIENT_ANNOUNCED_MIN = 10240  # SyncEvolution announces no less than this
SYNC_TIMEOUT = 300            # seconds for one sync


def setUpModule():
    global SERVER, WORK
    WORK = interop_server.prepare_work_dir()
    SERVER = interop_server.start_server(WORK, args=("--max-msg-size", str(SERVER_MAX_MSG_SIZE)))
    unittest.addModuleCleanup(interop_server.stop_server, SERVER, WORK)


def photo(seed):
    """PHOTO_BYTES of a JPEG-looking binary (SOI marker, random body, EOI)."""
    rng = random.Random(seed)
    body = bytes(rng.getrandbits(8) for _ in range(PHOTO_BYTES - 4))
    return b"\xff\xd8" + body + b"\xff\xd9"


def photo_contact(name, data):
    """A vCard 3.0 contact with `data` as its inline photo (base64, folded)."""
    lines = ["BEGIN:VCARD", "VERSION:3.0",
             "N:Fotografin;%s;;;" % name,
             "FN:%s Fotografin" % name,
             "EMAIL;TYPE=INTERNET:%s.photo@example.org" % name.lower(),
             "TEL;TYPE=CELL:+49 151 5550100",
             "PHOTO;ENCODING=b;TYPE=JPEG:" + base64.b64encode(data).decode("ascii"),
             "END:VCARD"]
    return items.render(lines)


def photo_of(text):
    """The decoded PHOTO of a vCard text; None without one (SyncEvolution
    writes an empty PHOTO: into every contact)."""
    for line in items.unfold(text):
        head, sep, value = line.partition(":")
        if sep and value.strip() and head.split(";")[0].split(".")[-1].upper() == "PHOTO":
            return base64.b64decode(value.strip())
    return None


def photos(texts):
    """The photos of some item texts, by the FN of their contact."""
    found = {}
    for text in texts:
        data = photo_of(text)
        if data is not None:
            fn = next((l.partition(":")[2] for l in items.unfold(text) if l.upper().startswith("FN")), "")
            found[fn] = data
    return found


def announced_max_msg_size(result, direction):
    sizes = set()
    for text in interop_server.message_texts(result, direction):
        hdr = re.search(r"<SyncHdr>.*?</SyncHdr>", text, re.S)
        m = hdr and re.search(r"<MaxMsgSize[^>]*>\s*(\d+)\s*</MaxMsgSize>", hdr.group(0))
        if m:
            sizes.add(int(m.group(1)))
    return min(sizes) if sizes else None


def chunk_count(result, direction):
    """Chunks before the last of any large object in one direction (MoreData flags)."""
    return sum(len(re.findall(r"<MoreData\s*/>", t)) for t in interop_server.message_texts(result, direction))


class LargeObjects(interop_server.SyncChecks):
    kind = "contacts"
    encoding = None

    def setUp(self):
        self.server = SERVER
        self.user, self.password = SERVER.new_account()
        self.workdir = os.path.join(WORK, "%s-%s" % (self.encoding, self._testMethodName))

    def sync_small(self, device, mode, code):
        return self.sync_mode(device, mode, code, max_msg_size=CLIENT_MAX_MSG_SIZE, timeout=SYNC_TIMEOUT)

    def assertMessageSizes(self, result, step):
        """Every message fits the limit its receiver announced."""
        client_limit = announced_max_msg_size(result, "outgoing")
        self.assertIsNotNone(client_limit, "%s: the client announced no MaxMsgSize" % step)
        self.assertGreaterEqual(client_limit, CLIENT_ANNOUNCED_MIN)
        self.assertEqual(announced_max_msg_size(result, "incoming"), SERVER_MAX_MSG_SIZE)
        messages = interop_server.raw_messages(result)
        first_reply = min((seq for seq, direction, _ in messages if direction == "incoming"), default=None)
        self.assertIsNotNone(first_reply, "%s: no raw messages in %s" % (step, result.session_dir))
        sent = [size for seq, direction, size in messages if direction == "outgoing" and seq > first_reply]
        received = [size for _, direction, size in messages if direction == "incoming"]
        self.assertFalse([s for s in sent if s > SERVER_MAX_MSG_SIZE],
                         "%s: client messages above the server's MaxMsgSize (%s)" % (step, result.session_dir))
        self.assertFalse([s for s in received if s > client_limit],
                         "%s: server messages above the client's MaxMsgSize %d (%s)" % (
                             step, client_limit, result.session_dir))
        return sent, received

    def report(self, step, result, direction):
        """A line for the test log: messages and chunks of one sync."""
        messages = interop_server.raw_messages(result)
        print("%s %s: %d messages from the client, %d from the server, %d chunks %s, largest %d / %d bytes" % (
            self.encoding, step, sum(1 for _, d, _ in messages if d == "outgoing"),
            sum(1 for _, d, _ in messages if d == "incoming"), chunk_count(result, direction) + 1,
            "up" if direction == "outgoing" else "down",
            max((s for _, d, s in messages if d == "outgoing"), default=0),
            max((s for _, d, s in messages if d == "incoming"), default=0)), file=sys.stderr)

    def assertPhotos(self, actual, expected, what):
        self.assertEqual(sorted(actual), sorted(expected), "%s: the contacts with a photo" % what)
        for fn, data in expected.items():
            got = actual[fn]
            self.assertEqual(len(got), len(data), "%s: the photo of %s has %d bytes, not %d" % (
                what, fn, len(got), len(data)))
            self.assertTrue(got == data, "%s: the photo of %s differs" % (what, fn))

    def test_photo_contact_up_down_and_replaced_in_small_messages(self):
        log_start = len(self.server.log_tail(10 ** 7).splitlines())
        # Up: 10 contacts and the photo contact, in chunks of at most 4000 bytes.
        a = Device(self, "a")
        a.add(10, first=1)
        first = photo(1)
        items.write_items(a.dir, {"photo.vcf": photo_contact("Paula", first)})
        sent = a.identities()
        self.assertEqual(sum(sent.values()), 11)
        result = self.sync_small(a, "slow", 201)
        self.assertIdentities(self.server_identities(), sent, "server after the upload")
        self.assertSameItems(a, "the upload")
        self.assertPhotos(photos(self.server_texts()), {"Paula Fotografin": first}, "server after the upload")
        up, _ = self.assertMessageSizes(result, "the upload")
        self.assertGreater(len(up), PHOTO_BYTES * 4 // 3 // SERVER_MAX_MSG_SIZE,
                           "the upload took only %d messages" % len(up))
        chunks_up = chunk_count(result, "outgoing")
        answered_213 = interop_server.status_codes(result, "Add", "incoming").count(213)
        self.assertGreater(chunks_up, 100, "the client sent %d chunks (%s)" % (chunks_up, result.session_dir))
        self.assertEqual(answered_213, chunks_up, "213 statuses for the client's chunks")
        self.report("up", result, "outgoing")

        # Down: a new device gets all 11, the photo in chunks.
        b = Device(self, "b")
        result = self.sync_small(b, "refresh-from-server", 205)
        self.assertIdentities(b.identities(), sent, "device b after the download")
        self.assertSameItems(b, "the download")
        self.assertPhotos(photos(b.texts().values()), {"Paula Fotografin": first}, "device b after the download")
        self.assertReceived(result, "the download", add=11 + chunk_count(result, "incoming"))
        _, down = self.assertMessageSizes(result, "the download")
        chunks_down = chunk_count(result, "incoming")
        self.assertGreater(chunks_down, PHOTO_BYTES * 4 // 3 // CLIENT_ANNOUNCED_MIN - 1,
                           "the server sent %d chunks (%s)" % (chunks_down, result.session_dir))
        self.assertEqual(interop_server.status_codes(result, "Add", "outgoing").count(213), chunks_down,
                         "the client's 213 statuses for the server's chunks")
        self.report("down", result, "incoming")

        # Replace: b gives the contact another photo; up as a Replace in
        # chunks, down to a as a Replace in chunks.
        name = next(n for n, t in b.texts().items() if photo_of(t) is not None)
        second = photo(2)
        syncevo.write_item(os.path.join(b.dir, name), photo_contact("Paula", second))
        result = self.sync_small(b, "two-way", 200)
        self.assertSameItems(b, "b's replaced photo")
        self.assertPhotos(photos(self.server_texts()), {"Paula Fotografin": second}, "server after b's Replace")
        self.assertGreater(chunk_count(result, "outgoing"), 100)
        self.assertReceived(result, "b's replaced photo")
        self.report("replace up", result, "outgoing")
        result = self.sync_small(a, "two-way", 200)
        self.assertIdentities(a.identities(), sent, "device a after b's Replace")
        self.assertSameItems(a, "a's sync after b's Replace")
        self.assertPhotos(photos(a.texts().values()), {"Paula Fotografin": second}, "device a after b's Replace")
        chunks = chunk_count(result, "incoming")
        self.assertGreater(chunks, 40)
        self.assertReceived(result, "a's sync after b's Replace", replace=1 + chunks)
        self.assertMessageSizes(result, "a's sync after b's Replace")
        self.report("replace down", result, "incoming")

        # Nothing dropped or broken off on the server's side.
        log = "\n".join(self.server.log_tail(10 ** 7).splitlines()[log_start:])
        for bad in ("chunks dropped", "Alert 223", "(223)", "MaxObjSize", "not sent"):
            self.assertNotIn(bad, log, "the server's log says %r" % bad)


class LargeObjectsXml(LargeObjects, unittest.TestCase):
    encoding = "xml"


class LargeObjectsWbxml(LargeObjects, unittest.TestCase):
    encoding = "wbxml"


if __name__ == "__main__":
    unittest.main(verbosity=2)
