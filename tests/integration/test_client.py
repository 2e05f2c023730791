#!/usr/bin/env python3
"""pyserve-client, black-box: the real binary against Python's http.server,
against raw socket servers this test runs on 127.0.0.1 port 0 (chunked and
read-until-close bodies, malformed responses, redirects, 206 ranges, slow and
silent servers), and against the real pyserved; its man page and --help.

Standard library only. Environment: TOP_BUILDDIR (pyserve-client is there;
skipped with status 77 when it is missing), TOP_SRCDIR, PYSERVED (the
pyserved tests are skipped without it). No fixed ports, no sleeps: servers
signal through events and sockets, every wait has a deadline."""

import functools
import hashlib
import http.server
import os
import pty
import random
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import termios
import fcntl
import threading
import time
import unittest

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pyserve_harness as h  # noqa: E402

TOP_BUILDDIR = os.environ.get("TOP_BUILDDIR", ".")
TOP_SRCDIR = os.environ.get("TOP_SRCDIR",
                            os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
CLIENT = os.path.abspath(os.path.join(TOP_BUILDDIR, "pyserve-client"))
RUN_TIMEOUT = 30.0  # seconds for any one client run
PROG = "pyserve-client: "

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
HELLO = b"Hello from the test server.\n"


def rand_bytes(n, seed=1):
    return random.Random(seed).randbytes(n)


def sha(b):
    return hashlib.sha256(b).hexdigest()


def run(args, cwd, timeout=RUN_TIMEOUT, stdin=subprocess.DEVNULL):
    """Run the client to completion; bytes stdout/stderr."""
    return subprocess.run([CLIENT] + list(args), cwd=cwd, stdin=stdin, capture_output=True,
                          timeout=timeout)


def default_stop_signals():
    """In a child before exec: SIGINT, SIGTERM and SIGHUP at their default."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)


def errlines(stderr):
    return [l for l in stderr.decode("utf-8", "replace").splitlines() if l.startswith(PROG)]


def read_text(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def ipv6_ok():
    return h.ipv6_loopback_works()


# --- servers ------------------------------------------------------------------

class RawServer:
    """A TCP server on loopback port 0 that hands each connection and its
    request head to handler(srv, conn, head). Requests are recorded. The
    handler may wait on srv.stop (set by close) to stay silent."""

    def __init__(self, handler, family=socket.AF_INET, host="127.0.0.1"):
        self.handler = handler
        self.requests = []
        self.stop = threading.Event()
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.host = host
        self.threads = []
        self.errors = []
        self._t = threading.Thread(target=self._loop, daemon=True)
        self._t.start()

    def url(self, path="/"):
        host = "[%s]" % self.host if ":" in self.host else self.host
        return "http://%s:%d%s" % (host, self.port, path)

    def _loop(self):
        while not self.stop.is_set():
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            t = threading.Thread(target=self._serve, args=(c,), daemon=True)
            self.threads.append(t)
            t.start()

    def _serve(self, c):
        try:
            c.settimeout(10)
            head = b""
            while b"\r\n\r\n" not in head and len(head) < 65536:
                d = c.recv(65536)
                if not d:
                    break
                head += d
            self.requests.append(head)
            self.handler(self, c, head)
        except Exception as e:  # reported by close()
            if not self.stop.is_set():
                self.errors.append(repr(e))
        finally:
            try:
                c.close()
            except OSError:
                pass

    def close(self):
        self.stop.set()
        self.sock.close()
        self._t.join(5)
        for t in self.threads:
            t.join(5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def request_field(self, i, name):
        """Value of a field of request i, or None."""
        for line in self.requests[i].split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            if k.strip().lower() == name.lower().encode():
                return v.strip().decode("latin-1")
        return None


def send_raw(data):
    """A handler that sends data and closes."""
    def handler(srv, c, head):
        c.sendall(data)
    return handler


def send_then_record(data):
    """A handler that sends data, then keeps what the client sends after its
    request head (in srv.after) until the client closes."""
    def handler(srv, c, head):
        srv.after = b""
        c.sendall(data)
        c.shutdown(socket.SHUT_WR)
        while True:  # ends at the client's close, or by the 10 s socket timeout
            d = c.recv(65536)
            if not d:
                break
            srv.after += d
    return handler


def response(body, status="200 OK", ctype="application/octet-stream", extra=""):
    return ("HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n%s\r\n"
            % (status, ctype, len(body), extra)).encode() + body


def range_handler(content, ctype="application/octet-stream", ignore=False, wrong_start=False,
                  cut_after=None):
    """Honours "Range: bytes=A-" and "bytes=A-B" (RFC 9110 section 14):
    206 with Content-Range, 416 past the end; ignore: always 200 with
    everything; wrong_start: a 206 that starts elsewhere; cut_after: close
    after that many body bytes."""
    def handler(srv, c, head):
        m = re.search(rb"\r\nrange: *bytes=(\d*)-(\d*)\r\n", head, re.I)
        total = len(content)
        if not m or ignore:
            status, body, extra = "200 OK", content, ""
        else:
            first = int(m.group(1)) if m.group(1) else total - int(m.group(2))
            last = int(m.group(2)) if m.group(1) and m.group(2) else total - 1
            last = min(last, total - 1)
            if first >= total:
                c.sendall(("HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */%d\r\n"
                           "Content-Length: 0\r\n\r\n" % total).encode())
                return
            if wrong_start:
                first = max(0, first - 10)
            status, body = "206 Partial Content", content[first:last + 1]
            extra = "Content-Range: bytes %d-%d/%d\r\n" % (first, last, total)
        data = ("HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nAccept-Ranges: bytes"
                "\r\n%s\r\n" % (status, ctype, len(body), extra)).encode()
        if b"HEAD " != head[:5]:
            data += body if cut_after is None else body[:cut_after]
        c.sendall(data)
    return handler


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class PyHttpServer:
    """python3 -m http.server's handler over a directory, in a thread."""

    def __init__(self, root):
        handler = functools.partial(QuietHandler, directory=root)
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.port = self.httpd.server_address[1]
        self.t = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                  daemon=True)
        self.t.start()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.t.join(5)


class ClientCase(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="pyserve-client-test-")
        self.cwd = os.path.join(self.tmp, "work")
        os.mkdir(self.cwd)

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.cwd, name)

    def read(self, name):
        with open(self.path(name), "rb") as f:
            return f.read()

    def write(self, name, data):
        with open(self.path(name), "wb") as f:
            f.write(data)

    def files(self):
        return sorted(os.listdir(self.cwd))

    def run_ok(self, args, **kw):
        p = run(args, self.cwd, **kw)
        self.assertEqual(p.returncode, 0, "exit %d, stderr:\n%s" % (p.returncode,
                                                                   p.stderr.decode(errors="replace")))
        return p

    def run_fail(self, args, code, msg_re, **kw):
        """Exit status code and exactly one 'pyserve-client: ' line matching
        msg_re."""
        p = run(args, self.cwd, **kw)
        err = p.stderr.decode("utf-8", "replace")
        self.assertEqual(p.returncode, code, "exit %d, expected %d; stderr:\n%s"
                         % (p.returncode, code, err))
        lines = errlines(p.stderr)
        self.assertEqual(len(lines), 1, "expected one error line, got:\n%s" % err)
        self.assertRegex(lines[0], msg_re)
        return p

    def run_pty(self, args, stdout_tty=False, stderr_tty=False, winsize=(24, 100), seen=None):
        """Run with stdout and/or stderr on a pseudo-terminal; the other goes
        to a file. seen, if given, is called with the terminal bytes so far
        after each read. Returns (exit status, terminal bytes, stdout or
        stderr file bytes)."""
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", winsize[0], winsize[1], 0, 0))
        other_path = os.path.join(self.tmp, "other.out")
        with open(other_path, "wb") as other:
            p = subprocess.Popen([CLIENT] + list(args), cwd=self.cwd, stdin=subprocess.DEVNULL,
                                 stdout=slave if stdout_tty else other,
                                 stderr=slave if stderr_tty else other)
        os.close(slave)
        out = bytearray()
        deadline = time.monotonic() + RUN_TIMEOUT
        try:
            while time.monotonic() < deadline:
                r, _, _ = select.select([master], [], [], 0.5)
                if r:
                    try:
                        d = os.read(master, 65536)
                    except OSError:  # EIO: every slave fd is closed
                        break
                    if not d:
                        break
                    out += d
                    if seen:
                        seen(bytes(out))
                elif p.poll() is not None:
                    # drain what is left, then stop
                    if not select.select([master], [], [], 0)[0]:
                        break
            rc = p.wait(timeout=max(0.1, deadline - time.monotonic()))
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            os.close(master)
        with open(other_path, "rb") as f:
            return rc, bytes(out), f.read()


# --- against Python's http.server -------------------------------------------------

