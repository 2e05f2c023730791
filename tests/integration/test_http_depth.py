#!/usr/bin/env python3
"""pyserved's HTTP depth over raw HTTP/1.1, byte-exact: byte ranges and
multipart/byteranges (RFC 9110 section 14), conditional requests (section
13), directory listings with hostile file names, precompressed variants with
Accept-Encoding q-values, Cache-Control rules and OPTIONS (pyserve.conf(5))."""

import email.utils
import gzip
import html.parser
import os
import random
import re
import sys
import threading
import unittest
import urllib.parse

sys.dont_write_bytecode = True  # keep the source tree clean
import pyserve_harness as h  # noqa: E402

MTIME = 1700000000  # Tue, 14 Nov 2023 22:13:20 GMT
DATA = random.Random(20231114).randbytes(300000)
TEXT = b"".join(b"line %05d of the text file\n" % i for i in range(400))
HTML_UTF8 = "text/html; charset=utf-8"
ALLOW = "GET, HEAD, OPTIONS"
BCHARS_RE = re.compile(r"^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$")


def field_tokens(value):
    return [t.strip().lower() for t in (value or "").split(",") if t.strip()]


class DepthCase(unittest.TestCase):
    """Helpers shared by the test classes; cls.srv is a running Server."""

    srv = None

    def conn(self, srv=None):
        c = (srv or self.srv).connect()
        self.addCleanup(c.close)
        return c

    def req(self, target, headers=None, method="GET", srv=None):
        """One request on a fresh keep-alive connection; returns (response, conn)."""
        c = self.conn(srv)
        h.request(c, h.build_request(method, target, headers=headers or {}))
        return h.read_response(c, head_only_for_HEAD=(method == "HEAD")), c

    def check_kept_alive(self, r, c, target="/text.txt", body=TEXT):
        """The connection still answers a request, and nothing was left
        unread from the previous response."""
        self.assertNotIn("close", r.connection_tokens(), r)
        self.assertEqual(bytes(c.buf), b"", "bytes beyond the response")
        h.request(c, h.build_request("GET", target))
        r2 = h.read_response(c)
        self.assertEqual((r2.status, r2.body), (200, body))
        self.assertEqual(bytes(c.buf), b"")

    def check_full(self, r, body):
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, body)
        self.assertEqual(int(r.get("Content-Length")), len(body))
        self.assertIsNone(r.get("Content-Range"))

    def check_206(self, r, data, first, last):
        self.assertEqual(r.status, 206, r)
        self.assertEqual(r.get("Content-Range"), "bytes %d-%d/%d" % (first, last, len(data)))
        self.assertEqual(int(r.get("Content-Length")), last - first + 1)
        self.assertEqual(r.body, data[first:last + 1])

    def check_etag_shape(self, etag):
        self.assertIsNotNone(etag, "no ETag")
        self.assertRegex(etag, r'^"[\x21\x23-\x7e]+"$', "not a strong entity-tag")

    def parse_multipart(self, r, data, ctype):
        """Parse a multipart/byteranges body (RFC 9110 section 14.6, RFC 2046);
        check every part against data; return [(first, last), ...]."""
        self.assertEqual(r.status, 206, r)
        self.assertIsNone(r.get("Content-Range"), "Content-Range on a multipart response")
        self.assertEqual(int(r.get("Content-Length")), len(r.body))
        m = re.match(r'^multipart/byteranges\s*;\s*boundary=(?:"([^"]+)"|([^\s;"]+))\s*$',
                     r.get("Content-Type") or "", re.I)
        self.assertIsNotNone(m, "Content-Type %r" % r.get("Content-Type"))
        boundary = m.group(1) or m.group(2)
        self.assertRegex(boundary, BCHARS_RE)
        delim = b"--" + boundary.encode("ascii")
        body = r.body
        if body.startswith(delim):
            pos = len(delim)
        else:
            i = body.find(b"\r\n" + delim)
            self.assertGreaterEqual(i, 0, "no first boundary")
            self.assertNotIn(delim, body[:i])
            pos = i + 2 + len(delim)
        ranges = []
        for _ in range(1000):
            if body[pos:pos + 2] == b"--":
                self.assertIn(body[pos + 2:], (b"", b"\r\n"), "epilogue")
                break
            self.assertEqual(body[pos:pos + 2], b"\r\n", "after a boundary at %d" % pos)
            pos += 2
            hend = body.find(b"\r\n\r\n", pos)
            self.assertGreaterEqual(hend, 0)
            fields = {}
            for line in body[pos:hend].split(b"\r\n"):
                k, sep, v = line.partition(b":")
                self.assertTrue(sep, "bad part header %r" % line)
                self.assertNotIn(k.strip().lower().decode(), fields, "repeated part field")
                fields[k.strip().lower().decode()] = v.strip().decode("latin-1")
            self.assertEqual(fields.get("content-type"), ctype)
            cr = re.match(r"^bytes (\d+)-(\d+)/(\d+)$", fields.get("content-range", ""))
            self.assertIsNotNone(cr, "part Content-Range %r" % fields.get("content-range"))
            first, last, size = (int(x) for x in cr.groups())
            self.assertEqual(size, len(data))
            self.assertLessEqual(first, last)
            self.assertLess(last, len(data))
            dstart = hend + 4
            dend = dstart + last - first + 1
            self.assertEqual(body[dstart:dend], data[first:last + 1],
                             "part %d-%d differs from the file" % (first, last))
            self.assertEqual(body[dend:dend + 2 + len(delim)], b"\r\n" + delim,
                             "no boundary right after part %d-%d" % (first, last))
            ranges.append((first, last))
            pos = dend + 2 + len(delim)
        else:
            self.fail("no closing boundary")
        return ranges


# --- ranges ---------------------------------------------------------------------


