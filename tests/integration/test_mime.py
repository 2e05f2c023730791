#!/usr/bin/env python3
"""pyserved's Content-Type over HTTP: the exact field value for real file
formats and tricky names (pyserve.conf(5), CONTENT TYPES), the nosniff,
type, sniff_extensionless and default_charset keys, and the content-type
cache: a file is examined once per version, whichever worker serves it."""

import os
import random
import re
import struct
import sys
import unittest
import zlib

sys.dont_write_bytecode = True  # keep the source tree clean
import pyserve_harness as h  # noqa: E402


# --- sample files, generated -------------------------------------------------------

def png_chunk(kind, data):
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))


def make_png():
    """A valid 1x1 8-bit greyscale PNG."""
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
            + png_chunk(b"IDAT", zlib.compress(b"\x00\x00")) + png_chunk(b"IEND", b""))


PNG = make_png()
# 1x1 GIF89a: header, screen with a 2-colour table, image, LZW data, trailer.
GIF = bytes.fromhex("474946383961 0100 0100 80 00 00 000000 ffffff"
                    "2c 0000 0000 0100 0100 00 02 02 4401 00 3b")
# JFIF JPEG: SOI, APP0 "JFIF", EOI.
JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffd9")
PDF = (b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
       b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
       b"trailer\n<< /Root 1 0 R >>\n%%EOF\n")
WASM = b"\x00asm\x01\x00\x00\x00"
WOFF2 = b"wOF2\x00\x01\x00\x00\x00\x00\x00\x30" + bytes(36)
HTML_DOC = (b"<!DOCTYPE html>\n<html><head><title>x</title></head>"
            b"<body><p>hi</p></body></html>\n")
HTML_UTF8 = ("<!DOCTYPE html>\n<html><head><title>Caf\u00e9</title></head>"
             "<body><p>hello</p></body></html>\n").encode("utf-8")
XHTML = (b'<?xml version="1.0" encoding="UTF-8"?>\n'
         b'<html xmlns="http://www.w3.org/1999/xhtml"><head><title>x</title></head>'
         b"<body><p>hi</p></body></html>\n")
SVG = (b'<?xml version="1.0" encoding="UTF-8"?>\n'
       b'<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16">'
       b'<rect width="16" height="16" fill="red"/></svg>\n')
LATIN1 = ("Le c\u00e9l\u00e8bre po\u00e8te fran\u00e7ais \u00e9crivait \u00e0 c\u00f4t\u00e9 "
          "de la fen\u00eatre. L'\u00e9l\u00e8ve pr\u00e9f\u00e9rait \u00eatre \u00e0 "
          "l'\u00e9cole pr\u00e8s du ch\u00e2teau, o\u00f9 l'on ma\u00eetrisait tr\u00e8s "
          "bien la na\u00efvet\u00e9 et la r\u00eaverie d'un \u00e9t\u00e9 d\u00e9j\u00e0 "
          "pass\u00e9.\n").encode("latin-1")
# uchardet 0.0.7 calls these KOI8-R and ISO-8859-13; their bytes say better
KOI8U = ("\u0426\u0435 \u0443\u043a\u0440\u0430\u0457\u043d\u0441\u044c\u043a\u0430 "
         "\u043c\u043e\u0432\u0430: \u0457\u0457 \u043b\u0456\u0442\u0435\u0440\u0438 "
         "\u0454, \u0456, \u0457 \u0442\u0430 \u0491. \u0407\u0436\u0430\u043a "
         "\u0457\u0441\u0442\u044c \u044f\u0431\u043b\u0443\u043a\u043e, \u0430 "
         "\u0491\u0443\u0434\u0437\u0438\u043a \u043b\u0435\u0436\u0438\u0442\u044c "
         "\u043d\u0430 \u0441\u0442\u043e\u043b\u0456.\n").encode("koi8-u")
CP1257 = ("\u201eLabas rytas\u201c, \u2013 tar\u0117 jis. \u0160iandien \u0105\u017euolai "
          "\u017ealiuoja, o \u0117riukai \u0161okin\u0117ja pievoje. \u016akininkas "
          "d\u017eiaugiasi derliumi.\n").encode("cp1257")