class TestHttpServer(ClientCase):
    @classmethod
    def setUpClass(cls):
        cls.root = tempfile.mkdtemp(prefix="pyserve-client-root-")
        files = {
            "hello.txt": HELLO,
            "img.png": PNG,
            "data.bin": rand_bytes(100000),
            "sub/index.html": b"<p>sub index</p>\n",
        }
        for rel, data in files.items():
            p = os.path.join(cls.root, rel)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "wb") as f:
                f.write(data)
        cls.srv = PyHttpServer(cls.root)

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()
        shutil.rmtree(cls.root, ignore_errors=True)

    def url(self, path):
        return self.srv.url(path)

    def test_text_to_stdout_head_to_stderr(self):
        p = self.run_ok([self.url("/hello.txt")])
        self.assertEqual(p.stdout, HELLO)
        err = p.stderr.decode()
        self.assertRegex(err, r"^HTTP/1\.[01] 200 OK\n")
        self.assertRegex(err, r"(?mi)^Content-type: text/plain")
        self.assertEqual(self.files(), [])

    def test_image_saved_never_overwriting(self):
        for i, name in enumerate(["img.png", "img(1).png", "img(2).png"]):
            p = self.run_ok([self.url("/img.png")])
            self.assertEqual(p.stdout, b"")
            self.assertEqual(self.read(name), PNG)
            self.assertIn(("saved %d bytes to %s" % (len(PNG), name)).encode(), p.stderr)
            self.assertEqual(len(self.files()), i + 1)

    def test_image_suffix_when_name_exists(self):
        self.write("img.png", b"mine")
        self.write("img(1).png", b"mine too")
        self.run_ok(["127.0.0.1", str(self.srv.port), "/img.png"])  # the original form
        self.assertEqual(self.read("img.png"), b"mine")
        self.assertEqual(self.read("img(1).png"), b"mine too")
        self.assertEqual(self.read("img(2).png"), PNG)

    def test_host_port_path_without_slash(self):
        p = self.run_ok(["127.0.0.1", str(self.srv.port), "hello.txt"])
        self.assertEqual(p.stdout, HELLO)

    def test_no_scheme(self):
        p = self.run_ok(["127.0.0.1:%d/hello.txt" % self.srv.port])
        self.assertEqual(p.stdout, HELLO)
        # "://" in the query is no scheme
        p = self.run_ok(["127.0.0.1:%d/hello.txt?next=http://x/y" % self.srv.port])
        self.assertEqual(p.stdout, HELLO)

    def test_output_file(self):
        self.write("out.bin", b"old content that is longer than the new one" * 10)
        p = self.run_ok(["-o", "out.bin", self.url("/hello.txt")])
        self.assertEqual(p.stdout, b"")
        self.assertEqual(self.read("out.bin"), HELLO)  # -o replaces
        self.run_ok(["--output=data", self.url("/data.bin")])
        self.assertEqual(sha(self.read("data")), sha(rand_bytes(100000)))

    def test_output_stdout_binary_to_pipe(self):
        p = self.run_ok(["-o", "-", self.url("/data.bin")])
        self.assertEqual(p.stdout, rand_bytes(100000))
        self.assertEqual(self.files(), [])

    def test_remote_name(self):
        self.run_ok(["-O", self.url("/hello.txt")])
        self.run_ok(["--remote-name", self.url("/hello.txt")])
        self.assertEqual(self.files(), ["hello(1).txt", "hello.txt"])
        self.assertEqual(self.read("hello(1).txt"), HELLO)

    def test_include(self):
        p = self.run_ok(["-i", self.url("/hello.txt")])
        head, sep, body = p.stdout.partition(b"\n\n")
        self.assertTrue(sep)
        self.assertRegex(head.decode(), r"^HTTP/1\.[01] 200 OK\n(?s:.*)Content-Length: %d"
                         % len(HELLO))
        self.assertEqual(body, HELLO)
        self.assertNotIn(b"HTTP/1.", p.stderr)
        p = self.run_ok(["--include", "-q", self.url("/hello.txt")])
        self.assertTrue(p.stdout.startswith(b"HTTP/1."))
        self.assertEqual(p.stderr, b"")

    def test_head(self):
        for opt in ("-I", "--head"):
            p = self.run_ok([opt, self.url("/data.bin")])
            out = p.stdout.decode()
            self.assertRegex(out, r"^HTTP/1\.[01] 200 OK\n")
            self.assertIn("Content-Length: 100000\n", out)
            self.assertTrue(out.endswith("\n\n"))
            self.assertEqual(self.files(), [])

    def test_quiet(self):
        p = self.run_ok(["-q", self.url("/hello.txt")])
        self.assertEqual(p.stdout, HELLO)
        self.assertEqual(p.stderr, b"")
        p = self.run_ok(["--quiet", self.url("/img.png")])
        self.assertEqual(p.stderr, b"")
        self.assertEqual(self.read("img.png"), PNG)

    def test_verbose(self):
        for opt in ("-v", "--verbose"):
            p = self.run_ok([opt, self.url("/hello.txt")])
            err = p.stderr.decode()
            self.assertIn("* connected to 127.0.0.1 port %d\n" % self.srv.port, err)
            self.assertIn("> GET /hello.txt HTTP/1.1\n", err)
            self.assertIn("> Host: 127.0.0.1:%d\n" % self.srv.port, err)
            self.assertIn("> User-Agent: pyserve-client/", err)
            self.assertRegex(err, r"(?m)^< HTTP/1\.[01] 200 OK$")
            self.assertEqual(p.stdout, HELLO)
        # with -i (or -I) the head goes to stdout, and -v still shows it on stderr
        for opt in ("-i", "-I"):
            p = self.run_ok(["-v", opt, self.url("/hello.txt")])
            self.assertRegex(p.stderr.decode(), r"(?m)^< HTTP/1\.[01] 200 OK$")
            self.assertRegex(p.stdout.decode(), r"^HTTP/1\.[01] 200 OK\r?\n")

    def test_fail_on_404(self):
        p = self.run_fail(["-f", self.url("/missing.txt")], 22, r"HTTP error 404 .* from "
                          r"127\.0\.0\.1 port \d+ for /missing\.txt$")
        self.assertEqual(p.stdout, b"")
        p = self.run_fail(["--fail", "-q", self.url("/missing.txt")], 22, r"HTTP error 404")
        # the server's reason phrase reaches the message escaped
        with RawServer(send_raw(b"HTTP/1.1 404 Not \x9b31mFound\xe2\x80\xae\r\n"
                                b"Content-Length: 0\r\n\r\n")) as srv:
            p = self.run_fail(["-f", srv.url("/x")], 22,
                              r"HTTP error 404 Not \\x9b31mFound\\xe2\\x80\\xae from ")
        self.assertNotIn(b"\x9b", p.stderr.splitlines()[-1])
        # a long target from the command line is cut
        self.run_fail(["-f", self.url("/" + "a" * 8000)], 22, r"HTTP error 404 .* for "
                      r"/a{99}\.\.\.$")
        # without -f: exit 0 and the (textual) error page on stdout
        p = self.run_ok([self.url("/missing.txt")])
        self.assertIn(b"404", p.stdout)
        self.assertEqual(self.files(), [])
        # and -f does not fail a success
        self.run_ok(["-f", self.url("/hello.txt")])

    def test_error_page_never_in_a_file(self):
        p = self.run_ok(["-o", "x.png", self.url("/missing.png")])
        self.assertEqual(self.files(), [])
        self.assertIn(b"404", p.stdout)
        self.run_ok(["-O", self.url("/missing.png")])
        self.assertEqual(self.files(), [])

    def test_location_across_301(self):
        # http.server answers /sub with 301 Location: /sub/
        p = self.run_ok([self.url("/sub")])
        self.assertRegex(p.stderr.decode(), r"^HTTP/1\.[01] 301 ")
        self.assertNotIn(b"sub index", p.stdout)
        for opt in ("-L", "--location"):
            p = self.run_ok([opt, self.url("/sub")])
            self.assertEqual(p.stdout, b"<p>sub index</p>\n")
            err = p.stderr.decode()
            self.assertRegex(err, r"^HTTP/1\.[01] 301 ")
            self.assertIn("following the redirect to %s\n" % self.url("/sub/"), err)
            self.assertRegex(err, r"(?m)^HTTP/1\.[01] 200 OK$")

    def test_ipv4_option(self):
        p = self.run_ok(["-4", "http://localhost:%d/hello.txt" % self.srv.port])
        self.assertEqual(p.stdout, HELLO)
        p = self.run_ok(["--ipv4", self.url("/hello.txt")])
        self.assertEqual(p.stdout, HELLO)
        self.run_fail(["-6", self.url("/hello.txt")], 6, r"cannot resolve IPv6 host \"127\.0\.0\.1\"")

    def test_timeout_option_on_a_quick_server(self):
        p = self.run_ok(["--timeout", "5", self.url("/hello.txt")])
        self.assertEqual(p.stdout, HELLO)
        p = self.run_ok(["--timeout=2500ms", self.url("/hello.txt")])
        self.assertEqual(p.stdout, HELLO)

    def test_range_ignored_by_http_server(self):
        # http.server has no ranges: the whole body comes, with a note
        p = self.run_ok(["-r", "0-4", self.url("/hello.txt")])
        self.assertEqual(p.stdout, HELLO)
        self.assertIn(b"the server ignored the range", p.stderr)

    def test_continue_refused_by_http_server(self):
        self.write("data.bin", rand_bytes(100000)[:1000])
        self.run_fail(["-C", self.url("/data.bin")], 33, r"answered 200 instead of 206")
        self.assertEqual(self.read("data.bin"), rand_bytes(100000)[:1000])


# --- against raw servers ------------------------------------------------------------