class RangeTest(DepthCase):
    @classmethod
    def setUpClass(cls):
        # A large head limit so that 10,000 ranges reach the range code.
        cls.srv = h.Server(config={"threads": 2, "max_head_size": "256k"})
        cls.addClassCleanup(cls.srv.close)
        cls.srv.write_file("data.bin", DATA, mtime=MTIME)
        # written as usual: its mtime and change time are the same instant
        cls.srv.write_file("fresh.bin", DATA)
        cls.srv.write_file("text.txt", TEXT, mtime=MTIME)
        cls.srv.write_file("empty.txt", b"", mtime=MTIME)
        cls.srv.write_file("one.txt", b"x", mtime=MTIME)
        cls.srv.mkdir("noindex")
        cls.srv.write_file("noindex/file.txt", b"file\n")
        cls.srv.start()

    def full(self, target):
        r, _ = self.req(target)
        self.assertEqual(r.status, 200)
        return r

    def test_accept_ranges(self):
        for target in ("/data.bin", "/text.txt", "/empty.txt"):
            with self.subTest(target=target):
                r = self.full(target)
                self.assertEqual(r.get("Accept-Ranges"), "bytes")
        r, _ = self.req("/data.bin", {"Range": "bytes=0-0"})
        self.assertEqual(r.status, 206)
        self.assertEqual(r.get("Accept-Ranges"), "bytes")

    def test_single_ranges(self):
        size = len(DATA)
        cases = [("bytes=0-0", 0, 0), ("bytes=0-99", 0, 99), ("bytes=1000-1999", 1000, 1999),
                 ("bytes=299999-299999", 299999, 299999), ("bytes=123456-", 123456, size - 1),
                 ("bytes=0-", 0, size - 1), ("bytes=-1", size - 1, size - 1),
                 ("bytes=-500", size - 500, size - 1), ("bytes=-300000", 0, size - 1),
                 ("bytes=-999999", 0, size - 1), ("bytes=250000-999999", 250000, size - 1),
                 ("bytes=65535-131073", 65535, 131073), ("bytes=1-2,", 1, 2),
                 ("bytes= 1-2", 1, 2), ("bytes=0-0,0-0", 0, 0), ("bytes=10-20,15-30", 10, 30),
                 ("bytes=10-19,20-29", 10, 29), ("bytes=500-600,300000-", 500, 600)]
        full = self.full("/data.bin")
        for value, first, last in cases:
            with self.subTest(range=value):
                r, c = self.req("/data.bin", {"Range": value})
                self.check_206(r, DATA, first, last)
                self.assertEqual(r.get("Content-Type"), full.get("Content-Type"))
                self.assertEqual(r.get("ETag"), full.get("ETag"))
                self.assertEqual(r.get("Last-Modified"), h.http_date(MTIME))
                self.check_kept_alive(r, c)

    def test_multipart(self):
        size = len(DATA)
        cases = [
            ("bytes=0-9,20-29", [(0, 9), (20, 29)]),
            ("bytes=0-0,299999-299999", [(0, 0), (299999, 299999)]),
            # request order is kept when nothing is merged
            ("bytes=200000-200099,5-14,-10", [(200000, 200099), (5, 14), (size - 10, size - 1)]),
            ("bytes=1000-,0-99", [(1000, size - 1), (0, 99)]),
            # unsatisfiable members are dropped
            ("bytes=0-1,400000-,7-8", [(0, 1), (7, 8)]),
            ("bytes=" + ",".join("%d-%d" % (i * 1000, i * 1000 + 9) for i in range(16)),
             [(i * 1000, i * 1000 + 9) for i in range(16)]),
        ]
        ctype = self.full("/data.bin").get("Content-Type")
        for value, want in cases:
            with self.subTest(range=value):
                r, c = self.req("/data.bin", {"Range": value})
                self.assertEqual(self.parse_multipart(r, DATA, ctype), want)
                self.assertEqual(r.get("Accept-Ranges"), "bytes")
                self.check_kept_alive(r, c)
        # a text file: each part has the file's own Content-Type
        ctype = self.full("/text.txt").get("Content-Type")
        self.assertTrue(ctype.startswith("text/plain"), ctype)
        r, c = self.req("/text.txt", {"Range": "bytes=0-4,-5"})
        self.assertEqual(self.parse_multipart(r, TEXT, ctype),
                         [(0, 4), (len(TEXT) - 5, len(TEXT) - 1)])

    def test_multipart_boundary_varies(self):
        seen = set()
        for _ in range(3):
            r, _ = self.req("/data.bin", {"Range": "bytes=0-0,2-2"})
            self.parse_multipart(r, DATA, self.full("/data.bin").get("Content-Type"))
            seen.add(r.get("Content-Type"))
        self.assertGreater(len(seen), 1, "the same boundary for every response")

    def test_unsatisfiable_416(self):
        cases = [("/data.bin", "bytes=300000-", len(DATA)),
                 ("/data.bin", "bytes=300000-400000", len(DATA)),
                 ("/data.bin", "bytes=999999-,300001-300002", len(DATA)),
                 ("/data.bin", "bytes=-0", len(DATA)),
                 ("/one.txt", "bytes=1-", 1),
                 ("/empty.txt", "bytes=0-", 0),
                 ("/empty.txt", "bytes=0-0,5-9", 0)]
        for target, value, size in cases:
            with self.subTest(target=target, range=value):
                r, c = self.req(target, {"Range": value})
                self.assertEqual(r.status, 416, r)
                self.assertEqual(r.get("Content-Range"), "bytes */%d" % size)
                self.assertEqual(int(r.get("Content-Length")), len(r.body))
                self.assertNotEqual(r.body, DATA)
                self.check_kept_alive(r, c)

    def test_malformed_ignored(self):
        for value in ("bytes=5-2", "bytes=a-b", "bytes=-", "bytes=", "bytes=--1", "bytes=1--2",
                      "items=0-9", "0-9", "bytes 0-9", "bytes=0-9;x", "bytes=1 -2",
                      "bytes=0-1,5-2", "bytes=0-1,x", "bytes=0x10-0x20", "bytes=,,",
                      "bytes=+1-2"):
            with self.subTest(range=value):
                r, c = self.req("/data.bin", {"Range": value})
                self.check_full(r, DATA)
                self.check_kept_alive(r, c)

    def test_range_rfc_details(self):
        size = len(DATA)
        big = "9" * 25
        # (target, Range, expected status, first, last)
        cases = [
            # RFC 9110 14.1: range unit names are case-insensitive
            ("/data.bin", "Bytes=0-9", 206, 0, 9),
            ("/data.bin", "BYTES=0-9", 206, 0, 9),
            # 14.1.1/14.1.2: a last-pos beyond the length means "to the end",
            # however many digits it has; a huge suffix means the whole file
            ("/data.bin", "bytes=100-" + big, 206, 100, size - 1),
            ("/data.bin", "bytes=-" + big, 206, 0, size - 1),
            # 14.1.2: a last-pos equal to the length is the length - 1
            ("/data.bin", "bytes=0-%d" % size, 206, 0, size - 1),
            ("/data.bin", "bytes=100-%d" % size, 206, 100, size - 1),
            # a first-pos beyond the length is unsatisfiable, however large
            ("/data.bin", "bytes=%s-" % big, 416, None, None),
            # 14.1.1: on a zero-length file a non-zero suffix-range is
            # satisfiable; no 206 can carry it, so the answer is the empty 200
            ("/empty.txt", "bytes=-5", 200, None, None),
        ]
        for target, value, status, first, last in cases:
            with self.subTest(target=target, range=value):
                r, c = self.req(target, {"Range": value})
                if status == 206:
                    self.check_206(r, DATA, first, last)
                elif status == 416:
                    self.assertEqual(r.status, 416, r)
                    self.assertEqual(r.get("Content-Range"), "bytes */%d" % size)
                else:
                    self.check_full(r, b"")
                self.check_kept_alive(r, c)

    def test_max_ranges(self):
        # the default max_ranges is 16: 17 separate ranges get the whole file
        value = "bytes=" + ",".join("%d-%d" % (i * 10, i * 10) for i in range(17))
        r, c = self.req("/data.bin", {"Range": value})
        self.check_full(r, DATA)
        self.check_kept_alive(r, c)
        # 16 are fine
        value = "bytes=" + ",".join("%d-%d" % (i * 10, i * 10) for i in range(16))
        r, c = self.req("/data.bin", {"Range": value})
        self.assertEqual(len(self.parse_multipart(r, DATA, self.full("/data.bin").get(
            "Content-Type"))), 16)

    def test_max_ranges_counted_after_merging(self):
        # pyserve.conf(5), max_ranges: "Overlapping or adjacent ranges are
        # merged first": 40 adjacent one-byte ranges are one range
        value = "bytes=" + ",".join("%d-%d" % (i, i) for i in range(40))
        r, c = self.req("/data.bin", {"Range": value})
        self.check_206(r, DATA, 0, 39)
        self.check_kept_alive(r, c)

    def test_ten_thousand_ranges_not_amplified(self):
        size = len(DATA)
        values = {
            "separate": ",".join("%d-%d" % (2 * i, 2 * i) for i in range(10000)),
            "adjacent": ",".join("%d-%d" % (i, i) for i in range(10000)),
            "whole file again and again": ",".join(["0-299999"] * 10000),
            "overlapping suffixes": ",".join(["-%d" % (size - i) for i in range(10000)]),
        }
        for name, v in values.items():
            with self.subTest(case=name):
                r, c = self.req("/data.bin", {"Range": "bytes=" + v})
                self.assertIn(r.status, (200, 206), r)
                self.assertLessEqual(len(r.body), size + 1024, "amplified response")
                if r.status == 200:
                    self.check_full(r, DATA)
                elif r.get("Content-Range"):
                    m = re.match(r"^bytes (\d+)-(\d+)/%d$" % size, r.get("Content-Range"))
                    self.assertIsNotNone(m)
                    self.check_206(r, DATA, int(m.group(1)), int(m.group(2)))
                else:
                    self.parse_multipart(r, DATA, self.full("/data.bin").get("Content-Type"))
                self.check_kept_alive(r, c)
        # more ranges than max_ranges: the whole file, once
        r, _ = self.req("/data.bin", {"Range": "bytes=" + values["separate"]})
        self.check_full(r, DATA)

    def test_head_with_range_ignored(self):
        c = self.conn()
        h.request(c, h.build_request("HEAD", "/data.bin", headers={"Range": "bytes=0-9"})
                  + h.build_request("GET", "/one.txt"))
        r = h.read_response(c, head_only_for_HEAD=True)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(int(r.get("Content-Length")), len(DATA))
        self.assertIsNone(r.get("Content-Range"))
        self.assertEqual(r.get("Accept-Ranges"), "bytes")
        r2 = h.read_response(c)
        self.assertEqual((r2.status, r2.body), (200, b"x"))
        self.assertEqual(bytes(c.buf), b"")

    def test_range_or_if_range_in_two_lines(self):
        """Range and If-Range hold one value: two lines of either are
        invalid, and the whole file is sent."""
        etag = self.full("/data.bin").get("ETag")
        for fields in ([("Range", "bytes=10-19"), ("Range", "bytes=10-19")],
                       [("Range", "bytes=10-19"), ("If-Range", etag), ("If-Range", etag)]):
            with self.subTest(fields=fields):
                r, c = self.req("/data.bin", fields)
                self.check_full(r, DATA)
                self.check_kept_alive(r, c)
        r, _ = self.req("/data.bin", [("Range", "bytes=10-19"), ("If-Range", etag)])
        self.check_206(r, DATA, 10, 19)

    def test_if_range(self):
        etag = self.full("/data.bin").get("ETag")
        self.check_etag_shape(etag)
        lm = h.http_date(MTIME)
        fresh = self.full("/fresh.bin").get("Last-Modified")
        t = email.utils.parsedate_to_datetime(fresh).timestamp()
        cases = [("/data.bin", etag, True), ("/data.bin", '"nope"', False),
                 ("/data.bin", "W/" + etag, False), ("/fresh.bin", fresh, True),
                 ("/fresh.bin", h.http_date(t - 1), False),
                 ("/fresh.bin", h.http_date(t + 1), False),
                 # its mtime was put back after the write (the inode changed
                 # later): the date may not stand for the bytes
                 ("/data.bin", lm, False),
                 ("/data.bin", "garbage", False), ("/data.bin", etag + ", \"x\"", False)]
        for target, value, honoured in cases:
            with self.subTest(target=target, if_range=value):
                r, c = self.req(target, {"Range": "bytes=10-19", "If-Range": value})
                if honoured:
                    self.check_206(r, DATA, 10, 19)
                else:
                    self.check_full(r, DATA)
                self.check_kept_alive(r, c)
        # multipart under a matching If-Range
        r, _ = self.req("/data.bin", {"Range": "bytes=0-1,10-11", "If-Range": etag})
        self.assertEqual(self.parse_multipart(r, DATA, self.full("/data.bin").get("Content-Type")),
                         [(0, 1), (10, 11)])
        # If-Range without Range: plain 200
        r, _ = self.req("/data.bin", {"If-Range": etag})
        self.check_full(r, DATA)

    def test_range_after_conditionals(self):
        etag = self.full("/data.bin").get("ETag")
        # If-None-Match comes first (RFC 9110 13.2.2): 304, not 206
        r, c = self.req("/data.bin", {"Range": "bytes=0-9", "If-None-Match": etag})
        self.assertEqual(r.status, 304, r)
        self.check_kept_alive(r, c)
        # a failed If-Match is 412, not 206 or 416
        for rng in ("bytes=0-9", "bytes=999999-"):
            r, c = self.req("/data.bin", {"Range": rng, "If-Match": '"nope"'})
            self.assertEqual(r.status, 412, r)
        # a passing If-Match leaves the range
        r, _ = self.req("/data.bin", {"Range": "bytes=0-9", "If-Match": etag})
        self.check_206(r, DATA, 0, 9)

    def test_no_listing_403(self):
        r, c = self.req("/noindex/")
        self.assertEqual(r.status, 403, r)
        self.assertNotIn(b"file.txt", r.body)
        self.check_kept_alive(r, c)

    def test_options(self):
        for target in ("*", "/data.bin", "/", "/noindex/"):
            with self.subTest(target=target):
                c = self.conn()
                h.request(c, h.build_request("OPTIONS", target))
                r = h.read_response(c)
                self.assertEqual(r.status, 204, r)
                self.assertEqual(r.get("Allow"), ALLOW)
                self.assertIsNone(r.get("Content-Length"))
                self.assertIsNone(r.get("Transfer-Encoding"))
                self.check_kept_alive(r, c)


