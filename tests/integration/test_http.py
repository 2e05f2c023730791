#!/usr/bin/env python3
"""pyserved over raw HTTP/1.1: status codes, headers, keep-alive, pipelining, path safety."""

import email.utils
import os
import socket
import struct
import threading
import time
import sys
import unittest

sys.dont_write_bytecode = True  # keep the source tree clean
import pyserve_harness as h  # noqa: E402

MTIME = 1700000000  # Tue, 14 Nov 2023 22:13:20 GMT
HELLO = b"Hello, world!\n"
HTML_UTF8 = "text/html; charset=utf-8"
SECRET = b"OUTSIDE-THE-ROOT-SECRET-0123456789\n"


def populate(srv):
    """The document tree shared by the tests; files outside the root go to
    srv.base."""
    srv.write_file("hello.txt", HELLO, mtime=MTIME)
    srv.write_file("index.html", b"<p>root index</p>\n")
    srv.write_file("page.html", b"<html><body>page</body></html>\n")
    srv.write_file("b.txt", b"bee\n")
    srv.write_file("sub/index.html", b"<p>sub index</p>\n")
    srv.write_file("sub/b.txt", b"sub bee\n")
    srv.write_file("sub/deeper/c.txt", b"sea\n")
    srv.mkdir("noindex")
    srv.write_file("noindex/file.txt", b"not an index\n")
    srv.write_file("a b.txt", b"space in name\n")
    srv.write_file("caf\u00e9.txt", b"utf-8 name\n")
    srv.write_file("%2e%2e/y.txt", b"literal percent dir\n")
    srv.write_file(".env", b"SECRET=1\n")
    srv.write_file(".git/config", b"[core]\n")
    srv.write_file("sub/.hidden", b"hidden\n")
    srv.write_file(".well-known/x", b"well known\n")
    srv.write_file("sub/.well-known/x", b"not at the top\n")
    srv.write_file("style.css", b"p { color: red }\n")
    srv.write_file("app.js", b"console.log(1);\n")
    srv.write_file("data.json", b"{\"a\": 1}\n")
    srv.write_file("img.png", b"\x89PNG\r\n\x1a\n" + bytes(32))
    srv.write_file("photo.jpg", b"\xff\xd8\xff\xe0" + bytes(32))
    srv.write_file("anim.gif", b"GIF89a" + bytes(32))
    srv.write_file("pic.svg", b"<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>\n")
    srv.write_file("doc.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    srv.write_file("blob.zzunknown", bytes(range(256)) * 4)
    os.mkfifo(srv.path("fifo"))
    us = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    us.bind(srv.path("unix.sock"))
    us.close()
    # Outside the root.
    with open(os.path.join(srv.base, "outside.txt"), "wb") as f:
        f.write(SECRET)
    os.mkdir(os.path.join(srv.base, "outdir"))
    with open(os.path.join(srv.base, "outdir", "secret.txt"), "wb") as f:
        f.write(SECRET)
    # Symlinks.
    os.symlink("hello.txt", srv.path("link_in.txt"))
    os.symlink("sub", srv.path("linkdir"))
    os.symlink("../hello.txt", srv.path("sub/link_up_in.txt"))
    os.symlink(os.path.join(srv.base, "outside.txt"), srv.path("abs_out.txt"))
    os.symlink("../outside.txt", srv.path("rel_out.txt"))
    os.symlink("../../outside.txt", srv.path("sub/rel_out2.txt"))
    os.symlink(os.path.join(srv.base, "outdir"), srv.path("abs_outdir"))
    os.symlink("../outdir", srv.path("rel_outdir"))
    os.symlink("/etc/passwd", srv.path("passwd"))
    os.symlink("/dev/null", srv.path("devnull"))
    # Index files that are symlinks: to elsewhere under the root, and out of it.
    os.mkdir(srv.path("lidx"))
    os.symlink("../sub/index.html", srv.path("lidx/index.html"))
    os.mkdir(srv.path("lidxout"))
    os.symlink("../../outside.txt", srv.path("lidxout/index.html"))


def wchan(tid):
    """Where thread tid of this process sleeps in the kernel ("" if unknown)."""
    try:
        with open("/proc/self/task/%d/wchan" % tid) as f:
            return f.read().strip()
    except OSError:
        return ""


class HttpCase(unittest.TestCase):
    """Assertions shared by the test classes; cls.srv is a running Server."""

    srv = None
    version = h.package_version()

    def conn(self):
        return self.srv.connect()

    def send(self, raw, head=False, conn=None):
        c = conn or self.conn()
        if conn is None:
            self.addCleanup(c.close)
        h.request(c, raw)
        return h.read_response(c, head_only_for_HEAD=head), c

    def get(self, target, **kw):
        return self.send(h.build_request("GET", target, **kw))

    def check_common(self, r):
        server = r.get("Server")
        self.assertIsNotNone(server, "no Server field")
        self.assertEqual(server, "pyserve")  # no version unless server_tokens = yes
        date = r.get("Date")
        self.assertIsNotNone(date, "no Date field")
        self.assertRegex(date, h.IMF_FIXDATE_RE)
        ts = email.utils.parsedate_to_datetime(date).timestamp()
        self.assertLess(abs(ts - time.time()), 60, "Date %r is not now" % date)
        self.assertIsNotNone(r.get("Content-Length"), "no Content-Length")

    def check_error(self, r, status):
        self.assertEqual(r.status, status, r)
        self.check_common(r)
        self.assertEqual((r.get("Content-Type") or "").lower(), HTML_UTF8)
        self.assertEqual(int(r.get("Content-Length")), len(r.body))
        self.assertGreater(len(r.body), 0, "error without a body")

    def check_kept_alive(self, r, c):
        """The response does not announce a close and the connection still
        answers a request."""
        self.assertNotIn("close", r.connection_tokens(), r)
        h.request(c, h.build_request("GET", "/hello.txt"))
        r2 = h.read_response(c)
        self.assertEqual((r2.status, r2.body), (200, HELLO))

    def check_closed(self, r, c):
        """The response announces Connection: close and the server closes."""
        self.assertIn("close", r.connection_tokens(), r)
        self.assertEqual(h.wait_closed(c, 3.0), b"", "bytes after a closing response")

    def check_ok(self, r, body, ctype=None):
        self.assertEqual(r.status, 200, r)
        self.check_common(r)
        self.assertEqual(r.body, body)
        self.assertEqual(int(r.get("Content-Length")), len(body))
        if ctype is not None:
            self.assertEqual((r.get("Content-Type") or "").lower(), ctype)


class HttpTest(HttpCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = h.Server(config={"threads": 2})
        cls.addClassCleanup(cls.srv.close)
        populate(cls.srv)
        cls.srv.start()

    # --- 200 and headers ---------------------------------------------------
    def test_get_200_headers(self):
        r, c = self.get("/hello.txt")
        self.check_ok(r, HELLO, "text/plain; charset=utf-8")
        self.assertEqual(r.version, "HTTP/1.1")
        self.assertEqual(r.get("Last-Modified"), h.http_date(MTIME))
        self.check_kept_alive(r, c)

    def test_last_modified_edges(self):
        """A file of the epoch has a Last-Modified like any other; one from
        the future is sent as the response's Date (RFC 9110 8.8.2.1), and
        If-Modified-Since compares with that."""
        p = self.srv.write_file("epoch.txt", b"e\n")
        os.utime(p, (0, 0))
        p = self.srv.write_file("future.txt", b"f\n")
        future = int(time.time()) + 10 * 365 * 86400
        os.utime(p, (future, future))
        for _ in range(2):  # the second answer comes from the file cache
            r, _ = self.get("/epoch.txt")
            self.assertEqual(r.get("Last-Modified"), "Thu, 01 Jan 1970 00:00:00 GMT", r)
            r, _ = self.get("/future.txt")
            self.assertEqual(r.status, 200)
            self.assertEqual(r.get("Last-Modified"), r.get("Date"), r)
            r, _ = self.get("/future.txt", headers={"If-Modified-Since": h.http_date(future)})
            self.assertEqual(r.status, 304, r)
            r, _ = self.get("/future.txt", headers={"If-Modified-Since": h.http_date(0)})
            self.assertEqual(r.status, 200, r)

    def test_content_types(self):
        exact = [
            ("/page.html", "text/html; charset=utf-8"),
            ("/hello.txt", "text/plain; charset=utf-8"),
            ("/img.png", "image/png"),
            ("/photo.jpg", "image/jpeg"),
            ("/blob.zzunknown", "application/octet-stream"),
        ]
        for target, ctype in exact:
            with self.subTest(target=target):
                r, _ = self.get(target)
                self.assertEqual(r.status, 200)
                self.assertEqual((r.get("Content-Type") or "").lower(), ctype)
        media = [
            ("/style.css", {"text/css"}),
            ("/app.js", {"text/javascript", "application/javascript"}),
            ("/data.json", {"application/json"}),
            ("/anim.gif", {"image/gif"}),
            ("/pic.svg", {"image/svg+xml"}),
            ("/doc.pdf", {"application/pdf"}),
        ]
        for target, types in media:
            with self.subTest(target=target):
                r, _ = self.get(target)
                self.assertEqual(r.status, 200)
                mt = (r.get("Content-Type") or "").split(";")[0].strip().lower()
                self.assertIn(mt, types)

    def test_head_same_headers_no_body(self):
        for target in ("/hello.txt", "/page.html", "/blob.zzunknown", "/", "/nope.txt", "/.env"):
            with self.subTest(target=target):
                g, _ = self.get(target)
                raw = (h.build_request("HEAD", target) + h.build_request("GET", "/b.txt"))
                c = self.conn()
                self.addCleanup(c.close)
                h.request(c, raw)
                hd = h.read_response(c, head_only_for_HEAD=True)
                self.assertEqual(hd.status, g.status)
                strip = lambda r: sorted((k.lower(), v) for k, v in r.headers
                                         if k.lower() != "date")
                self.assertEqual(strip(hd), strip(g))
                # No body: the next bytes are the pipelined GET's response.
                nxt = h.read_response(c)
                self.assertEqual((nxt.status, nxt.body), (200, b"bee\n"))
                self.assertEqual(bytes(c.buf), b"")

    # --- 404 / 403 ----------------------------------------------------------
    def test_404(self):
        # a name longer than the file system allows (255 bytes) is just not
        # there: 404, not 414, and the connection stays
        for target in ("/nope.txt", "/nodir/x.txt", "/sub/nope", "/%252e%252e/x", "/" + "x" * 300,
                       "/sub/" + "y" * 300 + "/z"):
            with self.subTest(target=target):
                r, c = self.get(target)
                self.check_error(r, 404)
                self.check_kept_alive(r, c)

    def test_request_line_of_8000_octets(self):
        # RFC 9112 section 3 asks every server to take request lines of at
        # least 8000 octets; the defaults do, with room for common fields.
        line = b"GET /hello.txt?q= HTTP/1.1"
        target = "/hello.txt?q=" + "a" * (8000 - len(line))
        raw = h.build_request("GET", target, headers=[("User-Agent", "u" * 200),
                                                      ("Cookie", "c" * 4000)])
        self.assertEqual(len(raw.split(b"\r\n", 1)[0]), 8000)
        r, c = self.send(raw)
        self.assertEqual((r.status, r.body), (200, HELLO))
        self.check_kept_alive(r, c)

    def test_dotfiles_denied(self):
        for target in ("/.env", "/.git/config", "/sub/.hidden", "/.nonexistent",
                       "/sub/.well-known/x", "/.well-known/../.env", "/%2eenv",
                       "/%2Egit/config"):
            with self.subTest(target=target):
                r, c = self.get(target)
                self.check_error(r, 403)
                self.assertNotIn(b"SECRET", r.body)
                self.check_kept_alive(r, c)

    def test_well_known_served(self):
        r, _ = self.get("/.well-known/x")
        self.check_ok(r, b"well known\n")

    def test_non_regular_files_403(self):
        for target in ("/fifo", "/unix.sock", "/devnull"):
            with self.subTest(target=target):
                c = self.srv.connect(timeout=3.0)
                self.addCleanup(c.close)
                h.request(c, h.build_request("GET", target))
                t0 = time.monotonic()
                r = h.read_response(c)
                self.assertLess(time.monotonic() - t0, 3.0)
                if target == "/devnull":  # also outside the root
                    self.assertIn(r.status, (403, 404))
                    self.check_error(r, r.status)
                else:
                    self.check_error(r, 403)
        # The server is not stuck on the fifo.
        r, _ = self.get("/hello.txt")
        self.assertEqual(r.body, HELLO)

    def test_fifo_is_not_opened(self):
        """A FIFO is refused without being opened: opening it for reading
        would release a writer waiting in open(2) (as opening a device node
        may arm a watchdog or rewind a tape), then close on it."""
        for target, rel in (("/wfifo", "wfifo"), ("/wfifodir/", "wfifodir/index.html")):
            with self.subTest(target=target):
                path = self.srv.path(rel)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                os.mkfifo(path)
                self.addCleanup(os.unlink, path)
                opened, tid = [], []

                def write_end():
                    tid.append(threading.get_native_id())
                    opened.append(os.open(path, os.O_WRONLY))
                writer = threading.Thread(target=write_end)
                writer.start()
                try:
                    if not h.poll_until(lambda: tid and wchan(tid[0]) == "wait_for_partner", 2.0):
                        self.skipTest("cannot see the writer wait in open(2) (wchan)")
                    r, _ = self.get(target)
                    self.check_error(r, 403)
                    self.assertFalse(h.poll_until(lambda: opened, 0.5),
                                     "the server opened the FIFO (its writer was released)")
                finally:
                    # release the writer (if still waiting), then close its end
                    rfd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
                    writer.join(5.0)
                    os.close(rfd)
                    for fd in opened:
                        os.close(fd)
                self.assertFalse(writer.is_alive())

    @unittest.skipIf(os.geteuid() == 0, "running as root: mode 000 files are readable")
    def test_unreadable_403(self):
        p = self.srv.write_file("locked.txt", b"locked\n")
        os.chmod(p, 0)
        r, _ = self.get("/locked.txt")
        self.check_error(r, 403)

    # --- directories -----------------------------------------------------------
    def test_301_directory(self):
        self.srv.write_file("a b:c%/x.txt", b"x\n")
        # The Location is made from the resolved path: repeated slashes and
        # dot segments are gone ("//evil.example/.." must not name a host),
        # and what needs it is percent-encoded again.
        cases = [("/sub", "/sub/"), ("/sub?x=1", "/sub/?x=1"), ("/sub/deeper", "/sub/deeper/"),
                 ("/noindex?a=b&c=d", "/noindex/?a=b&c=d"),
                 ("//evil.example/../sub", "/sub/"), ("//sub", "/sub/"),
                 ("/./sub/deeper/../deeper?q", "/sub/deeper/?q"), ("/s%75b", "/sub/"),
                 ("/a%20b%3Ac%25", "/a%20b:c%25/"),
                 # a fragment (not part of a target, yet sent by some) is left out
                 ("/sub#frag", "/sub/"), ("/sub?q=1#f?g", "/sub/?q=1")]
        for target, loc in cases:
            with self.subTest(target=target):
                r, _ = self.get(target)
                self.assertEqual(r.status, 301, r)
                self.check_common(r)
                self.assertEqual(r.get("Location"), loc)
                self.assertEqual(int(r.get("Content-Length")), len(r.body))

    def test_fragment_left_out(self):
        for target in ("/hello.txt#x", "/hello.txt?v=1#x", "/hello.txt#", "/hello.txt#/../b.txt"):
            with self.subTest(target=target):
                r, _ = self.get(target)
                self.assertEqual((r.status, r.body), (200, HELLO), r)
        r, _ = self.get("/#frag")
        self.assertEqual((r.status, r.body), (200, b"<p>root index</p>\n"))

    def test_index(self):
        for target, body in (("/", b"<p>root index</p>\n"), ("/sub/", b"<p>sub index</p>\n"),
                             ("/sub/index.html", b"<p>sub index</p>\n")):
            with self.subTest(target=target):
                r, _ = self.get(target)
                self.check_ok(r, body, HTML_UTF8)
        r, c = self.get("/noindex/")
        self.check_error(r, 403)
        self.check_kept_alive(r, c)
        # an index file may be a symlink to a file under the root, as any file may
        r, _ = self.get("/lidx/")
        self.check_ok(r, b"<p>sub index</p>\n", HTML_UTF8)
        r, _ = self.get("/lidxout/")
        self.check_error(r, 403)

    # --- methods and versions ----------------------------------------------------
    def test_405(self):
        for method in ("POST", "PUT", "DELETE", "TRACE", "PATCH"):
            with self.subTest(method=method):
                r, c = self.send(h.build_request(method, "/hello.txt"))
                self.check_error(r, 405)
                self.assertEqual(r.get("Allow"), "GET, HEAD, OPTIONS")
                self.check_kept_alive(r, c)

    def test_options(self):
        # OPTIONS * and OPTIONS /path: 204 with Allow, no body, no length
        # (RFC 9110 sections 9.3.7 and 8.6), connection kept.
        for target in ("*", "/hello.txt", "/"):
            with self.subTest(target=target):
                r, c = self.send(h.build_request("OPTIONS", target))
                self.assertEqual(r.status, 204, r)
                self.assertEqual(r.get("Allow"), "GET, HEAD, OPTIONS")
                self.assertIsNone(r.get("Content-Length"))
                self.assertEqual(r.body, b"")
                self.check_kept_alive(r, c)

    def test_options_bad_target_400(self):
        # authority-form is CONNECT's alone (RFC 9112 section 3.2.3), and a
        # target that is no form at all is invalid: 400 as for GET, not 204.
        for target in ("localhost:80", "hello.txt"):
            with self.subTest(target=target):
                r, c = self.send(h.build_request("OPTIONS", target))
                self.check_error(r, 400)
                self.check_closed(r, c)

    def test_501(self):
        reqs = {
            "FOO": h.build_request("FOO", "/hello.txt"),
            "lowercase get": h.build_request("get", "/hello.txt"),
            "Get": h.build_request("Get", "/hello.txt"),
            "BREW": h.build_request("BREW", "/hello.txt"),
            "TE gzip, chunked": h.build_request("GET", "/hello.txt",
                                                headers={"Transfer-Encoding": "gzip, chunked"}),
            "method filling the head": b"A" * 9000 + b" / HTTP/1.1\r\nHost: x\r\n\r\n",
        }
        for name, raw in reqs.items():
            with self.subTest(case=name):
                r, c = self.send(raw)
                self.check_error(r, 501)
                self.check_closed(r, c)

    def test_505(self):
        for version in ("HTTP/2.0", "HTTP/3.0", "HTTP/0.9"):
            with self.subTest(version=version):
                r, c = self.send(h.build_request("GET", "/hello.txt", version=version))
                self.check_error(r, 505)
                self.check_closed(r, c)

    def test_later_minor_version_is_served_as_1_1(self):
        # RFC 9112 2.3: HTTP/1.2 .. 1.9 are read as 1.1: answered in 1.1,
        # kept alive, and the Host field is required as in 1.1
        for version in ("HTTP/1.2", "HTTP/1.9"):
            with self.subTest(version=version):
                r, c = self.send(h.build_request("GET", "/hello.txt", version=version))
                self.assertEqual((r.version, r.status), ("HTTP/1.1", 200), r)
                self.assertNotIn("close", r.connection_tokens())
                h.request(c, h.build_request("GET", "/hello.txt", version=version, host=None))
                self.check_error(h.read_response(c), 400)

    def test_400(self):
        R = h.build_request
        cases = {
            "missing Host on 1.1": R("GET", "/hello.txt", host=None),
            "duplicate Host": R("GET", "/hello.txt", headers=[("Host", "other")]),
            "duplicate Host same value": R("GET", "/hello.txt", headers=[("host", "localhost")]),
            "version HTTP/1": R("GET", "/hello.txt", version="HTTP/1"),
            "version HTTX/1.1": R("GET", "/hello.txt", version="HTTX/1.1"),
            "version http/1.1": R("GET", "/hello.txt", version="http/1.1"),
            "version HTTP/11": R("GET", "/hello.txt", version="HTTP/11"),
            "missing version": b"GET /hello.txt\r\nHost: localhost\r\n\r\n",
            "extra word": b"GET /hello.txt HTTP/1.1 extra\r\nHost: localhost\r\n\r\n",
            "space in target": b"GET /hel lo.txt HTTP/1.1\r\nHost: localhost\r\n\r\n",
            "method only": b"GET\r\nHost: localhost\r\n\r\n",
            "no method": b"/hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n",
            "bad method token": b"G(T /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n",
            "control char in target": b"GET /a\x01b HTTP/1.1\r\nHost: localhost\r\n\r\n",
            "relative target": R("GET", "hello.txt"),
            "asterisk target": R("GET", "*"),
            "authority target": R("GET", "localhost:80"),
            "quote in absolute-form authority": b"GET http://a\"b/hello.txt HTTP/1.1\r\n"
                                                b"Host: localhost\r\n\r\n",
            "obs-text in absolute-form authority": b"GET http://a\xc3\xa9/hello.txt HTTP/1.1\r\n"
                                                   b"Host: localhost\r\n\r\n",
            "field without colon": b"GET / HTTP/1.1\r\nHost: localhost\r\nFoo\r\n\r\n",
            "space before colon": b"GET / HTTP/1.1\r\nHost : localhost\r\n\r\n",
            "empty field name": b"GET / HTTP/1.1\r\nHost: localhost\r\n: x\r\n\r\n",
            "CL and TE": R("GET", "/hello.txt", headers=[("Content-Length", "5"),
                                                          ("Transfer-Encoding", "chunked")]),
            "CL abc": R("GET", "/hello.txt", headers={"Content-Length": "abc"}),
            "CL -1": R("GET", "/hello.txt", headers={"Content-Length": "-1"}),
            "two CL values": R("GET", "/hello.txt", headers=[("Content-Length", "5"),
                                                              ("Content-Length", "6")]),
            "CL list": R("GET", "/hello.txt", headers={"Content-Length": "5, 6"}),
        }
        for name, raw in cases.items():
            with self.subTest(case=name):
                r, c = self.send(raw)
                self.check_error(r, 400)
                self.check_closed(r, c)

    def test_head_rejected_head_has_no_body(self):
        # A head the parser refuses after reading "HEAD ": the response is
        # the GET one's (same status and Content-Length) without its body
        # (RFC 9112 section 6.3), even though the connection closes.
        R = h.build_request
        cases = {
            "missing Host": (R("HEAD", "/hello.txt", host=None), 400),
            "bad Content-Length": (R("HEAD", "/hello.txt", headers={"Content-Length": "x"}), 400),
            "obs-fold": (b"HEAD /hello.txt HTTP/1.1\r\nHost: localhost\r\nX-A: a\r\n b\r\n\r\n", 400),
            "TE gzip": (R("HEAD", "/hello.txt", headers={"Transfer-Encoding": "gzip"}), 400),
            "TE gzip, chunked": (R("HEAD", "/hello.txt",
                                   headers={"Transfer-Encoding": "gzip, chunked"}), 501),
            "Host port": (R("HEAD", "/hello.txt", host="x:abc"), 400),
            "HTTP/2.0": (R("HEAD", "/hello.txt", version="HTTP/2.0"), 505),
            "long target": (R("HEAD", "/" + "a" * 9000), 414),
            "many fields": (R("HEAD", "/hello.txt",
                              headers=[("X-%d" % i, "y") for i in range(200)]), 431),
        }
        for name, (raw, status) in cases.items():
            with self.subTest(case=name):
                g, _ = self.send(raw.replace(b"HEAD ", b"GET ", 1))
                self.check_error(g, status)
                r, c = self.send(raw, head=True)
                self.assertEqual(r.status, status, r)
                self.assertEqual(r.get("Content-Length"), g.get("Content-Length"))
                self.check_closed(r, c)

    # --- connection management -------------------------------------------------
    def test_http10_without_host(self):
        r, c = self.send(h.build_request("GET", "/hello.txt", version="HTTP/1.0", host=None))
        self.check_ok(r, HELLO)
        self.check_closed(r, c)

    def test_http10_keep_alive(self):
        c = self.conn()
        self.addCleanup(c.close)
        ka = {"Connection": "keep-alive"}
        for i in range(3):
            with self.subTest(request=i):
                h.request(c, h.build_request("GET", "/hello.txt", version="HTTP/1.0",
                                             host=None, headers=ka))
                r = h.read_response(c)
                self.check_ok(r, HELLO)
                self.assertIn("keep-alive", r.connection_tokens())
                self.assertNotIn("close", r.connection_tokens())
        h.request(c, h.build_request("GET", "/b.txt", version="HTTP/1.0", host=None))
        r = h.read_response(c)
        self.check_ok(r, b"bee\n")
        self.check_closed(r, c)

    def test_connection_close_request(self):
        r, c = self.send(h.build_request("GET", "/hello.txt", headers={"Connection": "close"}))
        self.check_ok(r, HELLO)
        self.check_closed(r, c)

    def test_keep_alive_reuse(self):
        c = self.conn()
        self.addCleanup(c.close)
        files = ["/hello.txt", "/b.txt", "/sub/b.txt", "/page.html", "/sub/deeper/c.txt"]
        bodies = [HELLO, b"bee\n", b"sub bee\n", b"<html><body>page</body></html>\n", b"sea\n"]
        for i in range(10):
            with self.subTest(request=i):
                h.request(c, h.build_request("GET", files[i % 5]))
                r = h.read_response(c)
                self.check_ok(r, bodies[i % 5])
                self.assertNotIn("close", r.connection_tokens())

    def pipeline_cases(self):
        # (method, target, status, body)
        base = [("GET", "/hello.txt", 200, HELLO), ("GET", "/b.txt", 200, b"bee\n"),
                ("HEAD", "/page.html", 200, b""), ("GET", "/nope", 404, None),
                ("GET", "/sub/b.txt", 200, b"sub bee\n"), ("GET", "/sub", 301, None),
                ("POST", "/hello.txt", 405, None)]
        return [base[i % len(base)] for i in range(20)]

    def check_pipeline(self, c, cases):
        for i, (method, target, status, body) in enumerate(cases):
            with self.subTest(index=i, target=target):
                r = h.read_response(c, head_only_for_HEAD=(method == "HEAD"))
                self.assertEqual(r.status, status)
                if body is not None:
                    self.assertEqual(r.body, body)
                self.assertNotIn("close", r.connection_tokens())

    def test_pipelining_one_send(self):
        cases = self.pipeline_cases()
        c = self.conn()
        self.addCleanup(c.close)
        h.request(c, b"".join(h.build_request(m, t) for m, t, _, _ in cases))
        self.check_pipeline(c, cases)
        h.request(c, h.build_request("GET", "/hello.txt"))
        self.check_ok(h.read_response(c), HELLO)

    def test_pipelining_awkward_splits(self):
        cases = self.pipeline_cases()[:8]
        raw = b"".join(h.build_request(m, t, headers={"X-Pad": "p" * 10}) for m, t, _, _ in cases)
        cuts = {1, 2, 3, 4, len(raw) - 1}
        cuts.update(i + 1 for i in range(len(raw) - 1) if raw[i:i + 2] == b"\r\n")  # inside CRLF
        cuts.update(i + 3 for i in range(len(raw) - 3) if raw[i:i + 4] == b"\r\n\r\n")
        cuts.update(raw.find(b": ", i) + 1 for i in range(0, len(raw), 97))  # before a space
        cuts = sorted(x for x in cuts if 0 < x < len(raw))
        c = self.conn()
        self.addCleanup(c.close)
        prev = 0
        for cut in cuts + [len(raw)]:
            h.request(c, raw[prev:cut])
            prev = cut
            time.sleep(0.002)  # let each piece travel as its own segment
        self.check_pipeline(c, cases)

    def test_request_byte_by_byte(self):
        raw = h.build_request("GET", "/hello.txt", headers={"User-Agent": "slow"})
        c = self.conn()
        self.addCleanup(c.close)
        for i in range(len(raw)):
            h.request(c, raw[i:i + 1])
            time.sleep(0.002)
        r = h.read_response(c)
        self.check_ok(r, HELLO)

    def test_get_with_body_answered_then_closed(self):
        cases = {
            "Content-Length": h.build_request("GET", "/hello.txt",
                                              headers={"Content-Length": "5"}, body=b"hello"),
            "chunked": h.build_request("GET", "/hello.txt",
                                       headers={"Transfer-Encoding": "chunked"},
                                       body=b"5\r\nhello\r\n0\r\n\r\n"),
        }
        for name, raw in cases.items():
            with self.subTest(case=name):
                r, c = self.send(raw)
                self.check_ok(r, HELLO)
                self.check_closed(r, c)

    def test_content_length_zero_keeps_alive(self):
        r, c = self.send(h.build_request("GET", "/hello.txt", headers={"Content-Length": "0"}))
        self.check_ok(r, HELLO)
        self.check_kept_alive(r, c)

    # --- targets ---------------------------------------------------------------
    def test_absolute_form(self):
        port = self.srv.port
        for target, body in (("http://127.0.0.1:%d/hello.txt" % port, HELLO),
                             ("http://localhost/b.txt?x=1", b"bee\n"),
                             ("http://localhost/sub/", b"<p>sub index</p>\n")):
            with self.subTest(target=target):
                r, _ = self.get(target)
                self.check_ok(r, body)

    def test_query_ignored(self):
        for target in ("/hello.txt?", "/hello.txt?a=1&b=2", "/hello.txt?x=/../../etc/passwd",
                       "/hello.txt?%2F%5C"):
            with self.subTest(target=target):
                r, _ = self.get(target)
                self.check_ok(r, HELLO)

    def test_percent_encoded_names(self):
        for target, body in (("/a%20b.txt", b"space in name\n"),
                             ("/caf%C3%A9.txt", b"utf-8 name\n"),
                             ("/caf%c3%a9.txt", b"utf-8 name\n"),
                             ("/%68ello.txt", HELLO),
                             ("/%252e%252e/y.txt", b"literal percent dir\n")):
            with self.subTest(target=target):
                r, _ = self.get(target)
                self.check_ok(r, body)

    def test_dot_segments_normalised(self):
        for target, body in (("/sub/../hello.txt", HELLO), ("/./hello.txt", HELLO),
                             ("/nonexist/../b.txt", b"bee\n"), ("/sub/./b.txt", b"sub bee\n"),
                             ("//hello.txt", HELLO), ("/sub//b.txt", b"sub bee\n"),
                             ("/sub/deeper/../../b.txt", b"bee\n"),
                             ("/sub/%2e%2e/b.txt", b"bee\n")):
            with self.subTest(target=target):
                r, _ = self.get(target)
                self.check_ok(r, body)

    def test_traversal_400(self):
        targets = ["/../x", "/..", "/a/../../x", "/%2e%2e/x", "/%2E%2E/x", "/.%2e/x", "/%2e./x",
                   "/sub/../../outside.txt", "/sub/%2e%2e/%2e%2e/outside.txt",
                   "/../../../../etc/passwd", "/a%2Fb", "/sub%2fb.txt", "/%2F..%2Foutside.txt",
                   "/a\\b", "/..\\outside.txt", "/%5C", "/%5c..%5coutside.txt", "/%00",
                   "/hello.txt%00", "/%zz", "/%4", "/%", "/a%G0"]
        for target in targets:
            with self.subTest(target=target):
                r, c = self.send(("GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n" % target).encode())
                self.check_error(r, 400)
                self.assertNotIn(SECRET, r.body)
                self.check_closed(r, c)

    def test_symlinks(self):
        for target, body in (("/link_in.txt", HELLO), ("/linkdir/b.txt", b"sub bee\n"),
                             ("/sub/link_up_in.txt", HELLO)):
            with self.subTest(target=target):
                r, _ = self.get(target)
                self.check_ok(r, body)
        for target in ("/abs_out.txt", "/rel_out.txt", "/sub/rel_out2.txt",
                       "/abs_outdir/secret.txt", "/rel_outdir/secret.txt", "/passwd"):
            with self.subTest(target=target):
                r, c = self.get(target)
                self.assertIn(r.status, (403, 404), r)
                self.check_error(r, r.status)
                self.assertNotIn(SECRET, r.body)
                self.assertNotIn(b"root:", r.body)


class HttpWalkTest(HttpTest):
    """Every HttpTest case again with openat2 unavailable, as under systemd's
    RestrictSUIDSGID= (implied by DynamicUser=): pyserved then resolves paths
    beneath the root component by component, with the same rules."""

    @classmethod
    def setUpClass(cls):
        cls.srv = h.Server(config={"threads": 2}, env={"PYSERVED_TEST_NO_OPENAT2": "1"})
        cls.addClassCleanup(cls.srv.close)
        populate(cls.srv)
        cls.srv.start()

    def test_walk_in_use(self):
        self.assertIn("component by component", self.srv.stderr_text())


class DotfilesAllowTest(HttpCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = h.Server(config={"dotfiles": "allow", "threads": 1})
        cls.addClassCleanup(cls.srv.close)
        populate(cls.srv)
        cls.srv.start()

    def test_dotfiles_served(self):
        for target, body in (("/.env", b"SECRET=1\n"), ("/.git/config", b"[core]\n"),
                             ("/sub/.hidden", b"hidden\n"), ("/.well-known/x", b"well known\n"),
                             ("/sub/.well-known/x", b"not at the top\n")):
            with self.subTest(target=target):
                r, _ = self.get(target)
                self.check_ok(r, body)

    def test_traversal_still_refused(self):
        for target in ("/../outside.txt", "/%2e%2e/outside.txt", "/.%2e/outside.txt"):
            with self.subTest(target=target):
                r, c = self.send(("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % target).encode())
                self.check_error(r, 400)
        r, _ = self.get("/rel_out.txt")
        self.assertIn(r.status, (403, 404))
        self.assertNotIn(SECRET, r.body)


class IndexListTest(HttpCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = h.Server(config={"index": "index.htm default.txt", "threads": 1})
        cls.addClassCleanup(cls.srv.close)
        cls.srv.write_file("hello.txt", HELLO)
        cls.srv.write_file("d1/index.htm", b"first\n")
        cls.srv.write_file("d1/default.txt", b"second\n")
        cls.srv.write_file("d1/index.html", b"not in the list\n")
        cls.srv.write_file("d2/default.txt", b"second only\n")
        cls.srv.write_file("d3/index.html", b"not in the list\n")
        cls.srv.start()

    def test_index_order(self):
        for target, body in (("/d1/", b"first\n"), ("/d2/", b"second only\n")):
            with self.subTest(target=target):
                r, _ = self.get(target)
                self.check_ok(r, body)

    def test_no_listed_index_403(self):
        r, c = self.get("/d3/")
        self.check_error(r, 403)
        self.check_kept_alive(r, c)


@unittest.skipUnless(h.ipv6_loopback_works(), "IPv6 loopback (::1) is not usable here")
class Ipv6ActivationTest(HttpCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = h.Server(config={"threads": 1}, ipv6=True)
        cls.addClassCleanup(cls.srv.close)
        cls.srv.write_file("hello.txt", HELLO)
        cls.srv.start()

    def test_both_sockets_serve(self):
        for ipv6 in (False, True):
            with self.subTest(ipv6=ipv6):
                c = self.srv.connect(ipv6=ipv6)
                self.addCleanup(c.close)
                h.request(c, h.build_request("GET", "/hello.txt", host="[::1]" if ipv6 else "x"))
                self.check_ok(h.read_response(c), HELLO)


def segments_received(sock):
    """tcpi_segs_in of a Linux TCP socket (struct tcp_info, offset 140;
    Linux 4.2 and later)."""
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
    if len(info) < 144:
        raise unittest.SkipTest("struct tcp_info has no tcpi_segs_in here")
    return struct.unpack_from("I", info, 140)[0]


class SegmentsTest(HttpCase):
    """What the client receives, segment by segment. The request's ACK rides
    on the response (the listener turns quick ACKs off), and a closing
    response leaves with its FIN: a Connection: close exchange reaches the
    client as the SYN-ACK and one segment. A head that arrives in pieces is
    acknowledged at once all the same, so a client whose second write waits
    for that ACK (Nagle) is not held up by the delayed-ACK timer (40 ms or
    more). Each check takes the best of a few tries: a server slowed by a
    sanitizer may let the delayed ACK fire before it answers."""

    TRIES = 5
    ACTIVATION = True  # the listening socket comes from "systemd"

    @classmethod
    def setUpClass(cls):
        args = [] if cls.ACTIVATION else ["--listen", "127.0.0.1:0"]
        cls.srv = h.Server(config={"threads": 1}, activation=cls.ACTIVATION, args=args)
        cls.addClassCleanup(cls.srv.close)
        cls.srv.write_file("hello.txt", HELLO)
        cls.srv.start()
        if not cls.ACTIVATION:
            cls.srv.port = cls.srv.port_from_log()
        cls.srv.get("/hello.txt")  # the content type is known from now on

    def closing_exchange(self, raw, status, head=False):
        """Segments the client received for raw, answered with status and
        then closed, in each of TRIES connections."""
        counts = []
        for _ in range(self.TRIES):
            c = self.conn()
            self.addCleanup(c.close)
            h.request(c, raw)
            r = h.read_response(c, head_only_for_HEAD=head)
            self.assertEqual(r.status, status, r)
            self.assertIn("close", r.connection_tokens(), r)
            self.assertEqual(h.wait_closed(c, 3.0), b"", "bytes after a closing response")
            counts.append(segments_received(c.sock))
        return counts

    def test_closing_response_is_one_segment_with_the_fin(self):
        cases = {
            "Connection: close": (h.build_request("GET", "/hello.txt",
                                                  headers={"Connection": "close"}), 200, False),
            "HTTP/1.0": (h.build_request("GET", "/hello.txt", version="HTTP/1.0"), 200, False),
            "HEAD": (h.build_request("HEAD", "/hello.txt", headers={"Connection": "close"}),
                     200, True),
            "400 (lingering close)": (b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nBad Field\r\n\r\n",
                                      400, False),
        }
        for name, (raw, status, head) in cases.items():
            with self.subTest(case=name):
                counts = self.closing_exchange(raw, status, head)
                # SYN-ACK, then the response with the ACK of the request and the FIN
                self.assertEqual(min(counts), 2, "segments received per connection: %r" % counts)

    def test_head_in_two_writes_with_nagle(self):
        waits, counts = [], []
        for _ in range(self.TRIES):
            c = self.conn()
            self.addCleanup(c.close)
            c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 0)
            t0 = time.monotonic()
            h.request(c, b"GET /hello.txt HTTP/1.1\r\n")
            h.request(c, b"Host: x\r\n\r\n")  # Nagle holds it until the first part is ACKed
            r = h.read_response(c)
            waits.append((time.monotonic() - t0) * 1000)
            counts.append(segments_received(c.sock))
            self.check_ok(r, HELLO)
        # The delayed-ACK timer is 40 ms at least.
        self.assertLess(min(waits), 30, "ms from the first write to the response: %r" % waits)
        # SYN-ACK, the ACK of the first part, the response (which also
        # acknowledges the second part: no ACK of its own)
        self.assertEqual(min(counts), 3, "segments received per connection: %r" % counts)


class SegmentsListenTest(SegmentsTest):
    ACTIVATION = False  # the daemon binds its own listening socket (--listen)


if __name__ == "__main__":
    h.main_with_skip()