class TestBodies(ClientCase):
    def test_chunked(self):
        data = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"5\r\nhello\r\n7;ext=1\r\n, world\r\n1\r\n\n\r\n0\r\nX-Trailer: t\r\n\r\n")
        with RawServer(send_raw(data)) as srv:
            p = self.run_ok([srv.url("/c")])
        self.assertEqual(p.stdout, b"hello, world\n")

    def test_chunked_binary_in_pieces(self):
        content = rand_bytes(300000, seed=7)

        def handler(srv, c, head):
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                      b"Transfer-Encoding: chunked\r\n\r\n")
            pos, size = 0, 1
            while pos < len(content):
                piece = content[pos:pos + size]
                c.sendall(b"%x\r\n" % len(piece) + piece + b"\r\n")
                pos += len(piece)
                size = size * 3 + 1
            c.sendall(b"0\r\n\r\n")
        with RawServer(handler) as srv:
            self.run_ok([srv.url("/dir/blob.bin")])
        self.assertEqual(self.files(), ["blob.bin"])
        self.assertEqual(sha(self.read("blob.bin")), sha(content))

    def test_read_until_close(self):
        body = b"no length, no chunks: until the server closes\n" * 1000
        with RawServer(send_raw(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n" + body)) \
                as srv:
            p = self.run_ok([srv.url("/")])
        self.assertEqual(p.stdout, body)

    def test_text_streams_as_it_arrives(self):
        # The server sends the head and a first line, then waits until the
        # test has read that line from the client's standard output: a
        # client that holds text back (to fill its 4 KiB sniff buffer, or
        # until the end of the body) never shows it, and the wait runs out.
        first, rest = b"first line\n", b"and then the rest\n"
        cases = [
            ("length", "Content-Type: text/plain\r\nContent-Length: %d\r\n"
             % (len(first) + len(rest)), first, rest),
            # the chunk's CRLF and a part of the next size line arrive
            # with the first line: framing bytes that hold no data
            ("chunked", "Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\n",
             b"%x\r\n%s\r\n1" % (len(first), first), b"2\r\n%s\r\n0\r\n\r\n" % rest),
            # no Content-Type: the first line alone decides text
            ("close", "", first, rest),
        ]
        self.assertEqual(len(rest), 0x12)
        for name, fields, head_part, rest_part in cases:
            with self.subTest(framing=name):
                looked = threading.Event()  # set once the test stops looking

                def handler(srv, c, head):
                    c.sendall(("HTTP/1.1 200 OK\r\n%s\r\n" % fields).encode() + head_part)
                    looked.wait(RUN_TIMEOUT)
                    c.sendall(rest_part)
                with RawServer(handler) as srv:
                    p = subprocess.Popen([CLIENT, "--timeout", "%d" % RUN_TIMEOUT, srv.url("/")],
                                         cwd=self.cwd, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                    out = b""
                    deadline = time.monotonic() + RUN_TIMEOUT / 3
                    try:
                        while first not in out and time.monotonic() < deadline:
                            r, _, _ = select.select([p.stdout], [], [],
                                                    max(0.0, deadline - time.monotonic()))
                            if not r:
                                continue
                            d = os.read(p.stdout.fileno(), 65536)
                            if not d:
                                break
                            out += d
                        shown_early = first in out
                        looked.set()
                        rest_out, err = p.communicate(timeout=RUN_TIMEOUT)
                    finally:
                        looked.set()
                        if p.poll() is None:
                            p.kill()
                            p.wait()
                self.assertTrue(shown_early, "the first line was not shown before the rest "
                                "was sent (stdout by then: %r)" % out)
                self.assertEqual(p.returncode, 0, err)
                self.assertEqual(out + rest_out, first + rest)
                self.assertEqual(self.files(), [])

    def test_output_file_emptied_by_a_2xx_without_body(self):
        # -o FILE replaces FILE's content with the body of a 2xx response,
        # an empty one too; another status leaves FILE alone
        cases = [(b"HTTP/1.1 204 No Content\r\n\r\n", b""),
                 (b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", b""),
                 (b"HTTP/1.1 304 Not Modified\r\n\r\n", b"old"),
                 (b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", b"old")]
        for data, content in cases:
            with self.subTest(data=data), RawServer(send_raw(data)) as srv:
                self.write("f", b"old")
                self.run_ok(["-o", "f", srv.url("/")])
                self.assertEqual(self.read("f"), content)
        with RawServer(send_raw(cases[0][0])) as srv:
            self.run_ok(["-o", "new", srv.url("/")])
        self.assertEqual(self.read("new"), b"")

    def test_status_line_shown_as_received(self):
        # a later minor version is handled as 1.1 but shown as it came
        for version in (b"1.0", b"1.1", b"1.5"):
            data = b"HTTP/%s 200 Fine\r\nContent-Length: 2\r\n\r\nok" % version
            with self.subTest(version=version), RawServer(send_raw(data)) as srv:
                p = self.run_ok(["-i", srv.url("/")])
                self.assertEqual(p.stdout, b"HTTP/%s 200 Fine\nContent-Length: 2\n\nok" % version)
                p = self.run_ok([srv.url("/")])
                self.assertTrue(p.stderr.startswith(b"HTTP/%s 200 Fine\n" % version), p.stderr)

    def test_head_204_304_need_no_body(self):
        # The server keeps the connection open after the head: the client must
        # not wait for a body (bounded by --timeout, so a bug is exit 28).
        def keep_open(status, extra=""):
            def handler(srv, c, head):
                c.sendall(("HTTP/1.1 %s\r\nContent-Length: 100\r\n%s\r\n" % (status, extra)).encode())
                srv.stop.wait(20)
            return handler
        with RawServer(keep_open("200 OK")) as srv:
            p = self.run_ok(["-I", "--timeout", "10", srv.url("/")])
            self.assertIn(b"Content-Length: 100", p.stdout)
            self.assertTrue(srv.requests[0].startswith(b"HEAD / HTTP/1.1\r\n"))
        for status in ("204 No Content", "304 Not Modified"):
            with RawServer(keep_open(status)) as srv:
                p = self.run_ok(["--timeout", "10", srv.url("/")])
                self.assertEqual(p.stdout, b"")
                self.assertEqual(self.files(), [])

    def test_transfer_encoding_on_head_and_304(self):
        # RFC 9112 6.1: the coding a GET would have had; no body follows
        # (the connection stays open: a client waiting for one times out)
        def keep_open(status):
            def handler(srv, c, head):
                c.sendall(("HTTP/1.1 %s\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
                           % status).encode())
                srv.stop.wait(20)
            return handler
        with RawServer(keep_open("200 OK")) as srv:
            p = self.run_ok(["-I", "--timeout", "10", srv.url("/")])
            self.assertIn(b"Transfer-Encoding: gzip, chunked\n", p.stdout)
        with RawServer(keep_open("304 Not Modified")) as srv:
            p = self.run_ok(["--timeout", "10", srv.url("/")])
            self.assertEqual(p.stdout, b"")
            self.assertRegex(p.stderr.decode(), r"^HTTP/1\.1 304 Not Modified\n")
        self.assertEqual(self.files(), [])

    def test_interim_responses_skipped(self):
        data = (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
                + response(b"final", ctype="text/plain"))
        with RawServer(send_raw(data)) as srv:
            p = self.run_ok([srv.url("/")])
        self.assertEqual(p.stdout, b"final")
        self.assertRegex(p.stderr.decode(), r"^HTTP/1\.1 200 OK\n")

    def test_content_length_list_of_one_value(self):
        # RFC 9110 section 8.6: a list of one value ("5, 5") is that value
        for fields in (b"Content-Length: 5, 5", b"Content-Length: 5,5\r\nContent-Length: 5"):
            with self.subTest(fields=fields), RawServer(send_raw(
                    b"HTTP/1.1 200 OK\r\n%s\r\n\r\nhello, and more" % fields)) as srv:
                self.assertEqual(self.run_ok([srv.url("/")]).stdout, b"hello")

    def test_custom_headers(self):
        with RawServer(send_raw(response(b"ok", ctype="text/plain"))) as srv:
            self.run_ok(["-H", "X-Test: one two", "--header=Accept: text/plain", "-H",
                         "User-Agent:", srv.url("/h")])
            req = srv.requests[0]
            self.assertIn(b"\r\nX-Test: one two\r\n", req)
            self.assertIn(b"\r\nAccept: text/plain\r\n", req)
            self.assertNotIn(b"*/*", req)
            self.assertNotIn(b"User-Agent", req)
            self.assertIn(b"\r\nHost: 127.0.0.1:%d\r\n" % srv.port, req)
            self.assertIn(b"\r\nConnection: close\r\n", req)

    def test_text_with_nul_is_binary(self):
        body = b"looks like text\0but is not"
        with RawServer(send_raw(response(body, ctype="text/plain"))) as srv:
            p = self.run_ok([srv.url("/notes.txt")])
        self.assertEqual(p.stdout, b"")
        self.assertEqual(self.read("notes.txt"), body)

    def test_no_content_type_sniffed(self):
        text = b"plain words\n"
        binary = b"\x7fELF\x02\x01\x01\x00rest"
        for body, to_stdout in ((text, True), (binary, False)):
            data = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body
            with RawServer(send_raw(data)) as srv:
                p = self.run_ok([srv.url("/thing")])
            if to_stdout:
                self.assertEqual(p.stdout, body)
            else:
                self.assertEqual(p.stdout, b"")
                self.assertEqual(self.read("thing"), body)

    def test_binary_error_page_dropped(self):
        with RawServer(send_raw(response(PNG, status="404 Not Found", ctype="image/png"))) as srv:
            p = self.run_ok([srv.url("/x.png")])
        self.assertEqual(p.stdout, b"")
        self.assertEqual(self.files(), [])
        self.assertIn(b"binary body (image/png, %d bytes) of the 404 response not shown" % len(PNG),
                      p.stderr)

    def test_sanitised_names(self):
        cases = [
            ('attachment; filename="../../evil.bin"', "/dl", "evil.bin"),
            ('attachment; filename="/etc/passwd"', "/dl", "passwd"),
            ("attachment; filename*=UTF-8''a%0Ab%1B.bin", "/dl", "a_b_.bin"),
            ('attachment; filename=".profile"', "/dl", "_profile"),
            ('attachment; filename=".."', "/dl", "download"),
            (None, "/dir/%2E%2E%2F%2E%2E%2Fx%0A.bin", "x_.bin"),
            (None, "/..%2F..%2Fetc%2Fpasswd", "passwd"),
            (None, "/.hidden.bin", "_hidden.bin"),
            (None, "/a%20b.bin?version=2", "a b.bin"),
            (None, "/", "download"),
        ]
        for cd, path, expected in cases:
            with self.subTest(cd=cd, path=path):
                extra = "Content-Disposition: %s\r\n" % cd if cd else ""
                with RawServer(send_raw(response(PNG, ctype="image/png", extra=extra))) as srv:
                    self.run_ok([srv.url(path)])
                self.assertEqual(self.files(), [expected])
                self.assertEqual(self.read(expected), PNG)
                os.unlink(self.path(expected))
                # nothing landed outside the working directory
                self.assertEqual(sorted(os.listdir(self.tmp)), ["work"])
        # -O takes the Content-Disposition name too, for text
        with RawServer(send_raw(response(b"t", ctype="text/plain",
                                         extra='Content-Disposition: attachment; '
                                               'filename="../r.txt"\r\n'))) as srv:
            self.run_ok(["-O", srv.url("/other.txt")])
        self.assertEqual(self.files(), ["r.txt"])

    def test_reader_gone(self):
        # "| head -c 1": a closed pipe is exit 23 without a message
        body = rand_bytes(4 * 1024 * 1024, seed=9)
        with RawServer(send_raw(response(body))) as srv:
            with open(os.path.join(self.tmp, "err"), "w+b") as err:
                p = subprocess.Popen([CLIENT, "-q", "-o", "-", srv.url("/")], cwd=self.cwd,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err)
                try:
                    self.assertEqual(p.stdout.read(1), body[:1])
                    p.stdout.close()
                    self.assertEqual(p.wait(timeout=RUN_TIMEOUT), 23)
                finally:
                    if p.poll() is None:
                        p.kill()
                        p.wait()
                err.seek(0)
                self.assertEqual(err.read(), b"")
            # the same for a head on standard output
            r, w = os.pipe()
            os.close(r)
            try:
                p = subprocess.run([CLIENT, "-q", "-I", srv.url("/")], cwd=self.cwd,
                                   stdin=subprocess.DEVNULL, stdout=w, stderr=subprocess.PIPE,
                                   timeout=RUN_TIMEOUT)
            finally:
                os.close(w)
            self.assertEqual((p.returncode, p.stderr), (23, b""))

    def run_closed(self, fd, args):
        """Run the client with descriptor fd (1 or 2) closed; the other one
        of stdout and stderr is captured."""
        return subprocess.run(["sh", "-c", 'exec "$0" "$@" %d>&-' % fd, CLIENT] + args,
                              cwd=self.cwd, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=RUN_TIMEOUT)

    def test_closed_stdout_or_stderr(self):
        # A closed descriptor 1 or 2 must not become the socket: the client
        # would write the body or the head back to the server.
        data = response(HELLO, ctype="text/plain")
        with RawServer(send_then_record(data)) as srv:
            p = self.run_closed(1, [srv.url("/h.txt")])
            self.assertEqual(p.returncode, 23, p.stderr)
            self.assertEqual(errlines(p.stderr),
                             [PROG + "cannot write to standard output: Bad file descriptor"])
            srv.close()
            self.assertEqual(srv.after, b"")
            self.assertEqual(len(srv.requests), 1)
        # stderr closed: the head (and with -v the request) would go there;
        # with -i the head goes to stdout with the body
        for args in ([], ["-v"], ["-i"]):
            with self.subTest(args=args), RawServer(send_then_record(data)) as srv:
                p = self.run_closed(2, args + [srv.url("/h.txt")])
                srv.close()
                self.assertEqual(srv.after, b"")
                self.assertEqual(len(srv.requests), 1)
                self.assertEqual(p.returncode, 0)
                self.assertTrue(p.stdout.endswith(HELLO), p.stdout)
                self.assertEqual(p.stdout.startswith(b"HTTP/1.1 200 OK\n"), args == ["-i"])

    def test_write_errors(self):
        with RawServer(send_raw(response(b"x" * 1000, ctype="text/plain"))) as srv:
            self.run_fail(["-o", os.path.join(self.tmp, "nodir", "f"), srv.url("/")], 23,
                          r"cannot open .*nodir/f: No such file or directory")
            self.run_fail(["-o", "/dev/full", srv.url("/")], 23,
                          r"cannot write to /dev/full: No space left on device")
        # the head on standard output (-I, -i) is checked too
        with RawServer(range_handler(b"x" * 1000)) as srv:
            for args in (["-I"], ["-i", "-o", "f.bin"], ["-I", "-q"]):
                with self.subTest(args=args), open("/dev/full", "wb") as full:
                    p = subprocess.run([CLIENT] + args + [srv.url("/f.bin")], cwd=self.cwd,
                                       stdin=subprocess.DEVNULL, stdout=full,
                                       stderr=subprocess.PIPE, timeout=RUN_TIMEOUT)
                    self.assertEqual(p.returncode, 23, p.stderr)
                    self.assertEqual(errlines(p.stderr), [
                        PROG + "cannot write to standard output: No space left on device"])
        os.chmod(self.cwd, 0o555)
        try:
            if os.access(self.cwd, os.W_OK):
                return  # root ignores the mode
            with RawServer(send_raw(response(PNG, ctype="image/png"))) as srv:
                self.run_fail([srv.url("/p.png")], 23, r"cannot create p\.png: Permission denied")
        finally:
            os.chmod(self.cwd, 0o755)


class TestBadResponses(ClientCase):
    def bad(self, data, code, msg_re, args=()):
        with RawServer(send_raw(data)) as srv:
            return self.run_fail(list(args) + ["--timeout", "10", srv.url("/x")], code, msg_re)

    def test_malformed(self):
        where = r"127\.0\.0\.1 port \d+"
        cases = [
            (b"HTTX/1.1 200 OK\r\n\r\n", r"malformed response from %s: bad status line "
             r"\"HTTX/1\.1 200 OK\"$" % where, b""),
            (b"HTTP/1.1 200 OK\r\nGood: yes\r\nBad Header\r\n\r\n",
             r"malformed response from %s: bad header line 3: \"Bad Header\"$" % where, b""),
            (b"HTTP/1.1 200 OK\r\nX: a\x01b\r\n\r\n", r"bad header line 2: \"X: a\\x01b\"", b""),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
             r"malformed response from %s: conflicting Content-Length in header line 3: "
             r"\"Content-Length: 2\"$" % where, b""),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello",
             r"conflicting Content-Length in header line 2: \"Content-Length: 5, 6\"$", b""),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 5x\r\n\r\nhello",
             r"bad Content-Length in header line 2: \"Content-Length: 5x\"$", b""),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 5\x01\r\n\r\nhello",
             r"bad Content-Length in header line 2: \"Content-Length: 5\\x01\"$", b""),
            (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
             r"unsupported transfer coding from %s in header line 2: "
             r"\"Transfer-Encoding: gzip\" \(only chunked is decoded\)$" % where, b""),
            (b"HTTP/1.1 200 OK\r\nX: y\r\ntransfer-encoding: gzip, chunked\r\n\r\n",
             r"unsupported transfer coding from %s in header line 3: "
             r"\"transfer-encoding: gzip, chunked\"" % where, b""),
            (b"HTTP/1.1 100 Continue\r\n\r\n",
             r"^%s%s closed the connection after an interim 100 response, with no final "
             r"response$" % (PROG, where), b""),
            (b"\x00\x01\x02garbage\n", r"bad status line \"\\x00\\x01\\x02garbage\"", b""),
            (b"<html>not http</html>\n", r"bad status line", b""),
            (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
             r"bad chunked body after 0 bytes", b""),
            (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n",
             r"bad chunked body after 3 bytes", b"abc"),
            # "0x10" is no size of 0 with an extension "x10": the body is not over
            (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
             b"5\r\nhello\r\n0x10\r\n0123456789abcdef\r\n0\r\n\r\n",
             r"bad chunked body after 5 bytes", b"hello"),
            (b"HTTP/1.1 200 OK\r\n" + b"X-Long: " + b"a" * 70000 + b"\r\n\r\n",
             r"head larger than 64 KiB", b""),
            (b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(200)) + b"\r\n",
             r"more than 128 header fields", b""),
            (b"HTTP/1.1 101 Switching Protocols\r\n\r\n", r"unexpected 101", b""),
            (b"HTTP/1.1 200 OK\r\nContent-Le", r"connection closed inside the response head", b""),
        ]
        for data, msg, out in cases:
            with self.subTest(data=data[:40]):
                p = self.bad(data, 8, msg)
                self.assertEqual(p.stdout, out)
                self.assertEqual(self.files(), [])

    def test_empty_reply(self):
        # curl's 52; a close after some bytes of a head stays a protocol error
        p = self.bad(b"", 52, r"^%sempty reply: 127\.0\.0\.1 port \d+ closed the connection "
                     r"without a response$" % PROG)
        self.assertEqual(p.stdout, b"")
        self.assertEqual(self.files(), [])

    def test_body_cut_short(self):
        body = rand_bytes(5000, seed=3)
        data = b"HTTP/1.1 200 OK\r\nContent-Length: 10000\r\n\r\n" + body
        p = self.bad(data, 18, r"closed the connection after 5000 of 10000 body bytes; "
                     r"5000 bytes are in part\.bin$", args=["-o", "part.bin"])
        self.assertEqual(self.read("part.bin"), body)  # what arrived is kept
        self.assertIn(b"\nto resume: pyserve-client -C -o 'part.bin' 'http://", p.stderr)
        # with -q the error line alone names the file left incomplete
        os.unlink(os.path.join(self.cwd, "part.bin"))
        p = self.bad(data, 18, r"after 5000 of 10000 body bytes; 5000 bytes are in part\.bin$",
                     args=["-q", "-o", "part.bin"])
        self.assertNotIn(b"to resume", p.stderr)
        chunked = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n"
                   b"\r\n5\r\nhello\r\n")
        p = self.bad(chunked, 18, r"inside the chunked body after 5 bytes")
        self.assertEqual(p.stdout, b"hello")

    def test_output_file_replaced_only_when_complete(self):
        # -o over an existing file writes a temporary next to it: a body cut
        # short leaves the old content, and no temporary nor resume hint
        old = b"the old content\n" * 100
        body = rand_bytes(10000, seed=4)
        data = b"HTTP/1.1 200 OK\r\nContent-Length: 10000\r\n\r\n"
        self.write("f.bin", old)
        os.chmod(self.path("f.bin"), 0o640)
        p = self.bad(data + body[:5000], 18, r"closed the connection after 5000 of 10000 body "
                     r"bytes; f\.bin left as it was$", args=["-o", "f.bin"])
        self.assertNotIn(b"to resume", p.stderr)
        self.assertEqual(self.files(), ["f.bin"])
        self.assertEqual(self.read("f.bin"), old)
        # complete: replaced, with the old file's mode
        with RawServer(send_raw(data + body)) as srv:
            self.run_ok(["-o", "f.bin", srv.url("/x")])
        self.assertEqual(self.files(), ["f.bin"])
        self.assertEqual(self.read("f.bin"), body)
        self.assertEqual(os.stat(self.path("f.bin")).st_mode & 0o7777, 0o640)
        # written through, never renamed over: a symlink, a hard-linked file,
        # a device, a FIFO
        self.write("target", old)
        os.symlink("target", self.path("link"))
        self.write("one", old)
        os.link(self.path("one"), self.path("two"))
        os.mkfifo(self.path("fifo"))
        got = []
        reader = threading.Thread(target=lambda: got.append(open(self.path("fifo"), "rb").read()),
                                  daemon=True)
        reader.start()
        for name in ("link", "two", "/dev/null", "fifo"):
            with self.subTest(name=name), RawServer(send_raw(data + body)) as srv:
                self.run_ok(["-o", name, srv.url("/x")])
        reader.join(RUN_TIMEOUT)
        self.assertEqual(got, [body])
        self.assertTrue(os.path.islink(self.path("link")))
        self.assertEqual(self.read("target"), body)
        self.assertEqual(self.read("one"), body)
        self.assertEqual(self.files(), ["f.bin", "fifo", "link", "one", "target", "two"])

    def test_output_file_the_user_may_not_write(self):
        # The temporary's rename needs only the directory's permission: a
        # file the user may not write (read-only, or another user's in a
        # shared directory) is refused, as the open in place refused it
        if os.geteuid() != 0 or not shutil.which("setpriv"):
            self.skipTest("needs root and setpriv(1) to run the client as another user")
        os.chmod(self.cwd, 0o777)
        client = self.path("client")  # a copy: the build tree may be closed to that user
        shutil.copy(CLIENT, client)
        os.chmod(client, 0o755)
        body = rand_bytes(1000, seed=12)
        data = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + body
        self.write("ro.txt", b"the user's, read-only\n")
        os.chown(self.path("ro.txt"), 65534, 65534)
        os.chmod(self.path("ro.txt"), 0o444)
        self.write("other.txt", b"root's\n")
        os.chmod(self.path("other.txt"), 0o644)
        for name, old in (("ro.txt", b"the user's, read-only\n"), ("other.txt", b"root's\n")):
            with self.subTest(name=name), RawServer(send_raw(data)) as srv:
                p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                    client, "-o", name, srv.url("/x")], cwd=self.cwd,
                                   stdin=subprocess.DEVNULL, capture_output=True,
                                   timeout=RUN_TIMEOUT)
                self.assertEqual(p.returncode, 23, p.stderr)
                self.assertRegex(errlines(p.stderr)[0],
                                 r"cannot open %s: Permission denied$" % re.escape(name))
                self.assertEqual(self.read(name), old)
        self.assertEqual(os.stat(self.path("other.txt")).st_uid, 0)
        self.assertEqual(self.files(), ["client", "other.txt", "ro.txt"])

    def test_interrupted_body(self):
        # SIGINT, SIGTERM or SIGHUP during the body: the temporary of -o over
        # an existing file is removed (the file as it was), a new file keeps
        # what arrived with the usual line and hint, standard output gets no
        # message; then the client dies by that signal, as curl and wget do
        body = rand_bytes(10000, seed=9)
        old = b"the old content\n"
        cases = [("f.bin", signal.SIGINT, r"\.f\.bin\.......$",
                  r"; f\.bin left as it was$"),
                 ("new.bin", signal.SIGTERM, r"^new\.bin$", r"; 4000 bytes are in new\.bin$"),
                 ("-", signal.SIGHUP, None, None)]
        for name, sig, watched, msg in cases:
            with self.subTest(name=name):
                release = threading.Event()

                def handler(srv, c, head):
                    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10000\r\n\r\n" + body[:4000])
                    release.wait(RUN_TIMEOUT)
                self.write("f.bin", old)
                with RawServer(handler) as srv:
                    # the three at their default, as from a terminal: run in the
                    # background of a script (as CI is), SIGINT comes ignored, and
                    # the client leaves an ignored signal ignored, as nohup wants
                    p = subprocess.Popen([CLIENT, "-o", name, srv.url("/x")], cwd=self.cwd,
                                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, preexec_fn=default_stop_signals)
                    try:
                        # the signal once the 4000 bytes are written (file or pipe)
                        out = b""
                        if watched is None:
                            while len(out) < 4000 and select.select([p.stdout], [], [],
                                                                     RUN_TIMEOUT)[0]:
                                d = os.read(p.stdout.fileno(), 65536)
                                if not d:
                                    break
                                out += d
                            written = len(out) == 4000
                        else:
                            written = h.poll_until(lambda: any(
                                re.search(watched, f) and os.path.getsize(self.path(f)) == 4000
                                for f in os.listdir(self.cwd)), RUN_TIMEOUT)
                        self.assertTrue(written, "the client did not write 4000 bytes")
                        p.send_signal(sig)
                        rest, err = p.communicate(timeout=RUN_TIMEOUT)
                    finally:
                        release.set()
                        if p.poll() is None:
                            p.kill()
                            p.wait()
                self.assertEqual(p.returncode, -sig, err)
                self.assertEqual(self.read("f.bin"), old)
                lines = errlines(err)
                if msg is None:
                    self.assertEqual(out + rest, body[:4000])
                    self.assertEqual(lines, [])
                    continue
                self.assertEqual(len(lines), 1, err)
                self.assertRegex(lines[0], r"interrupted by %s while receiving the body from "
                                 r"127\.0\.0\.1 port \d+%s" % (sig.name, msg))
                self.assertEqual(b"to resume: " in err, name == "new.bin")
        self.assertEqual(self.files(), ["f.bin", "new.bin"])
        self.assertEqual(self.read("new.bin"), body[:4000])

    def test_interrupted_while_the_reader_is_stuck(self):
        # a stop signal while the body waits on a full pipe or FIFO whose
        # reader has stopped: the write it interrupts has written part of
        # its piece, or none of it, and the next write would wait for the
        # reader for ever, the signal already taken; the client stops there,
        # and the count it gives is what the reader gets. With -i and a
        # one-page pipe the head fills part of it, the first 4 KiB of the
        # body (one atomic write) waits whole, and more was read behind it.
        write_nr = {"x86_64": "1", "aarch64": "64"}.get(os.uname().machine)
        if not os.path.exists("/proc/self/syscall") or not write_nr:
            self.skipTest("no /proc/PID/syscall, or write(2)'s number unknown here, "
                          "to see the client wait in write(2)")
        body = b"".join(b"line %05d of a text body\n" % i for i in range(2000))
        cases = [("-", 8192, []), ("fifo", 8192, []), ("-", 4096, ["-i"])]
        for name, pipe_size, opts in cases:
            with self.subTest(name=name, pipe_size=pipe_size, opts=opts):
                release = threading.Event()

                def handler(srv, c, head):
                    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                              b"Content-Length: %d\r\n\r\n" % (len(body) + 1000) + body)
                    release.wait(RUN_TIMEOUT)
                if name == "-":
                    r, w = os.pipe()
                else:
                    os.mkfifo(self.path(name))
                    r = os.open(self.path(name), os.O_RDONLY | os.O_NONBLOCK)
                    w = None
                self.addCleanup(os.close, r)
                fcntl.fcntl(r, fcntl.F_SETPIPE_SZ, pipe_size)
                with RawServer(handler) as srv:
                    p = subprocess.Popen([CLIENT] + opts + ["-o", name, srv.url("/t.txt")],
                                         cwd=self.cwd, stdin=subprocess.DEVNULL,
                                         stdout=w if w is not None else subprocess.DEVNULL,
                                         stderr=subprocess.PIPE, preexec_fn=default_stop_signals)
                    if w is not None:
                        os.close(w)
                    try:
                        # blocked in write(2) on the pipe
                        def writing():
                            try:
                                with open("/proc/%d/syscall" % p.pid) as f:
                                    return f.read().split()[0] == write_nr
                            except (OSError, IndexError):
                                return False
                        self.assertTrue(h.poll_until(writing, RUN_TIMEOUT),
                                        "the client never waited on the pipe")
                        p.send_signal(signal.SIGINT)
                        try:
                            _, err = p.communicate(timeout=RUN_TIMEOUT)
                        except subprocess.TimeoutExpired:
                            self.fail("the client still waits for the reader after SIGINT")
                    finally:
                        release.set()
                        if p.poll() is None:
                            p.kill()
                            p.wait()
                os.set_blocking(r, True)
                got = os.read(r, 2 * pipe_size)
                self.assertEqual(p.returncode, -signal.SIGINT, err)
                if opts:
                    head, sep, got = got.partition(b"\n\n")  # -i: the head as text
                    self.assertTrue(sep and head.startswith(b"HTTP/1.1 200 OK"), head)
                self.assertEqual(got, body[:len(got)])
                lines = errlines(err)
                if name == "-":
                    self.assertEqual(lines, [])
                    continue
                self.assertEqual(len(got), pipe_size)
                self.assertEqual(len(lines), 1, err)
                self.assertRegex(lines[0], r"interrupted by SIGINT while receiving the body from "
                                 r"127\.0\.0\.1 port \d+; %d bytes are in fifo$" % pipe_size)

    def test_resume_hint_is_quoted_for_the_shell(self):
        name = "a'; touch PWNED; echo 'b.bin"
        body = rand_bytes(5000, seed=4)
        data = (b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                b"Content-Disposition: attachment; filename=\"%s\"\r\nContent-Length: 10000\r\n"
                b"\r\n" % name.encode()) + body
        with RawServer(send_raw(data)) as srv:
            url = srv.url("/d?x=';>PWNED2;'")  # no spaces in a URL
            p = self.run_fail(["-O", url], 18, r"after 5000 of 10000 body bytes")
        self.assertEqual(self.read(name), body)
        hint = re.search(r"^to resume: pyserve-client (.*)$", p.stderr.decode(), re.M)
        self.assertIsNotNone(hint, p.stderr)
        # pasted into sh, the hint gives these words and runs nothing else
        sh = subprocess.run(["sh", "-c", "printf '%s\\n' " + hint.group(1)], cwd=self.cwd,
                            capture_output=True, timeout=RUN_TIMEOUT)
        self.assertEqual(sh.stdout.decode().splitlines(), ["-C", "-o", name, url])
        self.assertEqual(self.files(), [name])

    def test_resume_hint_for_a_file_named_dash(self):
        # a name that starts with "-" is saved with "_" for it, not taken
        # for an option (or "-o -", standard output) when the hint is pasted
        content = rand_bytes(10000, seed=6)
        cut, whole = range_handler(content, cut_after=4000), range_handler(content)

        def handler(srv, c, head):
            (cut if len(srv.requests) == 1 else whole)(srv, c, head)
        with RawServer(handler) as srv:
            p = self.run_fail(["-O", srv.url("/-")], 18, r"after 4000 of 10000 body bytes")
            hint = re.search(r"^to resume: pyserve-client (.*)$", p.stderr.decode(), re.M)
            self.assertIsNotNone(hint, p.stderr)
            sh = subprocess.run(["sh", "-c", "printf '%s\\n' " + hint.group(1)], cwd=self.cwd,
                                capture_output=True, timeout=RUN_TIMEOUT)
            words = sh.stdout.decode().splitlines()
            self.assertEqual(words, ["-C", "-o", "_", srv.url("/-")])
            p = self.run_ok(words)
        self.assertEqual(p.stdout, b"")
        self.assertEqual(self.files(), ["_"])
        self.assertEqual(self.read("_"), content)

    def test_connection_reset(self):
        def handler(srv, c, head):
            c.sendall(b"HTTP/1.1 200 OK\r\nX-Partial: ")
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with RawServer(handler) as srv:
            self.run_fail([srv.url("/")], 56, r"receiving the response from 127\.0\.0\.1 port "
                          r"\d+: Connection reset by peer")