class MultipleRangesModeTest(DepthCase):
    def run_mode(self, mode):
        srv = h.Server(config={"threads": 1, "multiple_ranges": mode})
        self.addCleanup(srv.close)
        srv.write_file("data.bin", DATA, mtime=MTIME)
        srv.write_file("text.txt", TEXT, mtime=MTIME)
        srv.start()
        self.srv = srv
        return srv

    def test_first(self):
        self.run_mode("first")
        r, c = self.req("/data.bin", {"Range": "bytes=5000-5099,0-9,-3"})
        self.check_206(r, DATA, 5000, 5099)
        self.check_kept_alive(r, c)
        # a single range is unaffected
        r, _ = self.req("/data.bin", {"Range": "bytes=7-8"})
        self.check_206(r, DATA, 7, 8)

    def test_whole(self):
        self.run_mode("whole")
        r, c = self.req("/data.bin", {"Range": "bytes=5000-5099,0-9"})
        self.check_full(r, DATA)
        self.check_kept_alive(r, c)
        r, _ = self.req("/data.bin", {"Range": "bytes=7-8"})
        self.check_206(r, DATA, 7, 8)
        # merged into one: a single range, not "several"
        r, _ = self.req("/data.bin", {"Range": "bytes=0-4,5-9"})
        self.check_206(r, DATA, 0, 9)

    def test_multipart_default(self):
        self.run_mode("multipart")
        ctype = self.req("/data.bin")[0].get("Content-Type")
        r, _ = self.req("/data.bin", {"Range": "bytes=5000-5099,0-9"})
        self.assertEqual(self.parse_multipart(r, DATA, ctype), [(5000, 5099), (0, 9)])


class MaxRangesTest(DepthCase):
    def test_upper_bound(self):
        # pyserve.conf(5): max_ranges goes up to 64, and 64 separate ranges
        # are then a multipart of 64 parts
        srv = h.Server(config={"threads": 1, "max_ranges": 64})
        self.addCleanup(srv.close)
        srv.write_file("data.bin", DATA, mtime=MTIME)
        srv.start()
        self.srv = srv
        ctype = self.req("/data.bin")[0].get("Content-Type")
        want = [(i * 1000, i * 1000 + 9) for i in range(64)]
        r, c = self.req("/data.bin", {"Range": "bytes=" + ",".join("%d-%d" % w for w in want)})
        self.assertEqual(self.parse_multipart(r, DATA, ctype), want)
        self.check_kept_alive(r, c, "/data.bin", DATA)
        # one more: the whole file
        value = "bytes=" + ",".join("%d-%d" % (i * 1000, i * 1000 + 9) for i in range(65))
        r, _ = self.req("/data.bin", {"Range": value})
        self.check_full(r, DATA)