UTF16LE = b"\xff\xfe" + "hello \u00e9 world\n".encode("utf-16le")
# Deterministic bytes that match no file signature (libmagic:
# application/octet-stream).
_rng = random.Random(1)
RANDOM = bytes(_rng.randrange(256) for _ in range(4096))

UTF8_TEXT = "text/plain; charset=utf-8"

# name -> (content, exact Content-Type with the default configuration)
FILES = {
    "image.png": (PNG, "image/png"),
    "icon.svg": (SVG, "image/svg+xml"),
    "doc.pdf": (PDF, "application/pdf"),
    "photo.jpg": (JPEG, "image/jpeg"),
    "anim.gif": (GIF, "image/gif"),
    "style.css": (b"body { color: red; margin: 0 auto; }\n", "text/css; charset=utf-8"),
    "app.js": (b"function f(x) { return x + 1; }\nconsole.log(f(1));\n",
               "text/javascript; charset=utf-8"),
    "data.json": (b'{"a": [1, 2, 3], "b": "c"}\n', "application/json"),
    "module.wasm": (WASM, "application/wasm"),
    "font.woff2": (WOFF2, "font/woff2"),
    "page.html": (HTML_UTF8, "text/html; charset=utf-8"),
    # uchardet 0.0.7 calls this ISO-8859-1 (no byte in 0x80-0x9f)
    "latin1.txt": (LATIN1, "text/plain; charset=iso-8859-1"),
    "ukrainian.txt": (KOI8U, "text/plain; charset=koi8-u"),
    "lithuanian.txt": (CP1257, "text/plain; charset=windows-1257"),
    "utf16.txt": (UTF16LE, "text/plain; charset=utf-16le"),
    "empty.txt": (b"", UTF8_TEXT),
    "README": (b"This is a plain text file without an extension.\n", UTF8_TEXT),
    "landing": (HTML_DOC, "text/html; charset=utf-8"),
    "binary.txt": (RANDOM, "application/octet-stream"),
    "photo.txt": (PNG, "image/png"),
    "avatar.png": (HTML_DOC, UTF8_TEXT),
    "notes.dat": (HTML_DOC, UTF8_TEXT),
    "page.xhtml": (XHTML, "application/xhtml+xml; charset=utf-8"),
    "site.webmanifest": (b'{"name": "x", "start_url": "/"}\n', "application/manifest+json"),
    "app.js.map": (b'{"version": 3, "sources": ["app.js"], "mappings": "AAAA"}\n',
                   "application/json"),
    "notes.md": (b"# Title\n\nSome *text*.\n", "text/markdown; charset=utf-8"),
    "table.csv": (b"a,b,c\n1,2,3\n", "text/csv; charset=utf-8"),
    "blob": (RANDOM, "application/octet-stream"),
    "sub/Style.CSS": (b"p { color: blue }\n", "text/css; charset=utf-8"),
}


def populate(srv):
    for name, (data, _) in FILES.items():
        srv.write_file(name, data)


def find_icon(suffix, budget=50000):
    """A non-empty *suffix file under /usr/share/icons, or None (bounded)."""
    for top, dirs, files in os.walk("/usr/share/icons"):
        dirs.sort()
        for f in sorted(files):
            budget -= 1
            if budget <= 0:
                return None
            p = os.path.join(top, f)
            if f.endswith(suffix) and os.path.isfile(p) and os.path.getsize(p) > 0:
                return p
    return None


def detected_re(name, ctype=None):
    """The debug line for one detection of /name (with a given result)."""
    result = re.escape(ctype) if ctype is not None else ".*"
    return r"content type of /%s: %s \(detected\)$" % (re.escape(name), result)


class MimeCase(unittest.TestCase):
    srv = None

    def fetch(self, name, method="GET"):
        r = self.srv.get("/" + name, method=method)
        self.assertEqual(r.status, 200, "%s: %r" % (name, r))
        return r

    def check_type(self, name, data, ctype):
        r = self.fetch(name)
        self.assertEqual(r.get("Content-Type"), ctype, name)
        self.assertEqual(r.body, data, name)
        return r