class TestRedirects(ClientCase):
    def test_relative_location(self):
        def handler(srv, c, head):
            if head.startswith(b"GET /a/b/start "):
                c.sendall(b"HTTP/1.1 302 Found\r\nLocation: ../c/./target.txt?q=1\r\n"
                          b"Content-Length: 0\r\n\r\n")
            else:
                c.sendall(response(b"arrived", ctype="text/plain"))
        with RawServer(handler) as srv:
            p = self.run_ok(["-L", srv.url("/a/b/start")])
            self.assertEqual(p.stdout, b"arrived")
            self.assertEqual(len(srv.requests), 2)
            self.assertTrue(srv.requests[1].startswith(b"GET /a/c/target.txt?q=1 HTTP/1.1\r\n"))

    def test_not_followed_without_L(self):
        data = (b"HTTP/1.1 301 Moved Permanently\r\nLocation: /elsewhere\r\nContent-Type: text/html"
                b"\r\nContent-Length: 11\r\n\r\n<a>here</a>")
        with RawServer(send_raw(data)) as srv:
            p = self.run_ok([srv.url("/")])
            self.assertEqual(len(srv.requests), 1)
        self.assertEqual(p.stdout, b"<a>here</a>")
        self.assertIn(b"Location: /elsewhere", p.stderr)

    def test_bounded(self):
        def loop(srv, c, head):
            c.sendall(b"HTTP/1.1 302 Found\r\nLocation: /again\r\nContent-Length: 0\r\n\r\n")
        with RawServer(loop) as srv:
            self.run_fail(["-L", srv.url("/")], 47,
                          r"too many redirects \(more than 10\), the last to \"/again\"$")
            self.assertEqual(len(srv.requests), 11)

    def test_bounded_message_is_escaped(self):
        # the server's Location reaches the message escaped, as the head does
        def loop(srv, c, head):
            c.sendall(b"HTTP/1.1 302 Found\r\nLocation: /a\x9b31m\xe2\x80\xae\r\n"
                      b"Content-Length: 0\r\n\r\n")
        with RawServer(loop) as srv:
            p = self.run_fail(["-L", srv.url("/")], 47,
                              r"the last to \"/a\\x9b31m\\xe2\\x80\\xae\"$")
        # (the head itself goes out as it came: stderr is not a terminal)
        self.assertNotIn(b"\x9b", p.stderr.splitlines()[-1])

    def test_to_https_and_bad_location(self):
        for loc, code, msg in (("https://example.invalid/", 1, r"redirect to https"),
                               ("http:nope", 8, r"without an authority"),
                               ("http://[::1/", 8, r"cannot follow the redirect"),
                               ("#s", 8, r"cannot follow the redirect from 127\.0\.0\.1 port "
                                r"\d+ to \"#s\": the Location is only a fragment: it "
                                r"redirects to the same URL$")):
            data = ("HTTP/1.1 308 Permanent Redirect\r\nLocation: %s\r\nContent-Length: 0\r\n\r\n"
                    % loc).encode()
            with RawServer(send_raw(data)) as srv:
                self.run_fail(["-L", srv.url("/")], code, msg)

    def test_other_origin_gets_its_own_host(self):
        with RawServer(send_raw(response(b"other", ctype="text/plain"))) as dst:
            loc = dst.url("/there")
            data = ("HTTP/1.1 307 Temporary Redirect\r\nLocation: %s\r\nContent-Length: 0\r\n\r\n"
                    % loc).encode()
            with RawServer(send_raw(data)) as src:
                p = self.run_ok(["-L", "-H", "Host: virtual.example", "-H", "X-Keep: 1",
                                 src.url("/here")])
                self.assertEqual(src.request_field(0, "Host"), "virtual.example")
            self.assertEqual(p.stdout, b"other")
            self.assertEqual(dst.request_field(0, "Host"), "127.0.0.1:%d" % dst.port)
            self.assertEqual(dst.request_field(0, "X-Keep"), "1")

    def test_credentials_stay_with_their_origin(self):
        creds = (("Authorization", "Basic dXNlcjpwYXNz"), ("Cookie", "session=s3cret"),
                 ("Proxy-Authorization", "Basic cHJveHk6cHc="))
        args = ["-L", "-H", "X-Keep: 1"]
        for name, value in creds:
            args += ["-H", "%s: %s" % (name, value)]

        def same_origin(srv, c, head):
            if head.startswith(b"GET /here "):
                c.sendall(b"HTTP/1.1 302 Found\r\nLocation: /there\r\nContent-Length: 0\r\n\r\n")
            else:
                c.sendall(response(b"same", ctype="text/plain"))
        with RawServer(same_origin) as srv:  # a redirect on the same origin keeps them
            self.assertEqual(self.run_ok(args + [srv.url("/here")]).stdout, b"same")
            for name, value in creds:
                self.assertEqual(srv.request_field(1, name), value)
        # another port is another origin: credentials are dropped, other fields kept
        with RawServer(send_raw(response(b"other", ctype="text/plain"))) as dst:
            data = ("HTTP/1.1 307 Temporary Redirect\r\nLocation: %s\r\nContent-Length: 0\r\n"
                    "\r\n" % dst.url("/there")).encode()
            with RawServer(send_raw(data)) as src:
                p = self.run_ok(args + ["-v", src.url("/here")])
                for name, value in creds:
                    self.assertEqual(src.request_field(0, name), value)
            self.assertEqual(p.stdout, b"other")
            self.assertEqual(dst.request_field(0, "X-Keep"), "1")
            for name, _ in creds:
                self.assertIsNone(dst.request_field(0, name), name)