class BigBodyTest(DepthCase):
    """Bodies over 128 KiB go out in sendfile calls cut to a multiple of the
    connection's MSS, counted from what the head (or a part's header) left
    in the first segment, while the MSS grows on a new connection. Every
    length and every kind of body around those cuts is byte-exact."""

    BIG = random.Random(20261124).randbytes(3 * 1024 * 1024 + 12345)

    @classmethod
    def setUpClass(cls):
        cls.srv = h.Server(config={"threads": 1})
        cls.addClassCleanup(cls.srv.close)
        cls.srv.write_file("big.bin", cls.BIG, mtime=MTIME)
        cls.srv.write_file("text.txt", TEXT, mtime=MTIME)
        cls.srv.start()

    def test_single_bodies(self):
        size = len(self.BIG)
        # (first, last) of ranges; None: the whole file
        cases = [None, (1, size - 1), (131072, size - 1), (0, 131072), (0, 131071),
                 (65483, 196448), (65536, 65536 + 131072), (0, 261931), (0, 261932),
                 (100, 100 + 4 * 65483), (12345, 2 * 1024 * 1024), None]
        c = self.conn()  # one connection, first request on it: a small MSS at first
        for case in cases:
            with self.subTest(range=case):
                headers = {} if case is None else {"Range": "bytes=%d-%d" % case}
                h.request(c, h.build_request("GET", "/big.bin", headers=headers))
                r = h.read_response(c)
                if case is None:
                    self.check_full(r, self.BIG)
                else:
                    self.check_206(r, self.BIG, *case)
                self.assertNotIn("close", r.connection_tokens(), r)
        self.check_kept_alive(r, c)

    def test_multipart_bodies(self):
        size = len(self.BIG)
        ctype = self.req("/big.bin")[0].get("Content-Type")
        cases = [[(0, 0), (7, size - 1)],
                 [(0, 99), (200000, 1500000), (size - 10, size - 1)],
                 [(300000, 300000 + 131072), (0, 131073)]]
        c = self.conn()
        for case in cases:
            with self.subTest(ranges=case):
                value = "bytes=" + ",".join("%d-%d" % rg for rg in case)
                h.request(c, h.build_request("GET", "/big.bin", headers={"Range": value}))
                r = h.read_response(c)
                self.assertEqual(self.parse_multipart(r, self.BIG, ctype), case)
        self.check_kept_alive(r, c)


# --- conditional requests -------------------------------------------------------