class DefaultTypesTest(MimeCase):
    """Default configuration."""

    @classmethod
    def setUpClass(cls):
        cls.srv = h.Server(config={"threads": 2})
        cls.addClassCleanup(cls.srv.close)
        populate(cls.srv)
        cls.srv.start()

    def test_types(self):
        for name, (data, ctype) in FILES.items():
            with self.subTest(name=name):
                self.check_type(name, data, ctype)

    def test_head_same_type(self):
        for name in ("style.css", "image.png", "landing"):
            with self.subTest(name=name):
                r = self.fetch(name, method="HEAD")
                self.assertEqual(r.get("Content-Type"), FILES[name][1])

    def test_nosniff_by_default(self):
        r = self.fetch("style.css")
        self.assertEqual(r.get_all("X-Content-Type-Options"), ["nosniff"])
        r = self.srv.get("/no-such-file.css")
        self.assertEqual(r.status, 404)
        self.assertEqual(r.get_all("X-Content-Type-Options"), ["nosniff"])

    def icon(self, suffix, ctype):
        src = find_icon(suffix)
        if src is None:
            self.skipTest("no *%s under /usr/share/icons" % suffix)
        with open(src, "rb") as f:
            data = f.read()
        name = "system-icon" + suffix
        self.srv.write_file(name, data)
        r = self.fetch(name)
        self.assertEqual(r.get("Content-Type"), ctype, "copy of %s" % src)
        self.assertEqual(r.body, data)

    def test_icon_png(self):
        self.icon(".png", "image/png")

    def test_icon_svg(self):
        self.icon(".svg", "image/svg+xml")


class ConfigKeysTest(MimeCase):
    """nosniff = no, type overrides, sniff_extensionless = no,
    default_charset = none."""

    @classmethod
    def setUpClass(cls):
        cls.srv = h.Server(config={
            "threads": 2,
            "nosniff": "no",
            "sniff_extensionless": "no",
            "default_charset": "none",
            "type": ["txt application/x-custom", ".log text/plain", "dat text/html",
                     "ini text/plain; charset=iso-8859-1", "wasm application/x-other"],
        })
        cls.addClassCleanup(cls.srv.close)
        populate(cls.srv)
        cls.srv.write_file("app.log", b"started\n")
        cls.srv.write_file("old.log", LATIN1)
        cls.srv.write_file("page.dat", HTML_DOC)
        cls.srv.write_file("a.ini", "k=caf\u00e9\n")
        cls.srv.start()

    def test_no_nosniff(self):
        for target in ("/style.css", "/no-such-file.css"):
            with self.subTest(target=target):
                r = self.srv.get(target)
                self.assertFalse(r.has("X-Content-Type-Options"), r)

    def test_type_overrides_win(self):
        # over what the content says (a PNG, HTML, a wasm module)
        self.check_type("photo.txt", PNG, "application/x-custom")
        self.check_type("binary.txt", RANDOM, "application/x-custom")
        self.check_type("page.dat", HTML_DOC, "text/html")
        self.check_type("module.wasm", WASM, "application/x-other")
        # textual without a charset: the detected one is added
        self.check_type("old.log", LATIN1, "text/plain; charset=iso-8859-1")
        self.check_type("app.log", b"started\n", "text/plain")  # ASCII, default_charset none
        # a charset parameter in the type is kept
        self.check_type("a.ini", "k=caf\u00e9\n".encode("utf-8"),
                        "text/plain; charset=iso-8859-1")

    def test_sniff_extensionless_no(self):
        self.check_type("landing", HTML_DOC, "text/plain")
        self.check_type("README", FILES["README"][0], "text/plain")

    def test_default_charset_none(self):
        self.check_type("style.css", FILES["style.css"][0], "text/css")
        self.check_type("page.html", HTML_UTF8, "text/html; charset=utf-8")
        self.check_type("utf16.txt", UTF16LE, "application/x-custom")