class TestRanges(ClientCase):
    CONTENT = rand_bytes(200000, seed=11)

    def test_range(self):
        with RawServer(range_handler(self.CONTENT)) as srv:
            p = self.run_ok(["-r", "0-99", "-o", "-", srv.url("/f.bin")])
            self.assertEqual(p.stdout, self.CONTENT[:100])
            self.assertEqual(srv.request_field(0, "Range"), "bytes=0-99")
            self.assertRegex(p.stderr.decode(), r"^HTTP/1\.1 206 Partial Content\n")
            p = self.run_ok(["--range=-500", "-o", "tail.bin", srv.url("/f.bin")])
            self.assertEqual(self.read("tail.bin"), self.CONTENT[-500:])
            self.assertEqual(srv.request_field(1, "Range"), "bytes=-500")
            # the note says the file holds a part
            self.assertIn(b"saved 500 bytes (a part: Content-Range \"bytes 199500-199999/200000\")"
                          b" to tail.bin\n", p.stderr)

    def test_range_cut_gives_no_resume_hint(self):
        # -C would append the rest of the whole resource to the part
        with RawServer(range_handler(self.CONTENT, cut_after=500)) as srv:
            p = self.run_fail(["-r", "0-999", "-o", "part.bin", srv.url("/f.bin")], 18,
                              r"after 500 of 1000")
        self.assertEqual(self.read("part.bin"), self.CONTENT[:500])
        self.assertNotIn(b"to resume", p.stderr)

    def test_continue_resumes_to_the_exact_bytes(self):
        self.write("f.bin", self.CONTENT[:123456])
        with RawServer(range_handler(self.CONTENT)) as srv:
            p = self.run_ok(["-C", "-o", "f.bin", srv.url("/f.bin")])
            self.assertEqual(srv.request_field(0, "Range"), "bytes=123456-")
        self.assertEqual(sha(self.read("f.bin")), sha(self.CONTENT))
        self.assertIn(b"appended %d bytes to f.bin" % (200000 - 123456), p.stderr)

    def test_continue_after_a_cut(self):
        # the first attempt is cut after 50000 bytes, -C finishes it
        with RawServer(range_handler(self.CONTENT, cut_after=50000)) as srv:
            self.run_fail(["-o", "f.bin", srv.url("/f.bin")], 18, r"after 50000 of 200000")
        self.assertEqual(self.read("f.bin"), self.CONTENT[:50000])
        with RawServer(range_handler(self.CONTENT, cut_after=70000)) as srv:
            self.run_fail(["-C", "-o", "f.bin", srv.url("/f.bin")], 18, r"after 70000 of 150000")
        self.assertEqual(self.read("f.bin"), self.CONTENT[:120000])
        with RawServer(range_handler(self.CONTENT)) as srv:
            self.run_ok(["--continue", "-o", "f.bin", srv.url("/f.bin")])
        self.assertEqual(sha(self.read("f.bin")), sha(self.CONTENT))

    def test_continue_names_the_file_after_the_url(self):
        self.write("g.bin", self.CONTENT[:1000])
        with RawServer(range_handler(self.CONTENT)) as srv:
            self.run_ok(["-C", "-", srv.url("/dir/g.bin")])  # curl's spelling
        self.assertEqual(self.files(), ["g.bin"])
        self.assertEqual(sha(self.read("g.bin")), sha(self.CONTENT))
        # the same after the URL: options go anywhere
        self.write("g.bin", self.CONTENT[:2000])
        with RawServer(range_handler(self.CONTENT)) as srv:
            self.run_ok([srv.url("/dir/g.bin"), "-C", "-"])
            self.assertEqual(srv.request_field(0, "Range"), "bytes=2000-")
        self.assertEqual(self.files(), ["g.bin"])
        self.assertEqual(sha(self.read("g.bin")), sha(self.CONTENT))

    def test_continue_without_a_file(self):
        with RawServer(range_handler(self.CONTENT)) as srv:
            self.run_ok(["-C", "-o", "new.bin", srv.url("/f.bin")])
            self.assertIsNone(srv.request_field(0, "Range"))
        self.assertEqual(sha(self.read("new.bin")), sha(self.CONTENT))

    def test_unasked_206_only_for_the_whole(self):
        # no Range was sent (-C of a missing file, plain -o, standard
        # output): a part is refused before any file is made, since it
        # would be stored at byte 0 as if it began the resource
        part = response(self.CONTENT[500:600], status="206 Partial Content",
                        extra="Content-Range: bytes 500-599/200000\r\n")
        msg = (r"answered 206 with Content-Range \"bytes 500-599/200000\" to a request for no "
               r"range: only the whole resource")
        self.write("old.bin", b"old")
        for args in (["-C", "-o", "new.bin"], ["-o", "new.bin"], ["-o", "old.bin"], ["-o", "-"],
                     ["-O"]):
            with self.subTest(args=args), RawServer(send_raw(part)) as srv:
                p = self.run_fail(args + [srv.url("/new.bin")], 8, msg)
                self.assertIsNone(srv.request_field(0, "Range"))
                self.assertEqual(p.stdout, b"")
                self.assertEqual(self.files(), ["old.bin"])
                self.assertEqual(self.read("old.bin"), b"old")
        # the whole resource in a 206 is what a 200 would have carried
        whole = response(self.CONTENT, status="206 Partial Content",
                         extra="Content-Range: bytes 0-199999/200000\r\n")
        for args in (["-C", "-o", "new.bin"], ["-o", "old.bin"]):
            with self.subTest(args=args), RawServer(send_raw(whole)) as srv:
                self.run_ok(args + [srv.url("/new.bin")])
                self.assertEqual(sha(self.read(args[-1])), sha(self.CONTENT))

    def test_continue_complete(self):
        self.write("f.bin", self.CONTENT)
        with RawServer(range_handler(self.CONTENT)) as srv:
            p = self.run_ok(["-C", "-o", "f.bin", srv.url("/f.bin")])
            self.assertIn(b"f.bin is already complete (200000 bytes)", p.stderr)
            # the 416 is the resume's answer, not an HTTP error for -f
            p = self.run_ok(["-f", "-C", "-o", "f.bin", srv.url("/f.bin")])
            self.assertIn(b"f.bin is already complete (200000 bytes)", p.stderr)
        self.assertEqual(sha(self.read("f.bin")), sha(self.CONTENT))

    def test_continue_through_symlinks(self):
        # a dangling symlink is refused before any request: following it
        # would create the file it names, wherever that is
        os.symlink("target.bin", self.path("f.bin"))
        with RawServer(range_handler(self.CONTENT)) as srv:
            self.run_fail(["-C", "-o", "f.bin", srv.url("/f.bin")], 23,
                          r"^pyserve-client: cannot resume f\.bin: a symbolic link to a file that "
                          r"does not exist$")
            self.assertEqual(srv.requests, [])
        self.assertEqual(self.files(), ["f.bin"])
        # a symlink to a partial file resumes it
        self.write("target.bin", self.CONTENT[:1000])
        with RawServer(range_handler(self.CONTENT)) as srv:
            self.run_ok(["-C", "-o", "f.bin", srv.url("/f.bin")])
            self.assertEqual(srv.request_field(0, "Range"), "bytes=1000-")
        self.assertEqual(sha(self.read("target.bin")), sha(self.CONTENT))
        self.assertTrue(os.path.islink(self.path("f.bin")))

    def test_continue_refused(self):
        partial = self.CONTENT[:1000]
        for kw, msg in (({"ignore": True}, r"answered 200 instead of 206 .* f\.bin left unchanged"),
                        ({"wrong_start": True}, r"Content-Range \"bytes 990-199999/200000\", which "
                                                r"does not continue f\.bin at byte 1000")):
            self.write("f.bin", partial)
            with RawServer(range_handler(self.CONTENT, **kw)) as srv:
                self.run_fail(["-C", "-o", "f.bin", srv.url("/f.bin")], 33, msg)
            self.assertEqual(self.read("f.bin"), partial)
        # a 206 at the right byte whose Content-Length is not the range's
        self.write("f.bin", partial)
        data = response(self.CONTENT[1000:1020], status="206 Partial Content",
                        extra="Content-Range: bytes 1000-1004/200000\r\n")
        with RawServer(send_raw(data)) as srv:
            self.run_fail(["-C", "-o", "f.bin", srv.url("/f.bin")], 33,
                          r"answered 206 with Content-Range \"bytes 1000-1004/200000\" and a "
                          r"Content-Length of 20, which is not the length of that range: f\.bin "
                          r"left unchanged$")
        self.assertEqual(self.read("f.bin"), partial)
        # a local file longer than the remote one
        self.write("f.bin", self.CONTENT + b"extra")
        with RawServer(range_handler(self.CONTENT)) as srv:
            for fail in ([], ["-f"]):
                self.run_fail(fail + ["-C", "-o", "f.bin", srv.url("/f.bin")], 33,
                              r"cannot resume f\.bin at byte 200005 \(416")
        # -f still fails on other errors
        with RawServer(send_raw(response(b"gone", status="404 Not Found"))) as srv:
            self.run_fail(["-f", "-C", "-o", "f.bin", srv.url("/f.bin")], 22, r"HTTP error 404")
        self.assertEqual(self.read("f.bin"), self.CONTENT + b"extra")
        # a directory is not a partial file
        os.mkdir(self.path("d"))
        with RawServer(range_handler(self.CONTENT)) as srv:
            self.run_fail(["-C", "-o", "d", srv.url("/f.bin")], 23, r"not a regular file")
            self.assertEqual(srv.requests, [])

    def test_continue_416_says_what_is_known(self):
        # the length the server gave and the file's, no guess that the file
        # is the longer one (here it is the shorter)
        cases = [("Content-Range: bytes */500\r\n",
                  r"\(416, Content-Range \"bytes \*/500\"\): the server says the resource has "
                  r"500 bytes, the local file has 100; file left unchanged$"),
                 ("", r"\(416, Content-Range \"\(none\)\"\): the server gives no length, the "
                  r"local file has 100; file left unchanged$")]
        for extra, msg in cases:
            with self.subTest(extra=extra):
                self.write("f.bin", self.CONTENT[:100])
                data = response(b"", status="416 Range Not Satisfiable", extra=extra)
                with RawServer(send_raw(data)) as srv:
                    p = self.run_fail(["-C", "-o", "f.bin", srv.url("/f.bin")], 33,
                                      r"cannot resume f\.bin at byte 100 " + msg)
                self.assertNotIn(b"longer", p.stderr)
                self.assertEqual(self.read("f.bin"), self.CONTENT[:100])

    def test_continue_body_length_must_match_its_range(self):
        # "bytes 5-9/10" announces 5 bytes; a chunked or read-until-close body
        # has no Content-Length to check before it arrives
        def partial(body, chunked):
            data = (b"HTTP/1.1 206 Partial Content\r\nContent-Type: application/octet-stream\r\n"
                    b"Content-Range: bytes 5-9/10\r\n")
            if chunked:
                data += b"Transfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n" % (len(body),
                                                                                     body)
            else:
                data += b"\r\n" + body
            return send_raw(data)
        for chunked in (True, False):
            with self.subTest(chunked=chunked):
                # too long: the span is appended, the rest dropped, protocol error
                self.write("f.bin", b"01234")
                with RawServer(partial(b"56789" + b"x" * 15, chunked)) as srv:
                    self.run_fail(["-C", "-o", "f.bin", srv.url("/f.bin")], 8,
                                  r"sent a 206 body longer than its Content-Range "
                                  r"\"bytes 5-9/10\" \(5 bytes\): appended those bytes to f\.bin")
                self.assertEqual(self.read("f.bin"), b"0123456789")
                # too short: kept, and -C can go on, as after a cut
                self.write("f.bin", b"01234")
                with RawServer(partial(b"567", chunked)) as srv:
                    p = self.run_fail(["-C", "-o", "f.bin", srv.url("/f.bin")], 18,
                                      r"ended the 206 body after 3 of the 5 bytes of its "
                                      r"Content-Range \"bytes 5-9/10\"")
                self.assertIn(b"\"bytes 5-9/10\"; 8 bytes are in f.bin\nto resume: "
                              b"pyserve-client -C -o", p.stderr)
                self.assertEqual(self.read("f.bin"), b"01234567")
                # exact
                self.write("f.bin", b"01234")
                with RawServer(partial(b"56789", chunked)) as srv:
                    self.run_ok(["-C", "-o", "f.bin", srv.url("/f.bin")])
                self.assertEqual(self.read("f.bin"), b"0123456789")