class ConditionalTest(DepthCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = h.Server(config={"threads": 2})
        cls.addClassCleanup(cls.srv.close)
        cls.srv.write_file("text.txt", TEXT, mtime=MTIME)
        cls.srv.write_file("other.txt", b"other\n", mtime=MTIME)
        cls.srv.start()

    def setUp(self):
        r, _ = self.req("/text.txt")
        self.assertEqual(r.status, 200)
        self.etag = r.get("ETag")
        self.check_etag_shape(self.etag)
        self.assertFalse(self.etag.startswith("W/"))

    def test_list_fields_in_several_lines(self):
        """Lines of If-None-Match or If-Match make one list (RFC 9110 5.3);
        two lines of a date field make an invalid one, ignored."""
        future = h.http_date(MTIME + 3600)
        past = h.http_date(MTIME - 3600)
        cases = [([("If-None-Match", '"zzz"'), ("If-None-Match", self.etag)], 304),
                 ([("If-None-Match", self.etag), ("If-None-Match", '"zzz"')], 304),
                 ([("If-None-Match", '"a"'), ("If-None-Match", '"b"')], 200),
                 ([("If-Match", '"zzz"'), ("If-Match", self.etag)], 200),
                 ([("If-Match", '"a"'), ("If-Match", '"b"')], 412),
                 ([("If-Modified-Since", future), ("If-Modified-Since", future)], 200),
                 ([("If-Unmodified-Since", past), ("If-Unmodified-Since", past)], 200)]
        for fields, status in cases:
            with self.subTest(fields=fields):
                r, c = self.req("/text.txt", fields)
                self.assertEqual(r.status, status, r)
                self.check_kept_alive(r, c)

    def test_etag_stable(self):
        tags = set()
        for i in range(4):
            r, _ = self.req("/text.txt", method="HEAD" if i % 2 else "GET")
            tags.add(r.get("ETag"))
        self.assertEqual(tags, {self.etag})
        r, _ = self.req("/other.txt")
        self.check_etag_shape(r.get("ETag"))
        self.assertNotEqual(r.get("ETag"), self.etag)

    def test_etag_changes_with_the_file(self):
        self.srv.write_file("changing.txt", b"version 1\n", mtime=MTIME)
        r1, _ = self.req("/changing.txt")
        e1 = r1.get("ETag")
        self.check_etag_shape(e1)
        # same size, new content and time
        self.srv.write_file("changing.txt", b"version 2\n", mtime=MTIME + 1)
        r2, _ = self.req("/changing.txt")
        self.assertEqual(r2.body, b"version 2\n")
        self.assertNotEqual(r2.get("ETag"), e1)
        # the old tag no longer validates
        r, _ = self.req("/changing.txt", {"If-None-Match": e1})
        self.assertEqual((r.status, r.body), (200, b"version 2\n"))
        r, _ = self.req("/changing.txt", {"If-Match": e1})
        self.assertEqual(r.status, 412)
        # only the time changes (nanoseconds)
        p = self.srv.path("changing.txt")
        os.utime(p, ns=(MTIME * 10**9 + 1, MTIME * 10**9 + 1))
        r3, _ = self.req("/changing.txt")
        self.assertNotIn(r3.get("ETag"), (e1, r2.get("ETag")))
        # a new file (new inode) with the same size and time
        tmp = self.srv.path("changing.tmp")
        with open(tmp, "wb") as f:
            f.write(b"version 3\n")
        os.utime(tmp, ns=(MTIME * 10**9 + 1, MTIME * 10**9 + 1))
        os.replace(tmp, p)
        r4, _ = self.req("/changing.txt")
        self.assertEqual(r4.body, b"version 3\n")
        self.assertNotIn(r4.get("ETag"), (e1, r2.get("ETag"), r3.get("ETag")))

    def check_304(self, headers, method="GET"):
        """The response is a 304 without body or length, with the validators;
        a request pipelined behind it is answered normally."""
        c = self.conn()
        h.request(c, h.build_request(method, "/text.txt", headers=headers)
                  + h.build_request("GET", "/other.txt"))
        r = h.read_response(c, head_only_for_HEAD=(method == "HEAD"))
        self.assertEqual(r.status, 304, r)
        self.assertIsNone(r.get("Content-Length"), "Content-Length on a 304")
        self.assertIsNone(r.get("Transfer-Encoding"))
        self.assertIsNone(r.get("Content-Range"))
        self.assertIsNone(r.get("Content-Type"))
        self.assertEqual(r.get("ETag"), self.etag)
        self.assertEqual(r.get("Last-Modified"), h.http_date(MTIME))
        self.assertIsNotNone(r.get("Date"))
        self.assertNotIn("close", r.connection_tokens())
        # no body: the next bytes are the next response
        r2 = h.read_response(c)
        self.assertEqual((r2.status, r2.body), (200, b"other\n"))
        self.assertEqual(bytes(c.buf), b"")
        return r

    def test_if_none_match_304(self):
        for value in (self.etag, '"a", ' + self.etag, '"a",' + self.etag + ',"b"',
                      "W/" + self.etag, '"x", W/' + self.etag, "*"):
            with self.subTest(if_none_match=value):
                self.check_304({"If-None-Match": value})
        self.check_304({"If-None-Match": self.etag}, method="HEAD")

    def test_if_none_match_200(self):
        for value in ('"nope"', 'W/"nope"', '"a", "b"', '"%sx"' % self.etag[1:-1],
                      self.etag[1:-1], self.etag[:-1]):
            with self.subTest(if_none_match=value):
                r, c = self.req("/text.txt", {"If-None-Match": value})
                self.check_full(r, TEXT)

    def test_if_modified_since(self):
        for date in (h.http_date(MTIME), h.http_date(MTIME + 3600),
                     "Tuesday, 14-Nov-23 22:13:20 GMT", "Tue Nov 14 22:13:20 2023"):
            with self.subTest(ims=date):
                self.check_304({"If-Modified-Since": date})
        for date in (h.http_date(MTIME - 1), "garbage", "",
                     h.http_date(MTIME) + ", " + h.http_date(MTIME)):
            with self.subTest(ims=date):
                r, _ = self.req("/text.txt", {"If-Modified-Since": date})
                self.check_full(r, TEXT)

    def test_412(self):
        cases = [{"If-Match": '"nope"'}, {"If-Match": "W/" + self.etag},
                 {"If-Match": '"a", "b"'}, {"If-Unmodified-Since": h.http_date(MTIME - 1)},
                 {"If-Unmodified-Since": "Tue Nov 14 22:13:19 2023"}]
        for headers in cases:
            for method in ("GET", "HEAD"):
                with self.subTest(headers=headers, method=method):
                    r, c = self.req("/text.txt", headers, method=method)
                    self.assertEqual(r.status, 412, r)
                    self.assertNotEqual(r.body, TEXT)
                    self.check_kept_alive(r, c)

    def test_if_match_and_unmodified_pass(self):
        for headers in ({"If-Match": self.etag}, {"If-Match": "*"},
                        {"If-Match": '"a", ' + self.etag},
                        {"If-Unmodified-Since": h.http_date(MTIME)},
                        {"If-Unmodified-Since": h.http_date(MTIME + 60)},
                        {"If-Unmodified-Since": "not a date"}):
            with self.subTest(headers=headers):
                r, _ = self.req("/text.txt", headers)
                self.check_full(r, TEXT)

    def test_precedence(self):
        past, now, future = h.http_date(MTIME - 60), h.http_date(MTIME), h.http_date(MTIME + 60)
        e = self.etag
        cases = [
            # If-Match is evaluated and If-Unmodified-Since ignored
            ({"If-Match": e, "If-Unmodified-Since": past}, 200),
            ({"If-Match": '"x"', "If-Unmodified-Since": future}, 412),
            # 412 before 304
            ({"If-Match": '"x"', "If-None-Match": e}, 412),
            ({"If-Unmodified-Since": past, "If-None-Match": e}, 412),
            ({"If-Unmodified-Since": past, "If-Modified-Since": future}, 412),
            # passing step 1/2, then step 3/4
            ({"If-Match": e, "If-None-Match": e}, 304),
            ({"If-Match": e, "If-None-Match": '"x"'}, 200),
            ({"If-Unmodified-Since": future, "If-Modified-Since": now}, 304),
            # If-None-Match is evaluated and If-Modified-Since ignored
            ({"If-None-Match": '"x"', "If-Modified-Since": future}, 200),
            ({"If-None-Match": e, "If-Modified-Since": past}, 304),
            ({"If-None-Match": "*", "If-Modified-Since": past}, 304),
            # all four
            ({"If-Match": e, "If-Unmodified-Since": past, "If-None-Match": '"x"',
              "If-Modified-Since": future}, 200),
            ({"If-Match": "*", "If-Unmodified-Since": past, "If-None-Match": "W/" + e,
              "If-Modified-Since": past}, 304),
        ]
        for headers, status in cases:
            with self.subTest(headers=headers):
                r, c = self.req("/text.txt", headers)
                self.assertEqual(r.status, status, r)
                if status == 200:
                    self.check_full(r, TEXT)
                elif status == 304:
                    self.assertEqual(r.get("ETag"), e)
                    self.assertIsNone(r.get("Content-Length"))
                self.check_kept_alive(r, c)

    def test_keep_alive_after_many_304(self):
        c = self.conn()
        raw = b"".join(h.build_request("GET", "/text.txt", headers={"If-None-Match": self.etag})
                       for _ in range(20))
        h.request(c, raw + h.build_request("GET", "/other.txt"))
        for i in range(20):
            r = h.read_response(c)
            self.assertEqual(r.status, 304, "response %d" % i)
        r = h.read_response(c)
        self.assertEqual((r.status, r.body), (200, b"other\n"))
        self.assertEqual(bytes(c.buf), b"")


# --- directory listings ---------------------------------------------------------


class _Links(html.parser.HTMLParser):
    """(href, text) of every <a> element."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links = []
        self._href = None
        self._text = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self._href = dict(attrs).get("href")
            self._text = []

    def handle_data(self, data):
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "a" and self._href is not None:
            self.links.append((self._href, "".join(self._text)))
            self._href = None


HOSTILE = {
    "<script>alert(1).html": b"script-named file\n",
    "<img src=x onerror=alert(1)>": b"img-named file\n",
    'q"uote\'s.txt': b"quotes\n",
    '"><a href=x>.txt': b"attribute breaker\n",
    "a b & c.txt": b"spaces and ampersand\n",
    "caf\u00e9 \u2603.txt": b"utf-8 name\n",
    "new\nline.txt": b"newline in the name\n",
    "tab\there.txt": b"tab in the name\n",
    "javascript:alert(1)": b"scheme-like name\n",
    "%2e%2e": b"percent-looking name\n",
    "q?x=1#frag.txt": b"query and fragment characters\n",
    "semi;colon+plus.txt": b"semicolon\n",
    "plain.txt": b"plain\n",
}
HOSTILE_DIR = "dir <b>"


class AutoindexTest(DepthCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = h.Server(config={"threads": 1, "autoindex": "yes"})
        cls.addClassCleanup(cls.srv.close)
        for name, data in HOSTILE.items():
            cls.srv.write_file("list/" + name, data, mtime=MTIME)
        cls.srv.write_file("list/%s/inner.txt" % HOSTILE_DIR, b"inner\n")
        cls.srv.write_file("list/.secret", b"SECRET\n")
        cls.srv.mkdir("list/.hiddendir")
        cls.srv.write_file("withindex/index.html", b"<p>the index</p>\n")
        cls.srv.write_file("withindex/other.txt", b"other\n")
        cls.srv.start()

    def listing(self, target):
        r, c = self.req(target)
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.get("Content-Type") or "").lower(), HTML_UTF8)
        self.assertEqual(int(r.get("Content-Length")), len(r.body))
        p = _Links()
        p.feed(r.body.decode("utf-8"))
        p.close()
        return r, p.links

    def check_href_safe(self, href):
        self.assertRegex(href, r"^[A-Za-z0-9\-._~%]+/?$|^\.\./$")
        parts = urllib.parse.urlsplit(href)
        self.assertEqual((parts.scheme, parts.netloc, parts.query, parts.fragment),
                         ("", "", "", ""), href)

    def test_listing_escapes_hostile_names(self):
        r, links = self.listing("/list/")
        body = r.body
        for raw in (b"<script", b"<img", b"<b>", b'q"uote', b'"><a href=x>', b"a b & c",
                    b"javascript:alert(1)\""):
            self.assertNotIn(raw, body, "raw %r in the page" % raw)
        self.assertIn(b"&lt;script&gt;alert(1).html", body)
        self.assertIn(b"a b &amp; c.txt", body)
        names = {}
        for href, text in links:
            self.check_href_safe(href)
            if href == "../":
                continue
            decoded = urllib.parse.unquote_to_bytes(href).decode("utf-8")
            self.assertEqual(decoded, text, "href %r and text %r differ" % (href, text))
            names[decoded] = href
        # below the root, the parent link comes first
        self.assertEqual([href for href, _ in links].count("../"), 1)
        self.assertEqual(links[0], ("../", "../"))
        want = set(HOSTILE) | {HOSTILE_DIR + "/"}
        self.assertEqual(set(names), want)

    def test_each_link_fetches_its_file(self):
        _, links = self.listing("/list/")
        c = self.conn()
        for href, text in links:
            name = urllib.parse.unquote_to_bytes(href).decode("utf-8")
            with self.subTest(name=name):
                h.request(c, h.build_request("GET", "/list/" + href))
                r = h.read_response(c)
                self.assertEqual(r.status, 200, r)
                if name in HOSTILE:
                    self.assertEqual(r.body, HOSTILE[name])
                elif name == "../":  # the root's listing
                    self.assertIn(b'href="list/"', r.body)
                else:
                    self.assertEqual(name, HOSTILE_DIR + "/")
                    self.assertEqual((r.get("Content-Type") or "").lower(), HTML_UTF8)
                    self.assertIn(b'href="inner.txt"', r.body)

    def test_subdirectory_listing(self):
        target = "/list/" + urllib.parse.quote(HOSTILE_DIR) + "/"
        r, links = self.listing(target)
        self.assertEqual([href for href, _ in links], ["../", "inner.txt"])
        self.assertIn(b"dir &lt;b&gt;", r.body)
        self.assertNotIn(b"<b>", r.body)
        c = self.conn()
        h.request(c, h.build_request("GET", target + "inner.txt"))
        self.assertEqual(h.read_response(c).body, b"inner\n")

    def test_order_dirs_first_then_bytes(self):
        _, links = self.listing("/list/")
        got = [urllib.parse.unquote_to_bytes(href) for href, _ in links]
        dirs = sorted(n for n in got if n.endswith(b"/"))
        files = sorted(n for n in got if not n.endswith(b"/"))
        self.assertEqual(got, dirs + files)

    def test_sizes_and_times(self):
        r, _ = self.listing("/list/")
        # plain.txt: 6 bytes, modified 2023-11-14 22:13 UTC
        self.assertRegex(r.body.decode("utf-8"),
                         r">plain\.txt</a>.*?2023-11-14 22:13.*?\b6\b")

    def test_dotfiles_hidden(self):
        r, links = self.listing("/list/")
        self.assertNotIn(b".secret", r.body)
        self.assertNotIn(b".hiddendir", r.body)
        r, _ = self.req("/list/.secret")
        self.assertEqual(r.status, 403)
        self.assertNotIn(b"SECRET", r.body)

    def test_root_listing_has_no_parent_link(self):
        _, links = self.listing("/")
        hrefs = [href for href, _ in links]
        self.assertNotIn("../", hrefs)
        self.assertEqual(sorted(hrefs), ["list/", "withindex/"])

    def test_index_wins_over_listing(self):
        r, _ = self.req("/withindex/")
        self.assertEqual((r.status, r.body), (200, b"<p>the index</p>\n"))

    def test_head_listing(self):
        g, _ = self.listing("/list/")
        c = self.conn()
        h.request(c, h.build_request("HEAD", "/list/") + h.build_request("GET", "/list/plain.txt"))
        r = h.read_response(c, head_only_for_HEAD=True)
        self.assertEqual(r.status, 200)
        self.assertEqual(int(r.get("Content-Length")), len(g.body))
        self.assertEqual(h.read_response(c).body, b"plain\n")

    def test_dotfiles_allowed_are_listed(self):
        srv = h.Server(config={"threads": 1, "autoindex": "yes", "dotfiles": "allow"})
        self.addCleanup(srv.close)
        srv.write_file("d/.secret", b"dot\n")
        srv.write_file("d/visible", b"vis\n")
        srv.start()
        r, links = self.listing_on(srv, "/d/")
        self.assertEqual([href for href, _ in links], ["../", ".secret", "visible"])
        r, _ = self.req("/d/.secret", srv=srv)
        self.assertEqual((r.status, r.body), (200, b"dot\n"))

    def listing_on(self, srv, target):
        saved = self.srv
        try:
            self.srv = srv
            return self.listing(target)
        finally:
            self.srv = saved


class ListingCacheTest(DepthCase):
    """A listing page is kept by the worker that made it (fcache.h), yet
    every change in the directory made before a request shows in the
    answer: names coming and going, a file's size and time, an index file
    appearing. One worker, so every request meets the same cache; each
    change follows a request that has (re)filled it."""

    @classmethod
    def setUpClass(cls):
        cls.srv = h.Server(config={"threads": 1, "autoindex": "yes"})
        cls.addClassCleanup(cls.srv.close)
        cls.srv.write_file("live/a.txt", b"a", mtime=MTIME)
        cls.srv.write_file("live/sub/inner.txt", b"inner", mtime=MTIME)
        cls.srv.write_file("beside.txt", b"beside", mtime=MTIME)
        cls.srv.start()

    def page(self, c, target="/live/"):
        h.request(c, h.build_request("GET", target))
        r = h.read_response(c)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(int(r.get("Content-Length")), len(r.body))
        return r.body.decode("utf-8")

    def row(self, body, name):
        m = re.search(r'>%s</a></td><td>([^<]*)</td><td>([^<]*)</td>' % re.escape(name), body)
        return m and (m.group(1), m.group(2))

    def test_listing_follows_changes(self):
        c = self.conn()
        path = self.srv.path("live/a.txt")
        self.assertEqual(self.row(self.page(c), "a.txt"), ("2023-11-14 22:13", "1"))
        self.assertEqual(self.row(self.page(c), "a.txt"), ("2023-11-14 22:13", "1"))
        # the file cached too: its directory's watch is added again after the page's
        h.request(c, h.build_request("GET", "/live/sub/inner.txt"))
        self.assertEqual(h.read_response(c).body, b"inner")
        with open(path, "ab") as f:  # data alone: IN_MODIFY of a file in the directory
            f.write(b"bcde")
        self.assertEqual(self.row(self.page(c), "a.txt")[1], "5")
        os.utime(path, (MTIME + 86400, MTIME + 86400))  # a time alone: IN_ATTRIB
        self.assertEqual(self.row(self.page(c), "a.txt"), ("2023-11-15 22:13", "5"))
        with open(path, "r+b") as f:
            f.truncate(3)
        self.assertEqual(self.row(self.page(c), "a.txt")[1], "3")
        os.utime(path, (MTIME + 86400, MTIME + 86400))
        self.srv.write_file("live/b.txt", b"bb", mtime=MTIME)
        self.assertEqual(self.row(self.page(c), "b.txt"), ("2023-11-14 22:13", "2"))
        os.unlink(self.srv.path("live/b.txt"))
        self.assertIsNone(self.row(self.page(c), "b.txt"))
        os.rename(path, self.srv.path("live/renamed.txt"))
        body = self.page(self.conn())  # a new connection: the same worker, the same cache
        self.assertIsNone(self.row(body, "a.txt"))
        self.assertEqual(self.row(body, "renamed.txt"), ("2023-11-15 22:13", "3"))
        os.rename(self.srv.path("live/renamed.txt"), path)

    def test_subdirectory_and_root_pages_follow_their_own_changes(self):
        c = self.conn()
        self.assertIn('href="inner.txt"', self.page(c, "/live/sub/"))
        self.assertEqual(self.row(self.page(c, "/"), "beside.txt"), ("2023-11-14 22:13", "6"))
        self.srv.write_file("live/sub/new.txt", b"new")
        self.assertIn('href="new.txt"', self.page(c, "/live/sub/"))
        with open(self.srv.path("beside.txt"), "ab") as f:
            f.write(b"!")
        os.utime(self.srv.path("beside.txt"), (MTIME, MTIME))
        self.assertEqual(self.row(self.page(c, "/"), "beside.txt"), ("2023-11-14 22:13", "7"))
        os.unlink(self.srv.path("live/sub/new.txt"))
        self.assertNotIn('href="new.txt"', self.page(c, "/live/sub/"))

    def test_index_file_appearing_replaces_the_listing(self):
        self.srv.write_file("idx/x.txt", b"x")
        c = self.conn()
        self.assertIn('href="x.txt"', self.page(c, "/idx/"))
        self.srv.write_file("idx/index.html", b"<p>now an index</p>\n")
        h.request(c, h.build_request("GET", "/idx/"))
        r = h.read_response(c)
        self.assertEqual((r.status, r.body), (200, b"<p>now an index</p>\n"))
        os.unlink(self.srv.path("idx/index.html"))
        self.assertIn('href="x.txt"', self.page(c, "/idx/"))

    def test_index_symlink_whose_target_appears(self):
        # a dangling link counts as no index; its target is in a directory
        # no watch of the page covers, so such a page is not kept
        self.srv.write_file("lnk/x.txt", b"x")
        self.srv.mkdir("elsewhere")
        os.symlink("../elsewhere/index.html", self.srv.path("lnk/index.html"))
        c = self.conn()
        self.assertIn('href="x.txt"', self.page(c, "/lnk/"))
        self.assertIn('href="x.txt"', self.page(c, "/lnk/"))
        self.srv.write_file("elsewhere/index.html", b"<p>target</p>\n")
        h.request(c, h.build_request("GET", "/lnk/"))
        r = h.read_response(c)
        self.assertEqual((r.status, r.body), (200, b"<p>target</p>\n"))

    def test_head_and_get_agree(self):
        c = self.conn()
        body = self.page(c)
        for _ in range(2):  # from the page just made, then from the cache
            h.request(c, h.build_request("HEAD", "/live/"))
            r = h.read_response(c, head_only_for_HEAD=True)
            self.assertEqual((r.status, int(r.get("Content-Length"))),
                             (200, len(body.encode("utf-8"))))
        self.assertEqual(self.page(c), body)


class ListingCacheLoadTest(DepthCase):
    """The same promise with two workers, each keeping the page hot (two
    clients ask for it without pause): after each change, a request on a
    new connection, whichever worker takes it, sees the change."""

    ROUNDS = 60

    @classmethod
    def setUpClass(cls):
        cls.srv = h.Server(config={"threads": 2, "autoindex": "yes"})
        cls.addClassCleanup(cls.srv.close)
        # enough entries that making the page takes a while, so that changes
        # also land while a worker is making one
        for i in range(2000):
            cls.srv.write_file("hot/base%04d.txt" % i, b"base")
        cls.srv.start()

    def hammer(self, stop, errors, counts):
        try:
            c = self.srv.connect()
            try:
                for _ in range(100000):  # bounded; stop ends it long before
                    if stop.is_set():
                        break
                    h.request(c, h.build_request("GET", "/hot/"))
                    r = h.read_response(c)
                    if r.status != 200:
                        errors.append(r.status)
                        break
                    counts.append(1)
            finally:
                c.close()
        except Exception as e:  # reported by the test
            errors.append(e)

    def test_changes_show_under_load(self):
        stop, errors, counts = threading.Event(), [], []
        threads = [threading.Thread(target=self.hammer, args=(stop, errors, counts))
                   for _ in range(2)]
        for t in threads:
            t.start()
        try:
            self.assertTrue(h.poll_until(lambda: len(counts) >= 20 or errors, 10.0, 0.01))
            row = ListingCacheTest.row
            for i in range(self.ROUNDS):
                name = "n%03d.txt" % i
                path = self.srv.write_file("hot/" + name, b"x" * (i + 1))
                r, _ = self.req("/hot/")
                self.assertEqual(row(self, r.body.decode(), name)[1], str(i + 1), name)
                with open(path, "ab") as f:
                    f.write(b"y")
                r, _ = self.req("/hot/")
                self.assertEqual(row(self, r.body.decode(), name)[1], str(i + 2), name)
                os.unlink(path)
                r, _ = self.req("/hot/")
                self.assertIsNone(row(self, r.body.decode(), name), name)
        finally:
            stop.set()
            for t in threads:
                t.join(30.0)
        self.assertEqual(errors, [])


# --- precompressed variants -------------------------------------------------------


CSS = b"".join(b".rule-%d { color: #%06x; margin: %dpx }\n" % (i, i * 7919 % 0xffffff, i % 40)
               for i in range(300))
CSS_GZ = gzip.compress(CSS, mtime=0)
CSS_BR = b"\xce\xb2\x00not-really-brotli\x00" + random.Random(5).randbytes(700)
JS = b"".join(b"console.log(%d);\n" % i for i in range(500))
JS_GZ = gzip.compress(JS, mtime=0)
STALE = b"stale original\n" * 50


class PrecompressedTest(DepthCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = h.Server(config={"threads": 1, "precompressed": "yes"})
        cls.addClassCleanup(cls.srv.close)
        s = cls.srv
        s.write_file("style.css", CSS, mtime=MTIME)
        s.write_file("style.css.gz", CSS_GZ, mtime=MTIME)  # same time: not older
        s.write_file("style.css.br", CSS_BR, mtime=MTIME + 10)
        s.write_file("app.js", JS, mtime=MTIME)
        s.write_file("app.js.gz", JS_GZ, mtime=MTIME + 1)
        s.write_file("stale.txt", STALE, mtime=MTIME)
        s.write_file("stale.txt.gz", gzip.compress(b"old"), mtime=MTIME - 100)
        s.write_file("stale.txt.br", b"old br", mtime=MTIME - 1)
        s.write_file("gzdir.txt", b"the gz is a directory\n", mtime=MTIME)
        s.mkdir("gzdir.txt.gz")
        os.utime(s.path("gzdir.txt.gz"), (MTIME + 5, MTIME + 5))
        s.write_file("plain.txt", b"no variants\n", mtime=MTIME)
        s.start()

    def check_vary(self, r):
        self.assertIn("accept-encoding", field_tokens(", ".join(r.get_all("Vary"))),
                      "no Vary: Accept-Encoding in %r" % r)

    def get_css(self, ae, extra=None, method="GET"):
        headers = {} if ae is None else {"Accept-Encoding": ae}
        headers.update(extra or {})
        r, c = self.req("/style.css", headers, method=method)
        return r, c

    def test_negotiation(self):
        ident, _ = self.get_css(None)
        ctype = ident.get("Content-Type")
        self.assertTrue(ctype.startswith("text/css"), ctype)
        variants = {"identity": CSS, "gzip": CSS_GZ, "br": CSS_BR}
        cases = [
            (None, "identity"), ("", "identity"), ("gzip", "gzip"), ("br", "br"),
            ("gzip, br", "br"), ("br, gzip", "br"),
            ("br;q=0.5, gzip;q=0.8", "gzip"), ("br;q=0.9, gzip", "gzip"),
            ("gzip;q=0.5, br;q=0.5", "br"), ("*", "br"), ("*;q=0", "identity"),
            ("gzip;q=0", "identity"), ("gzip;q=0, br;q=0", "identity"),
            ("br;q=0, *", "gzip"), ("*;q=0.5, br;q=0.4", "gzip"), ("x-gzip", "gzip"),
            ("GZIP", "gzip"), ("identity", "identity"), ("deflate", "identity"),
            ("gzip ; q=0.2 , br ; q=0.1", "gzip"), ("compress, gzip;q=0.001", "gzip"),
        ]
        tags = {}
        for ae, want in cases:
            with self.subTest(accept_encoding=ae):
                r, c = self.get_css(ae)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.get("Content-Encoding"), None if want == "identity" else want)
                self.assertEqual(r.body, variants[want])
                self.assertEqual(int(r.get("Content-Length")), len(variants[want]))
                self.assertEqual(r.get("Content-Type"), ctype)
                self.check_vary(r)
                self.check_etag_shape(r.get("ETag"))
                tags.setdefault(want, set()).add(r.get("ETag"))
                self.check_kept_alive(r, c, "/plain.txt", b"no variants\n")
        self.assertEqual(gzip.decompress(variants["gzip"]), CSS)
        # one ETag per representation, different from the others
        for want, seen in tags.items():
            self.assertEqual(len(seen), 1, "%s: %r" % (want, seen))
        self.assertEqual(len({next(iter(s)) for s in tags.values()}), 3)

    def test_only_gzip_variant(self):
        for ae, enc, body in (("br", None, JS), ("br, gzip;q=0.1", "gzip", JS_GZ),
                              ("gzip", "gzip", JS_GZ), ("*", "gzip", JS_GZ)):
            with self.subTest(accept_encoding=ae):
                r, _ = self.req("/app.js", {"Accept-Encoding": ae})
                self.assertEqual(r.status, 200)
                self.assertEqual(r.get("Content-Encoding"), enc)
                self.assertEqual(r.body, body)
                self.check_vary(r)

    def test_stale_or_odd_variant_not_used(self):
        for target, body in (("/stale.txt", STALE), ("/gzdir.txt", b"the gz is a directory\n")):
            for ae in ("gzip", "br", "gzip, br", "*"):
                with self.subTest(target=target, accept_encoding=ae):
                    r, _ = self.req(target, {"Accept-Encoding": ae})
                    self.check_full(r, body)
                    self.assertIsNone(r.get("Content-Encoding"))
                    self.check_vary(r)

    def test_vary_everywhere(self):
        r, _ = self.req("/plain.txt")
        self.check_vary(r)
        r, _ = self.req("/plain.txt", {"Accept-Encoding": "gzip"})
        self.check_vary(r)
        r, _ = self.get_css("gzip", method="HEAD")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.get("Content-Encoding"), "gzip")
        self.assertEqual(int(r.get("Content-Length")), len(CSS_GZ))
        self.check_vary(r)
        r, _ = self.get_css("br", {"Range": "bytes=0-3"})
        self.assertEqual(r.status, 206)
        self.check_vary(r)

    def test_ranges_on_variants(self):
        for ae, data, enc in (("gzip", CSS_GZ, "gzip"), ("br", CSS_BR, "br"), (None, CSS, None)):
            with self.subTest(accept_encoding=ae):
                r, c = self.get_css(ae, {"Range": "bytes=3-10"})
                self.check_206(r, data, 3, 10)
                self.assertEqual(r.get("Content-Encoding"), enc)
                self.check_vary(r)
                r, _ = self.get_css(ae, {"Range": "bytes=-7"})
                self.check_206(r, data, len(data) - 7, len(data) - 1)
                r, _ = self.get_css(ae, {"Range": "bytes=0-1,100-120"})
                self.assertEqual(r.get("Content-Encoding"), enc)
                ctype = self.get_css(None)[0].get("Content-Type")
                self.assertEqual(self.parse_multipart(r, data, ctype), [(0, 1), (100, 120)])
                # unsatisfiable against the variant's own length
                r, _ = self.get_css(ae, {"Range": "bytes=%d-" % len(data)})
                self.assertEqual(r.status, 416)
                self.assertEqual(r.get("Content-Range"), "bytes */%d" % len(data))

    def test_conditionals_per_representation(self):
        gz, _ = self.get_css("gzip")
        ident, _ = self.get_css(None)
        egz, eid = gz.get("ETag"), ident.get("ETag")
        self.assertNotEqual(egz, eid)
        # the gzip tag validates the gzip representation only
        c = self.conn()
        h.request(c, h.build_request("GET", "/style.css", headers={
            "Accept-Encoding": "gzip", "If-None-Match": egz}) + h.build_request("GET", "/plain.txt"))
        r = h.read_response(c)
        self.assertEqual(r.status, 304, r)
        self.assertIsNone(r.get("Content-Length"))
        self.assertIsNone(r.get("Content-Encoding"))
        self.assertEqual(r.get("ETag"), egz)
        self.assertEqual(r.get("Last-Modified"), gz.get("Last-Modified"))
        self.check_vary(r)
        self.assertEqual(h.read_response(c).body, b"no variants\n")
        self.assertEqual(bytes(c.buf), b"")
        r, _ = self.get_css(None, {"If-None-Match": egz})
        self.check_full(r, CSS)
        r, _ = self.get_css("gzip", {"If-None-Match": eid})
        self.check_full(r, CSS_GZ)
        r, _ = self.get_css("gzip", {"If-Match": eid})
        self.assertEqual(r.status, 412)
        # If-Range with the other representation's tag: the whole variant
        r, _ = self.get_css("gzip", {"Range": "bytes=0-4", "If-Range": eid})
        self.check_full(r, CSS_GZ)
        r, _ = self.get_css("gzip", {"Range": "bytes=0-4", "If-Range": egz})
        self.check_206(r, CSS_GZ, 0, 4)


# --- Cache-Control -----------------------------------------------------------------


class CacheControlTest(DepthCase):
    IMMUTABLE = "public, max-age=31536000, immutable"

    @classmethod
    def setUpClass(cls):
        cls.srv = h.Server()
        cls.addClassCleanup(cls.srv.close)
        s = cls.srv
        for rel in ("assets/app.js", "assets/a.css", "assets/private/x.js",
                    "assets/private/page.html", "assets/deep/er/z.txt", "page.html",
                    "style.css", "notes.md", "hello.txt", "assetsX/y.js", "sub/page.html"):
            s.write_file(rel, b"content of " + rel.encode() + b"\n", mtime=MTIME)
        s.write_config_text(
            "root = %s\n"
            "threads = 1\n"
            "# both syntaxes: KEY MATCH = VALUE and KEY = MATCH VALUE\n"
            "cache_control /assets/ = %s\n"
            "cache_control = /assets/private/ no-store\n"
            "cache_control .html = no-cache\n"
            "cache_control = .css max-age=60\n"
            "cache_control .md = max-age=1\n"
            "cache_control = .md max-age=2\n" % (s.root, cls.IMMUTABLE))
        s.start()

    def test_rules(self):
        cases = [
            ("/assets/app.js", self.IMMUTABLE),
            ("/assets/deep/er/z.txt", self.IMMUTABLE),
            ("/assets/private/x.js", "no-store"),        # longest prefix wins
            ("/assets/private/page.html", "no-store"),   # a prefix before extensions
            ("/assets/a.css", self.IMMUTABLE),
            ("/page.html", "no-cache"),
            ("/sub/page.html", "no-cache"),
            ("/style.css", "max-age=60"),
            ("/notes.md", "max-age=2"),                  # the later line for .md
            ("/hello.txt", None),
            ("/assetsX/y.js", None),
            ("/%61ssets/app.js", self.IMMUTABLE),        # the decoded path counts
            ("/assets//app.js", self.IMMUTABLE),
        ]
        for target, want in cases:
            with self.subTest(target=target):
                r, _ = self.req(target)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.get("Cache-Control"), want)

    def test_later_rule_and_command_line_replace(self):
        """A later rule for the same match replaces the earlier one, for
        extensions (compared without regard to case) as for prefixes, and a
        rule given with -o replaces the file's."""
        srv = h.Server(args=["-o", "cache_control .html = public, max-age=999"])
        self.addCleanup(srv.close)
        for rel in ("page.html", "a/x.txt", "b/y.txt"):
            srv.write_file(rel, b"x\n")
        srv.write_config_text(
            "root = %s\n"
            "cache_control .html = no-cache\n"
            "cache_control .HTML = max-age=60\n"
            "cache_control /a/ = first\n"
            "cache_control /a/ = second\n"
            "cache_control /b/ = one\n"
            "cache_control .txt = by-ext\n" % srv.root)
        srv.start()
        for target, want in (("/page.html", "public, max-age=999"), ("/a/x.txt", "second"),
                             ("/b/y.txt", "one")):
            with self.subTest(target=target):
                r = srv.get(target)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.get("Cache-Control"), want)

    def test_on_304_206_and_head(self):
        r, _ = self.req("/assets/app.js")
        etag = r.get("ETag")
        r, _ = self.req("/assets/app.js", {"If-None-Match": etag})
        self.assertEqual(r.status, 304)
        self.assertEqual(r.get("Cache-Control"), self.IMMUTABLE)
        r, _ = self.req("/assets/app.js", {"Range": "bytes=0-3"})
        self.assertEqual(r.status, 206)
        self.assertEqual(r.get("Cache-Control"), self.IMMUTABLE)
        r, _ = self.req("/assets/app.js", method="HEAD")
        self.assertEqual(r.get("Cache-Control"), self.IMMUTABLE)


if __name__ == "__main__":
    h.main_with_skip()