class DefaultCharsetTest(MimeCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = h.Server(config={"threads": 1, "default_charset": "windows-1252"})
        cls.addClassCleanup(cls.srv.close)
        populate(cls.srv)
        cls.srv.start()

    def test_default_charset_for_ascii_only(self):
        self.check_type("style.css", FILES["style.css"][0], "text/css; charset=windows-1252")
        self.check_type("README", FILES["README"][0], "text/plain; charset=windows-1252")
        self.check_type("page.html", HTML_UTF8, "text/html; charset=utf-8")
        self.check_type("utf16.txt", UTF16LE, "text/plain; charset=utf-16le")
        self.check_type("data.json", FILES["data.json"][0], "application/json")


class DetectOnceTest(MimeCase):
    """log_level = debug logs one line per detection (cache miss), written
    before the response is sent."""

    @classmethod
    def setUpClass(cls):
        cls.srv = h.Server(config={"threads": 2, "log_level": "debug"})
        cls.addClassCleanup(cls.srv.close)
        populate(cls.srv)
        cls.srv.start()

    def count(self, name, ctype=None, since=0):
        rx = re.compile(detected_re(name, ctype), re.M)
        return len(rx.findall(self.srv.stderr_text()[since:]))

    def test_second_request_not_detected(self):
        mark = self.srv.log_mark()
        for name, (data, ctype) in FILES.items():
            with self.subTest(name=name):
                self.check_type(name, data, ctype)
                # the line is there as soon as the response is: no wait needed
                self.assertEqual(self.count(name, ctype, mark), 1,
                                 "no detection line before the response for " + name)
                # a new connection, which may go to the other worker
                self.check_type(name, data, ctype)
        for name, (data, ctype) in FILES.items():
            with self.subTest(name=name):
                self.srv.wait_for_log(detected_re(name, ctype), timeout=5.0, since=mark)
                self.assertEqual(self.count(name, since=mark), 1,
                                 "detections of %s:\n%s" % (name, self.srv.stderr_text()[mark:]))

    def test_index_file_detected_once(self):
        """/dir/ and /dir/index.html are one file: one detection."""
        self.srv.write_file("idx/index.html", HTML_DOC)
        mark = self.srv.log_mark()
        for target in ("idx/", "idx/index.html", "idx/"):
            with self.subTest(target=target):
                self.check_type(target, HTML_DOC, "text/html; charset=utf-8")
        any_slashes = r"content type of /idx/+index\.html: .* \(detected\)$"
        self.srv.wait_for_log(any_slashes, timeout=5.0, since=mark)
        text = self.srv.stderr_text()[mark:]
        self.assertEqual(len(re.findall(any_slashes, text, re.M)), 1, text)

    def test_index_file_log_path(self):
        """The debug line names the index file by its path, /dir/index.html."""
        self.srv.write_file("idx2/index.html", HTML_DOC)
        mark = self.srv.log_mark()
        self.check_type("idx2/", HTML_DOC, "text/html; charset=utf-8")
        self.srv.wait_for_log(r"content type of /idx2/", timeout=5.0, since=mark)
        self.assertEqual(self.count("idx2/index.html", "text/html; charset=utf-8", mark), 1,
                         self.srv.stderr_text()[mark:])

    def test_modified_file_detected_again(self):
        name = "change.txt"
        text = b"a" * (len(PNG) - 1) + b"\n"  # the PNG's size: only content and mtime differ
        path = self.srv.write_file(name, text)
        os.utime(path, ns=(1700000000 * 10**9 + 100, 1700000000 * 10**9 + 100))
        mark = self.srv.log_mark()
        self.check_type(name, text, UTF8_TEXT)
        self.check_type(name, text, UTF8_TEXT)
        self.srv.wait_for_log(detected_re(name, UTF8_TEXT), timeout=5.0, since=mark)
        self.assertEqual(self.count(name, since=mark), 1)

        ino = os.stat(path).st_ino
        with open(path, "r+b") as f:  # same inode, same size
            f.write(PNG)
        os.utime(path, ns=(1700000000 * 10**9 + 200, 1700000000 * 10**9 + 200))
        self.assertEqual(os.stat(path).st_ino, ino)
        self.check_type(name, PNG, "image/png")
        self.check_type(name, PNG, "image/png")
        self.srv.wait_for_log(detected_re(name, "image/png"), timeout=5.0, since=mark)
        self.assertEqual(self.count(name, since=mark), 2)
        self.assertEqual(self.count(name, "image/png", since=mark), 1)


if __name__ == "__main__":
    h.main_with_skip()