class TestNetworkErrors(ClientCase):
    def test_connection_refused(self):
        # A bound socket that does not listen: the port is ours, nobody accepts.
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        try:
            port = s.getsockname()[1]
            self.run_fail(["http://127.0.0.1:%d/" % port], 7, r"cannot connect to 127\.0\.0\.1 "
                          r"port %d \(127\.0\.0\.1\): Connection refused" % port)
            self.run_fail(["127.0.0.1", str(port), "/"], 7, r"Connection refused")
        finally:
            s.close()

    def test_request_head_too_long_before_any_connection(self):
        # exit 2 for what the command line asked, not 7 from the network
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        try:
            big = ["-H", "X-A: " + "a" * 9000, "-H", "X-B: " + "b" * 9000]
            self.run_fail(big + ["http://127.0.0.1:%d/" % s.getsockname()[1]], 2,
                          r"request head longer than 16384 bytes$")
        finally:
            s.close()

    def test_unresolvable(self):
        self.run_fail(["http://no-such-host.invalid/"], 6,
                      r"cannot resolve host \"no-such-host\.invalid\"")

    def test_silent_server_times_out(self):
        def silent(srv, c, head):
            srv.stop.wait(30)
        with RawServer(silent) as srv:
            t0 = time.monotonic()
            self.run_fail(["--timeout", "1", srv.url("/")], 28,
                          r"timed out after 1000 ms waiting for the response from 127\.0\.0\.1")
            self.assertLess(time.monotonic() - t0, 10)

    def test_stalled_body_times_out(self):
        def stall(srv, c, head):
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nContent-Type: text/plain\r\n"
                      b"\r\nfirst")
            srv.stop.wait(30)
        with RawServer(stall) as srv:
            p = self.run_fail(["--timeout", "0.3", srv.url("/")], 28,
                              r"timed out after 300 ms waiting for the body")
        self.assertEqual(p.stdout, b"first")

    def test_connect_timeout(self):
        # A listener whose accept queue is full drops new SYNs: connecting
        # hangs until the client's deadline.
        ls = socket.socket()
        ls.bind(("127.0.0.1", 0))
        ls.listen(0)
        addr = ls.getsockname()
        fillers = []
        try:
            for _ in range(4):
                f = socket.socket()
                f.setblocking(False)
                f.connect_ex(addr)
                fillers.append(f)
            t0 = time.monotonic()
            p = run(["--timeout", "1", "http://127.0.0.1:%d/" % addr[1]], self.cwd)
            self.assertEqual(p.returncode, 28, p.stderr)
            self.assertRegex(errlines(p.stderr)[0], r"timed out connecting to 127\.0\.0\.1 port %d "
                             r"\(127\.0\.0\.1\) after 1000 ms" % addr[1])
            self.assertLess(time.monotonic() - t0, 10)
        finally:
            for f in fillers:
                f.close()
            ls.close()

    @unittest.skipUnless(ipv6_ok(), "no IPv6 loopback")
    def test_ipv6_literal(self):
        with RawServer(send_raw(response(b"six", ctype="text/plain")), socket.AF_INET6,
                       "::1") as srv:
            p = self.run_ok([srv.url("/")])
            self.assertEqual(p.stdout, b"six")
            self.assertEqual(srv.request_field(0, "Host"), "[::1]:%d" % srv.port)
            p = self.run_ok(["-6", "::1", str(srv.port), "/"])
            self.assertEqual(p.stdout, b"six")
            self.run_fail(["-4", srv.url("/")], 6, r"cannot resolve IPv4 host \"::1\"")


class TestUsage(ClientCase):
    def test_usage_errors(self):
        cases = [
            ([], r"no URL given"),
            (["-x", "http://h/"], r"unknown option -x"),
            (["--frobnicate", "http://h/"], r"unknown option --frobnicate"),
            (["http://h/", "-o"], r"option -o needs an argument"),
            (["--head=x", "http://h/"], r"option '--head' takes no argument$"),
            (["http://h/", "--fail=1"], r"option '--fail' takes no argument$"),
            (["127.0.0.1", "99999", "/"], r"bad port \"99999\""),
            (["127.0.0.1", "http", "/"], r"bad port \"http\""),
            (["http://127.0.0.1:99999/"], r"bad URL .*port out of range"),
            (["https://127.0.0.1/"], r"https is not supported"),
            (["a", "b"], r"got 2 arguments"),
            (["--timeout", "soon", "http://h/"], r"bad timeout \"soon\""),
            (["-r", "5-1", "http://h/"], r"bad range \"5-1\""),
            (["-H", "NoColon", "http://h/"], r"bad header \"NoColon\""),
            (["-q", "-v", "http://h/"], r"-q and -v exclude each other"),
            (["-o", "a", "-O", "http://h/"], r"-o and -O exclude each other"),
        ]
        for args, msg in cases:
            with self.subTest(args=args):
                p = self.run_fail(args, 2, msg)
                self.assertIn(b"Try 'pyserve-client --help'.", p.stderr)
                self.assertEqual(p.stdout, b"")

    def test_help_and_version(self):
        p = self.run_ok(["--help"])
        self.assertIn(b"Usage: pyserve-client", p.stdout)
        p = self.run_ok(["-V"])
        version = h.package_version()
        self.assertRegex(p.stdout.decode(), r"^pyserve-client \d+\.\d+")
        if version:
            self.assertEqual(p.stdout.decode(), "pyserve-client %s\n" % version)

    def test_help_and_version_not_written(self):
        # exit 23: with the reason on a full disk, quietly when the reader
        # of a pipe went away (as for a body)
        for arg in ("--help", "--version"):
            with self.subTest(arg=arg, stdout="full"):
                p = h.run_unwritable([CLIENT, arg], "full")
                self.assertEqual(p.returncode, 23, p.stderr)
                self.assertEqual(p.stderr, "pyserve-client: cannot write to standard output: "
                                 "No space left on device\n")
            with self.subTest(arg=arg, stdout="pipe"):
                p = h.run_unwritable([CLIENT, arg], "pipe")
                self.assertEqual((p.returncode, p.stderr), (23, ""))


class TestTerminal(ClientCase):
    BIG = rand_bytes(2 * 1024 * 1024 + 12345, seed=5)

    def test_binary_refused_to_a_terminal(self):
        with RawServer(send_raw(response(PNG, ctype="image/png"))) as srv:
            rc, term, err = self.run_pty(["-o", "-", srv.url("/p.png")], stdout_tty=True)
        self.assertEqual(rc, 23, err)
        self.assertIn(b"not writing a binary body (image/png) to a terminal", err)
        self.assertNotIn(b"PNG", term)
        self.assertEqual(self.files(), [])
        # text that carries a NUL is binary too
        with RawServer(send_raw(response(b"abc\0def", ctype="text/plain"))) as srv:
            rc, term, err = self.run_pty(["-o", "-", srv.url("/t.txt")], stdout_tty=True)
        self.assertEqual(rc, 23, err)
        self.assertNotIn(b"abc", term)

    def test_binary_after_text_never_reaches_a_terminal(self):
        # The start of the body looks like text; the server waits until it
        # is on the terminal, then sends binary bytes: the client stops.
        first = b"first line\n"
        for fields, rest in (("", b"\x01\x02\x03 no type: a C0 control is binary"),
                             ("Content-Type: text/plain\r\n", b"\x00\x00 a NUL is binary")):
            with self.subTest(fields=fields):
                shown = threading.Event()

                def handler(srv, c, head):
                    c.sendall(("HTTP/1.1 200 OK\r\n%s\r\n" % fields).encode() + first)
                    shown.wait(RUN_TIMEOUT)
                    c.sendall(rest)
                with RawServer(handler) as srv:
                    try:
                        rc, term, err = self.run_pty(
                            ["--timeout", "%d" % RUN_TIMEOUT, srv.url("/")], stdout_tty=True,
                            seen=lambda out: first.rstrip() in out and shown.set())
                    finally:
                        shown.set()
                self.assertTrue(term.startswith(b"first line"), term)
                self.assertNotIn(rest[:2], term)
                self.assertEqual(rc, 23, err)
                self.assertEqual(errlines(err), [
                    PROG + "127.0.0.1 port %d sent binary data (a NUL or control byte) after 11 "
                    "bytes of text: not writing it to a terminal; use -o FILE or -O" % srv.port])
        # with both on the terminal, the message starts a line of its own
        shown = threading.Event()

        def unfinished(srv, c, head):
            c.sendall(b"HTTP/1.1 200 OK\r\n\r\nno line feed yet")
            shown.wait(RUN_TIMEOUT)
            c.sendall(b"\x00\x01")
        with RawServer(unfinished) as srv:
            try:
                rc, term, _ = self.run_pty(["--timeout", "%d" % RUN_TIMEOUT, srv.url("/")],
                                           stdout_tty=True, stderr_tty=True,
                                           seen=lambda out: b"yet" in out and shown.set())
            finally:
                shown.set()
        self.assertEqual(rc, 23, term)
        self.assertIn(b"no line feed yet\r\n" + PROG.encode() + b"127.0.0.1 port", term)
        # past the first 4 KiB of a piece that arrives in one go
        body = b"a" * 5000 + b"\x00PNG" + b"b" * 100
        with RawServer(send_raw(response(body, ctype="text/plain"))) as srv:
            rc, term, err = self.run_pty(["-o", "-", srv.url("/t.txt")], stdout_tty=True)
        self.assertEqual(rc, 23, err)
        self.assertNotIn(b"PNG", term)
        self.assertIn(b"sent binary data", err)

    def test_head_escaped_on_a_terminal_only(self):
        # a C1 CSI (0x9b), invalid UTF-8 and a bidi override (U+202E) in the
        # reason and a value; a tab and valid UTF-8 are kept
        raw = b"a\x9b31mb\xe2\x80\xaec\xc3\xa9\td\xff"
        shown = b"a\\x9b31mb\\xe2\\x80\\xaec\xc3\xa9\td\\xff"
        data = (b"HTTP/1.1 200 O\x9bK\r\nX-Evil: %s\r\nContent-Type: text/plain\r\n"
                b"Content-Length: 2\r\n\r\nok" % raw)
        with RawServer(send_raw(data)) as srv:
            rc, term, out = self.run_pty([srv.url("/")], stderr_tty=True)
            self.assertEqual((rc, out), (0, b"ok"))
            self.assertIn(b"HTTP/1.1 200 O\\x9bK\r\nX-Evil: %s\r\n" % shown, term)
            rc, term, err = self.run_pty(["-i", srv.url("/")], stdout_tty=True)
            self.assertEqual(rc, 0, err)
            self.assertIn(b"X-Evil: %s\r\n" % shown, term)
            # not a terminal: byte for byte
            p = self.run_ok([srv.url("/")])
            self.assertIn(b"HTTP/1.1 200 O\x9bK\nX-Evil: %s\n" % raw, p.stderr)
            p = self.run_ok(["-i", srv.url("/")])
            self.assertIn(b"X-Evil: %s\n" % raw, p.stdout)
        # file names lose their format characters: a U+202E in the name
        # would show "evil\u202etxt.exe" as "evilexe.txt"
        cd = "Content-Disposition: attachment; filename*=UTF-8''evil%E2%80%AEtxt.exe\r\n"
        with RawServer(send_raw(response(PNG, extra=cd))) as srv:
            self.run_ok([srv.url("/x")])
        with RawServer(send_raw(response(PNG))) as srv:
            self.run_ok([srv.url("/a%E2%81%A6b%E2%80%8Bc.bin")])
        self.assertEqual(self.files(), ["a_b_c.bin", "evil_txt.exe"])

    def test_default_on_a_terminal(self):
        with RawServer(send_raw(response(PNG, ctype="image/png"))) as srv:
            rc, term, err = self.run_pty([srv.url("/p.png")], stdout_tty=True)
        self.assertEqual(rc, 0, err)
        self.assertNotIn(b"PNG", term)
        self.assertEqual(self.read("p.png"), PNG)
        with RawServer(send_raw(response(HELLO, ctype="text/plain"))) as srv:
            rc, term, err = self.run_pty([srv.url("/h.txt")], stdout_tty=True)
        self.assertEqual(rc, 0, err)
        self.assertEqual(term.replace(b"\r\n", b"\n"), HELLO)

    def test_progress_on_a_terminal(self):
        with RawServer(send_raw(response(self.BIG))) as srv:
            rc, term, out = self.run_pty(["-o", "big.bin", srv.url("/big.bin")], stderr_tty=True)
        self.assertEqual(rc, 0, term)
        self.assertEqual(sha(self.read("big.bin")), sha(self.BIG))
        text = term.decode("utf-8", "replace")
        self.assertIn("\r[", text)
        self.assertRegex(text, r"\] 100% 2\.0 MiB / 2\.0 MiB  .*/s  in \d+:\d\d")
        # no line is wider than the terminal (100 columns)
        for line in re.split(r"[\r\n]", re.sub(r"\x1b\[K", "", text)):
            self.assertLessEqual(len(line), 99)
        # unknown length: bytes and rate, no percentage
        with RawServer(send_raw(b"HTTP/1.0 200 OK\r\nContent-Type: application/zip\r\n\r\n"
                                + self.BIG)) as srv:
            rc, term, out = self.run_pty(["-o", "big2.bin", srv.url("/")], stderr_tty=True)
        self.assertEqual(rc, 0, term)
        self.assertRegex(term.decode(), r"\r2\.0 MiB  .*/s  \d+:\d\d")
        self.assertNotIn(b"%", term)

    def test_no_progress_when_not_wanted(self):
        # stderr not a terminal
        with RawServer(send_raw(response(self.BIG))) as srv:
            p = self.run_ok(["-o", "big.bin", srv.url("/big.bin")])
        self.assertNotIn(b"\r", p.stderr)
        self.assertNotIn(b"%", p.stderr)
        # -q on a terminal
        with RawServer(send_raw(response(self.BIG))) as srv:
            rc, term, out = self.run_pty(["-q", "-o", "big.bin", srv.url("/big.bin")],
                                         stderr_tty=True)
        self.assertEqual(rc, 0)
        self.assertEqual(term, b"")
        # a small body on a terminal
        with RawServer(send_raw(response(PNG))) as srv:
            rc, term, out = self.run_pty(["-o", "small.bin", srv.url("/")], stderr_tty=True)
        self.assertEqual(rc, 0)
        self.assertNotIn(b"%", term)
        self.assertIn(b"saved %d bytes to small.bin" % len(PNG), term)


# --- against pyserved -------------------------------------------------------------

@unittest.skipUnless(os.environ.get("PYSERVED"), "PYSERVED is not set")
class TestPyserved(ClientCase):
    @classmethod
    def setUpClass(cls):
        cls.content = rand_bytes(300000, seed=13)
        cls.srv = h.Server(ipv6=ipv6_ok(), files={
            "hello.txt": HELLO,
            "img.png": PNG,
            "big.bin": cls.content,
            "sub/index.html": b"<p>sub</p>\n",
        }).start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.srv.port, path)

    def test_text(self):
        p = self.run_ok([self.url("/hello.txt")])
        self.assertEqual(p.stdout, HELLO)
        self.assertRegex(p.stderr.decode(), r"^HTTP/1\.1 200 OK\n(?s:.*)Server: pyserve\n")

    def test_image_with_suffix(self):
        self.write("img.png", b"existing")
        self.run_ok(["127.0.0.1", str(self.srv.port), "/img.png"])
        self.assertEqual(self.read("img.png"), b"existing")
        self.assertEqual(self.read("img(1).png"), PNG)

    def test_output_head_fail_location(self):
        self.run_ok(["-o", "b.bin", self.url("/big.bin")])
        self.assertEqual(sha(self.read("b.bin")), sha(self.content))
        p = self.run_ok(["-I", self.url("/big.bin")])
        self.assertIn(b"Content-Length: 300000\n", p.stdout)
        self.run_fail(["-f", self.url("/nope")], 22, r"HTTP error 404")
        p = self.run_ok(["-L", self.url("/sub")])
        self.assertEqual(p.stdout, b"<p>sub</p>\n")

    @unittest.skipUnless(ipv6_ok(), "no IPv6 loopback")
    def test_ipv6(self):
        p = self.run_ok(["http://[::1]:%d/hello.txt" % self.srv.port6])
        self.assertEqual(p.stdout, HELLO)

    def ranges_supported(self):
        p = run(["-r", "0-0", "-o", "-", self.url("/big.bin")], self.cwd)
        if not p.stderr.startswith(b"HTTP/1.1 206"):
            self.skipTest("pyserved answers %r to a Range request (no range support yet)"
                          % p.stderr.split(b"\n")[0].decode(errors="replace"))

    def test_range(self):
        self.ranges_supported()
        p = self.run_ok(["-r", "100-199", "-o", "-", self.url("/big.bin")])
        self.assertEqual(p.stdout, self.content[100:200])

    def test_continue(self):
        self.ranges_supported()
        self.write("big.bin", self.content[:77777])
        self.run_ok(["-C", self.url("/big.bin")])
        self.assertEqual(sha(self.read("big.bin")), sha(self.content))
        p = self.run_ok(["-C", self.url("/big.bin")])
        self.assertIn(b"already complete", p.stderr)


# --- documentation --------------------------------------------------------------

class TestDocs(unittest.TestCase):
    MAN = os.path.join(TOP_SRCDIR, "man", "pyserve-client.1")

    @staticmethod
    def plain(text):
        text = re.sub(r"\\f(\[[^\]]*\]|\(..|.)", "", text)
        for esc, p in ((r"\-", "-"), (r"\(dq", '"'), (r"\&", ""), (r"\e", "\\")):
            text = text.replace(esc, p)
        return text

    def section(self, name):
        text = read_text(self.MAN)
        m = re.search(r"^\.SH %s\n(.*?)(?=^\.SH )" % re.escape(name), text, re.M | re.S)
        self.assertIsNotNone(m, "no %s section" % name)
        return m.group(1)

    def help_text(self):
        p = subprocess.run([CLIENT, "--help"], capture_output=True, timeout=RUN_TIMEOUT)
        self.assertEqual(p.returncode, 0)
        return p.stdout.decode()

    def test_options_match_help(self):
        """Every option line of --help is an OPTIONS entry of the man page,
        spelled the same way, and the reverse."""
        help_specs = set()
        for line in self.help_text().splitlines():
            m = re.match(r"^ {2,6}((?:-\w, )?--[a-z0-9-]+(?:=[A-Z]+)?)", line)
            if m:
                help_specs.add(m.group(1))
        self.assertGreaterEqual(len(help_specs), 16)
        lines = self.section("OPTIONS").splitlines()
        man_specs = set()
        for i, line in enumerate(lines):
            if line.startswith(".TP") and i + 1 < len(lines):
                tag = lines[i + 1]
                args = re.findall(r'"((?:[^"])*)"|(\S+)', tag)
                words = [q if q else u for q, u in args][1:]
                man_specs.add(self.plain("".join(words)))
        self.assertEqual(man_specs, help_specs)

    def test_exit_codes_documented(self):
        header = read_text(os.path.join(TOP_SRCDIR, "src", "client", "exitcode.h"))
        codes = sorted(set(int(v) for v in re.findall(r"PSC_EXIT_\w+ = (\d+),", header)))
        self.assertGreaterEqual(len(codes), 12)
        man_codes = [int(c) for c in re.findall(r"^\.TP\n\.B (\d+)$", self.section("EXIT STATUS"),
                                                 re.M)]
        self.assertEqual(man_codes, codes)
        help_text = " ".join(self.help_text().split())
        for c in codes:
            self.assertRegex(help_text, r"[:,] %d [a-zA-Z]" % c)

    def test_version_and_rendering(self):
        text = read_text(self.MAN)
        version = h.package_version()
        m = re.search(r'^\.TH\s.*"pyserve ([0-9][0-9.]*)"', text, re.M)
        self.assertIsNotNone(m)
        if version:
            self.assertEqual(m.group(1), version)
        groff = shutil.which("groff")
        if not groff:
            self.skipTest("groff is not installed")
        p = subprocess.run([groff, "-ww", "-z", "-man", self.MAN], capture_output=True,
                           timeout=RUN_TIMEOUT)
        self.assertEqual((p.returncode, p.stderr), (0, b""))


def main():
    if not os.access(CLIENT, os.X_OK):
        sys.stderr.write("%s is not built: skipping\n" % CLIENT)
        sys.exit(77)
    unittest.main(verbosity=2)


if __name__ == "__main__":
    main()
