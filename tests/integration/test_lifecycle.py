#!/usr/bin/env python3
"""pyserved lifecycle: command line, --check-config, startup, SIGHUP reload, SIGTERM stop."""

import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import sys
import unittest

sys.dont_write_bytecode = True  # keep the source tree clean
import pyserve_harness as h  # noqa: E402

HELLO = b"Hello, world!\n"
VERSION = h.package_version()


class TempDirCase(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="pyserve-test-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.root = os.path.join(self.tmp, "root")
        os.mkdir(self.root)

    def write(self, name, text):
        p = os.path.join(self.tmp, name)
        with open(p, "w", encoding="utf-8") as f:
            f.write(text)
        return p


class CommandLineTest(TempDirCase):
    def test_help_lists_every_option(self):
        p = h.run_pyserved(["--help"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(p.stdout.startswith("Usage: pyserved"), p.stdout[:200])
        for opt in ("-c", "--config", "-l", "--listen", "-r", "--root", "--threads", "-o",
                    "--set", "-t", "--check-config", "-h", "--help", "-V", "--version"):
            with self.subTest(option=opt):
                self.assertRegex(p.stdout, r"(^|[\s,])%s\b" % re.escape(opt))
        p2 = h.run_pyserved(["-h"])
        self.assertEqual((p2.returncode, p2.stdout), (0, p.stdout))

    def test_help_and_version_not_written(self):
        # a full disk or a reader gone away is an error with its reason, not
        # a silent success or death by SIGPIPE
        for arg, what in (("--help", "help"), ("--version", "version")):
            for how, reason in (("pipe", "Broken pipe"), ("full", "No space left on device")):
                with self.subTest(arg=arg, stdout=how):
                    p = h.run_unwritable([h.pyserved_path(), arg], how)
                    self.assertEqual(p.returncode, 1, p.stderr)
                    self.assertIn("pyserved: cannot write the %s to standard output: %s"
                                  % (what, reason), p.stderr)

    def test_version(self):
        for arg in ("--version", "-V"):
            with self.subTest(arg=arg):
                p = h.run_pyserved([arg])
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertIn("pyserve", p.stdout)
                if VERSION:
                    self.assertIn(VERSION, p.stdout)
                else:
                    self.assertRegex(p.stdout, r"\d+\.\d+")

    def test_bad_command_line(self):
        cases = [(["--bogus"], "bogus"), (["-Z"], "Z"), (["--frobnicate=1"], "frobnicate"),
                 (["-c"], "c"), (["--config"], "config"), (["--threads"], "threads"),
                 (["--listen"], "listen"), (["-o"], "o"), (["-c", ""], "--config: empty file name")]
        for args, named in cases:
            with self.subTest(args=args):
                p = h.run_pyserved(args)
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertIn(named, p.stderr)
                self.assertEqual(p.stdout, "")

    def test_value_for_an_option_that_takes_none(self):
        for arg, named in (("--check-config=yes", "--check-config"), ("--help=x", "--help"),
                           ("--vers=1", "--vers")):
            with self.subTest(arg=arg):
                p = h.run_pyserved([arg])
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertIn("option %s takes no value" % named, p.stderr)
                self.assertEqual(p.stdout, "")


GOOD_CONFIG = """\
# every key, in several spellings
root = {root}

listen = 127.0.0.1:8080
listen=[::1]:8080
listen = 8081
threads=2
index = index.html index.htm
access_log = yes
dotfiles = deny
max_head_size = 16k
max_uri_length = 4096
max_headers = 100
max_connections = 16384
header_timeout = 500ms
keepalive_timeout = 2m
send_timeout = 30
shutdown_timeout = 1h
"""

# (case, bad line, key named in the error; None: syntax error). The bad line
# is line 5 of the file.
BAD_LINES = [
    ("unknown key", "frobnicate = 1", "frobnicate"),
    ("not a number", "threads = abc", "threads"),
    ("threads too big", "threads = 1025", "threads"),
    ("negative", "max_headers = -1", "max_headers"),
    ("max_headers zero", "max_headers = 0", "max_headers"),
    ("max_headers too big", "max_headers = 10001", "max_headers"),
    ("max_connections zero", "max_connections = 0", "max_connections"),
    ("head size too small", "max_head_size = 512", "max_head_size"),
    ("head size too big", "max_head_size = 2m", "max_head_size"),
    ("bad size suffix", "max_head_size = 8q", "max_head_size"),
    ("uri too small", "max_uri_length = 100", "max_uri_length"),
    ("header_timeout too small", "header_timeout = 50ms", "header_timeout"),
    ("header_timeout too big", "header_timeout = 2h", "header_timeout"),
    ("bad duration unit", "keepalive_timeout = 10x", "keepalive_timeout"),
    ("keepalive too big", "keepalive_timeout = 61m", "keepalive_timeout"),
    ("send_timeout too small", "send_timeout = 99ms", "send_timeout"),
    ("shutdown_timeout words", "shutdown_timeout = soon", "shutdown_timeout"),
    ("dotfiles bad", "dotfiles = maybe", "dotfiles"),
    ("access_log bad", "access_log = perhaps", "access_log"),
    ("syntax error", "just some words", None),
]


class CheckConfigTest(TempDirCase):
    def test_good_file(self):
        conf = self.write("good.conf", GOOD_CONFIG.format(root=self.root))
        p = h.run_pyserved(["-c", conf, "--check-config"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("pyserved: configuration %s is valid" % conf, p.stderr)
        p = h.run_pyserved(["-t", "-c", conf])
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_bad_files(self):
        for case, line, key in BAD_LINES:
            with self.subTest(case=case):
                conf = self.write("bad.conf", "# line 1\n\nroot = %s\nthreads = 2\n%s\n"
                                  "index = index.html\n" % (self.root, line))
                p = h.run_pyserved(["-c", conf, "--check-config"])
                self.assertEqual(p.returncode, 1, p.stderr)
                if key is None:
                    self.assertIn("%s:5: syntax error" % conf, p.stderr)
                else:
                    self.assertIn("%s:5: %s:" % (conf, key), p.stderr)
                self.assertNotIn("is valid", p.stderr)

    def test_cross_key_errors(self):
        conf = self.write("nr.conf", "threads = 1\n")
        p = h.run_pyserved(["-c", conf, "--check-config"])
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertRegex(p.stderr, re.escape(conf) + r": root: not set")
        # root from the command line completes it.
        p = h.run_pyserved(["-c", conf, "--check-config", "-r", self.root])
        self.assertEqual(p.returncode, 0, p.stderr)
        p = h.run_pyserved(["-c", conf, "--check-config", "-o", "root=" + self.root])
        self.assertEqual(p.returncode, 0, p.stderr)
        conf = self.write("uri.conf", "root = %s\nmax_head_size = 1k\nmax_uri_length = 1k\n"
                          % self.root)
        p = h.run_pyserved(["-c", conf, "--check-config"])
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertRegex(p.stderr, re.escape(conf) + r": (max_uri_length|max_head_size):")
        # a check across keys that fails on a value from the command line
        # names both places
        conf = self.write("ok.conf", "root = %s\n" % self.root)
        p = h.run_pyserved(["-c", conf, "--check-config", "-o", "max_uri_length=16k"])
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("%s and command line: max_uri_length:" % conf, p.stderr)

    def test_bad_override_value(self):
        conf = self.write("ok.conf", "root = %s\n" % self.root)
        # A bad value given on the command line is a command-line error
        # (exit 2, as for unknown options), named "command line: KEY:".
        for args, key in ((["-o", "threads=abc"], "threads"),
                          (["--set", "frobnicate=1"], "frobnicate"),
                          (["--threads=abc"], "threads")):
            with self.subTest(args=args):
                p = h.run_pyserved(["-c", conf, "--check-config"] + args)
                self.assertIn("command line: %s:" % key, p.stderr)
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertNotIn("is valid", p.stderr)

    def test_set_takes_the_file_syntax(self):
        # --set KEY=VALUE takes a line as the file does: blanks around '=',
        # and "KEY ARG = VALUE" for the keys that take an argument.
        conf = self.write("ok.conf", "root = %s\n" % self.root)
        for setting in ("threads = 2", "threads= 2", " threads =2 ", "type .log = text/plain",
                        "type = .log text/plain", "cache_control /a/ = no-store"):
            with self.subTest(setting=setting):
                p = h.run_pyserved(["-c", conf, "--check-config", "-o", setting])
                self.assertEqual(p.returncode, 0, p.stderr)
        for setting, why in (("threads 2 = 1", 'threads: unexpected "2" before'),
                             ("= 2", "missing key before '='"), ("nokey = 1", "nokey: unknown key"),
                             ("threads = x" * 400, "longer than 4096 bytes")):
            with self.subTest(setting=setting[:40]):
                p = h.run_pyserved(["-c", conf, "--check-config", "-o", setting])
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertIn("command line: ", p.stderr)
                self.assertIn(why, p.stderr)

    def test_missing_config_file(self):
        missing = os.path.join(self.tmp, "nope", "pyserve.conf")
        for extra in (["--check-config"], ["-r", self.root, "-l", "127.0.0.1:0"]):
            with self.subTest(args=extra):
                p = h.run_pyserved(["-c", missing] + extra)
                self.assertEqual(p.returncode, 1, p.stderr)
                self.assertIn("%s: No such file or directory" % missing, p.stderr)

    def test_config_not_a_regular_file(self):
        # A FIFO with no writer must not hang the start (or a reload) in
        # open(2) or read(2); a directory is named as such.
        fifo = os.path.join(self.tmp, "fifo.conf")
        os.mkfifo(fifo)
        for path, why in ((fifo, "a FIFO with no writer for 5 s"),
                          (self.tmp, "not a regular file (a directory)")):
            with self.subTest(why=why):
                p = h.run_pyserved(["-c", path, "--check-config"], timeout=30.0)
                self.assertEqual(p.returncode, 1, p.stderr)
                self.assertIn("%s: %s" % (path, why), p.stderr)
        p = h.run_pyserved(["-c", "/dev/null", "--check-config", "-r", self.root])
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_config_pipe_that_gives_nothing(self):
        # -c <(...) read again on a reload: the pipe is spent; that is an
        # error, not the built-in defaults
        p = subprocess.run([h.pyserved_path(), "-c", "/dev/stdin", "--check-config", "-r",
                            self.root], input="", text=True, capture_output=True,
                           timeout=30, env=h.child_env_clean())
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("/dev/stdin: a pipe that gave nothing", p.stderr)

    def test_config_pipe_that_never_ends(self):
        # A writer that trickles a comment line now and then must not keep
        # the start (or a reload, on the main thread) reading for ever: the
        # whole read has 5 s.
        fifo = os.path.join(self.tmp, "trickle.conf")
        os.mkfifo(fifo)
        stop = threading.Event()

        def trickle():
            try:
                with open(fifo, "w") as w:  # waits for pyserved to open it
                    w.write("root = %s\n" % self.root)
                    w.flush()
                    while not stop.wait(0.3):
                        w.write("# more\n")
                        w.flush()
            except OSError:  # the reader went away
                pass
        t = threading.Thread(target=trickle, daemon=True)
        t.start()
        try:
            t0 = time.monotonic()
            p = h.run_pyserved(["-c", fifo, "--check-config"], timeout=30.0)
            elapsed = time.monotonic() - t0
        finally:
            stop.set()
            os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))  # frees a writer in open()
            t.join(5)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("%s: not read to its end within 5 s" % fifo, p.stderr)
        self.assertLess(elapsed, 15.0)

    def test_config_from_a_pipe(self):
        # -c /dev/stdin (a here-document, or a pipe) and -c <(...): read to
        # its end
        argv = [h.pyserved_path(), "-c", "/dev/stdin", "--check-config"]
        p = subprocess.run(argv, input="root = %s\nthreads = 1\n" % self.root, text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30,
                           env=h.child_env_clean())
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("configuration /dev/stdin is valid", p.stderr)
        p = subprocess.run(argv, input="root = %s\nthreads = x\n" % self.root, text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30,
                           env=h.child_env_clean())
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("/dev/stdin:2: threads:", p.stderr)


class StartupTest(unittest.TestCase):
    def test_bad_root(self):
        for kind in ("missing", "regular file"):
            with self.subTest(root=kind):
                srv = h.Server()
                self.addCleanup(srv.close)
                if kind == "missing":
                    root = os.path.join(srv.base, "no-such-root")
                else:
                    root = os.path.join(srv.base, "a-file")
                    with open(root, "w") as f:
                        f.write("x")
                srv.write_config({"root": root})
                srv.start(wait_ready=False)
                self.assertEqual(srv.wait_exit(10.0), 1, srv.stderr_text())
                self.assertIn(root, srv.stderr_text())
                self.assertNotIn("READY=1", "\n".join(srv.notifications()))

    def check_serves(self, srv, addr, family=socket.AF_INET, host="x"):
        c = h.connect(addr, family=family)
        self.addCleanup(c.close)
        h.request(c, h.build_request("GET", "/hello.txt", host=host))
        r = h.read_response(c)
        self.assertEqual((r.status, r.body), (200, HELLO))

    def test_standalone_listen_ipv4(self):
        with h.Server(config={"threads": 1}, activation=False,
                      args=["--listen", "127.0.0.1:0"]) as srv:
            srv.write_file("hello.txt", HELLO)
            port = srv.port_from_log()
            self.assertNotEqual(port, 0)
            self.check_serves(srv, ("127.0.0.1", port))
            v = re.escape(VERSION) if VERSION else r"\S+"
            srv.wait_for_log(r"pyserved %s serving %s with 1 threads?" % (v, re.escape(srv.root)))
            self.assertEqual(srv.stop(), 0)

    def test_defer_accept(self):
        """On a socket it binds itself, pyserved gets a connection only once
        the request has arrived (defer_accept), a silent one later anyway
        (then header_timeout closes it); defer_accept = 0 gets it at once."""
        for defer in ("0", "2s"):
            with self.subTest(defer_accept=defer):
                cfg = {"threads": 1, "defer_accept": defer, "header_timeout": "1s"}
                # no notify socket: its messages would open sockets of
                # their own now and then and blur the count
                with h.Server(config=cfg, activation=False, notify=False,
                              args=["--listen", "127.0.0.1:0"]) as srv:
                    srv.write_file("hello.txt", HELLO)
                    addr = ("127.0.0.1", srv.port_from_log())
                    base = h.socket_count(srv.pid)
                    silent = h.connect(addr)
                    self.addCleanup(silent.close)
                    if defer == "0":
                        self.assertTrue(h.poll_until(
                            lambda: h.socket_count(srv.pid) > base, 5.0))
                    else:
                        # not handed over while it says nothing (a window)
                        self.assertFalse(h.poll_until(
                            lambda: h.socket_count(srv.pid) > base, 0.5))
                        # a request after a pause is served
                        late = h.connect(addr)
                        self.addCleanup(late.close)
                        self.assertFalse(h.poll_until(
                            lambda: h.socket_count(srv.pid) > base, 0.3))
                        h.request(late, h.build_request("GET", "/hello.txt"))
                        self.assertEqual(h.read_response(late).body, HELLO)
                    # the silent one is handed over in the end, and timed out
                    self.assertEqual(h.wait_closed(silent, 10.0), b"")
                    self.assertEqual(srv.stop(), 0)

    def test_standalone_listen_ipv6(self):
        if not h.ipv6_loopback_works():
            self.skipTest("IPv6 loopback (::1) is not usable here")
        with h.Server(config={"threads": 1}, activation=False,
                      args=["--listen", "[::1]:0"]) as srv:
            srv.write_file("hello.txt", HELLO)
            port = srv.port_from_log(r"\[::1\]")
            self.check_serves(srv, ("::1", port), socket.AF_INET6, "[::1]")
            self.assertEqual(srv.stop(), 0)

    def test_listen_from_config(self):
        with h.Server(config={"threads": 1, "listen": ["127.0.0.1:0"]},
                      activation=False) as srv:
            srv.write_file("hello.txt", HELLO)
            self.check_serves(srv, ("127.0.0.1", srv.port_from_log()))

    def test_listen_option_replaces_config(self):
        # 192.0.2.1 (TEST-NET-1) is not a local address: binding it fails.
        with h.Server(config={"threads": 1, "listen": ["192.0.2.1:80"]}, activation=False,
                      args=["-l", "127.0.0.1:0"]) as srv:
            srv.write_file("hello.txt", HELLO)
            self.check_serves(srv, ("127.0.0.1", srv.port_from_log()))

    def test_activation_ignores_config_listen(self):
        with h.Server(config={"threads": 1, "listen": ["192.0.2.1:80"]}) as srv:
            srv.write_file("hello.txt", HELLO)
            self.check_serves(srv, ("127.0.0.1", srv.port))

    def test_bind_failure(self):
        holder = socket.socket()
        self.addCleanup(holder.close)
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        srv = h.Server(activation=False, args=["--listen", "127.0.0.1:%d" % port])
        self.addCleanup(srv.close)
        srv.start(wait_ready=False)
        self.assertEqual(srv.wait_exit(10.0), 1, srv.stderr_text())
        self.assertIn(str(port), srv.stderr_text())

    def test_command_line_overrides(self):
        srv = h.Server(config={"root": "/nonexistent/pyserve-root", "dotfiles": "deny"})
        self.addCleanup(srv.close)
        srv.args = ["-r", srv.root, "-o", "dotfiles=allow", "--threads=1"]
        srv.write_file(".env", b"dot\n")
        srv.start()
        r = srv.get("/.env")
        self.assertEqual((r.status, r.body), (200, b"dot\n"))
        srv.wait_for_log(r"serving %s with 1 threads?" % re.escape(srv.root))

    def test_threads(self):
        for n in (1, 4):
            with self.subTest(threads=n):
                with h.Server(config={"threads": n}) as srv:
                    srv.write_file("hello.txt", HELLO)
                    srv.wait_for_log(r"serving .* with %d threads?\b" % n)
                    conns = [srv.connect() for _ in range(8)]
                    try:
                        for c in conns:
                            h.request(c, h.build_request("GET", "/hello.txt") * 3)
                        for c in conns:
                            for _ in range(3):
                                r = h.read_response(c)
                                self.assertEqual((r.status, r.body), (200, HELLO))
                    finally:
                        for c in conns:
                            c.close()
                    self.assertEqual(srv.stop(), 0)

    def test_many_listening_sockets(self):
        # systemd passes as many sockets as the units list: the epoll loop
        # tells their events apart from its own (control, file cache) at
        # any count; 1,100 reach past the number the file cache's had
        import resource
        n = 1100
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < 4 * n:
            if hard != resource.RLIM_INFINITY and hard < 4 * n:
                self.skipTest("RLIMIT_NOFILE hard limit %d is below %d" % (hard, 4 * n))
            resource.setrlimit(resource.RLIMIT_NOFILE, (4 * n, hard))
            self.addCleanup(resource.setrlimit, resource.RLIMIT_NOFILE, (soft, hard))
        with h.Server(config={"threads": 1, "io_uring": "no"}, extra_listeners=n) as srv:
            srv.write_file("hello.txt", HELLO)
            for i in (0, 1019, 1020, 1021, 1022, n - 1):
                with self.subTest(listener=i + 1):
                    c = h.connect(("127.0.0.1", srv.extra_ports[i]), h.DEFAULT_TIMEOUT)
                    try:
                        h.request(c, h.build_request("GET", "/hello.txt"))
                        r = h.read_response(c)
                        self.assertEqual((r.status, r.body), (200, HELLO))
                    finally:
                        c.close()

    def test_access_log(self):
        with h.Server(config={"threads": 1, "access_log": "yes"}) as srv:
            srv.write_file("hello.txt", HELLO)
            mark = srv.log_mark()
            srv.get("/hello.txt")
            srv.get("/missing")
            c = srv.connect()
            h.request(c, h.build_request("GET", "/hello.txt", headers=[
                ("Referer", "http://ref.example/p?q=1"),
                ("User-Agent", "Mozilla/5.0 \"quoted\" \\ \u00e9t\u00e9")]))
            self.assertEqual(h.read_response(c).status, 200)
            c.close()
            srv.wait_for_log(r"127\.0\.0\.1\S* \"GET /hello\.txt HTTP/1\.1\" 200 \d+ \d+us "
                             r"\"-\" \"-\"$", since=mark)
            srv.wait_for_log(r"\"GET /missing HTTP/1\.1\" 404 \d+ \d+us \"-\" \"-\"$",
                             since=mark)
            # Referer and User-Agent as nginx's combined format has them,
            # with what could end the quoted part or the line escaped
            srv.wait_for_log(r"\"GET /hello\.txt HTTP/1\.1\" 200 \d+ \d+us "
                             r"\"http://ref\.example/p\?q=1\" "
                             r"\"Mozilla/5\.0 \\x22quoted\\x22 \\x5c \\xc3\\xa9t\\xc3\\xa9\"$",
                             since=mark)
            # A client that resets its connection mid-response is logged
            # with its address too, which the socket no longer has by then.
            srv.write_file("big.bin", b"x" * (8 * 1024 * 1024))
            c = srv.connect(rcvbuf=65536)
            h.request(c, h.build_request("GET", "/big.bin"))
            self.assertTrue(c.read_head().startswith(b"HTTP/1.1 200 "))
            c.abort()
            srv.wait_for_log(r"^.*127\.0\.0\.1\S* \"GET /big\.bin HTTP/1\.1\" 200 \d+ \d+us",
                             since=mark)


# Run the rest of argv with io_uring_setup(2) refused (EPERM) by a seccomp
# filter, as a container's or a unit's filter may: x86_64 only.
SECCOMP_NO_URING = r"""
import ctypes, os, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
ALLOW, EPERM = 0x7fff0000, 0x00050000 | 1
prog = [(0x20, 0, 0, 4), (0x15, 1, 0, 0xc000003e), (0x06, 0, 0, ALLOW),  # arch
        (0x20, 0, 0, 0), (0x15, 0, 1, 425), (0x06, 0, 0, EPERM), (0x06, 0, 0, ALLOW)]
buf = ctypes.create_string_buffer(b"".join(struct.pack("HBBI", *i) for i in prog))
fprog = struct.pack("HxxxxxxP", len(prog), ctypes.addressof(buf))
fbuf = ctypes.create_string_buffer(fprog)
if libc.prctl(38, 1, 0, 0, 0) or libc.prctl(22, 2, fbuf, 0, 0):
    sys.exit("seccomp: %s" % os.strerror(ctypes.get_errno()))
os.execv(sys.argv[1], sys.argv[1:])
"""


class EngineTest(unittest.TestCase):
    """The workers' event loop: io_uring by default where the kernel allows
    it, epoll with io_uring = no, and epoll, said why, when io_uring is
    refused."""

    def _served(self, srv):
        srv.write_file("hello.txt", HELLO)
        conn = srv.connect()
        try:
            h.request(conn, h.build_request("GET", "/hello.txt") * 3)
            for _ in range(3):
                r = h.read_response(conn)
                self.assertEqual((r.status, r.body), (200, HELLO))
        finally:
            conn.close()

    def test_default_is_io_uring_where_allowed(self):
        if h.engine_args({}, []):
            self.skipTest("the harness sets io_uring for this run (valgrind, or "
                          "PYSERVE_TEST_IO_URING)")
        try:
            with open("/proc/sys/kernel/io_uring_disabled") as f:
                allowed = f.read().strip() == "0"
        except FileNotFoundError:
            allowed = True  # before Linux 6.6 there is no switch
        with h.Server(config={"threads": 2}) as srv:
            self._served(srv)
            m = srv.wait_for_log(r"serving .* with 2 threads \((io_uring|epoll)\)")
            if m.group(1) == "epoll":
                self.assertFalse(allowed, "io_uring is allowed, yet the workers use epoll:\n"
                                 + srv.stderr_text())
                self.assertRegex(srv.stderr_text(), r"io_uring: .*; the workers use epoll")
            else:
                self.assertNotIn("use epoll", srv.stderr_text())

    def test_io_uring_no(self):
        with h.Server(config={"threads": 1, "io_uring": "no"}) as srv:
            self._served(srv)
            srv.wait_for_log(r"serving .* with 1 thread \(epoll\)")
            self.assertNotIn("io_uring", srv.stderr_text())

    def test_refused_io_uring_falls_back_to_epoll(self):
        if os.uname().machine != "x86_64":
            self.skipTest("the seccomp filter here is for x86_64")
        wrapper = [sys.executable, "-c", SECCOMP_NO_URING]
        with h.Server(config={"threads": 1, "io_uring": "yes"}, wrapper=wrapper) as srv:
            self._served(srv)
            srv.wait_for_log(r"serving .* with 1 thread \(epoll\)")
            srv.wait_for_log(r"io_uring: io_uring_setup: Operation not permitted; "
                             r"the workers use epoll")
            self.assertEqual(srv.stop(), 0)


class ReloadTest(unittest.TestCase):
    A = b"index A\n"
    B = b"home B\n"

    def make_server(self, config, args=()):
        srv = h.Server(config=config, args=args)
        self.addCleanup(srv.close)
        srv.write_file("d/index.html", self.A)
        srv.write_file("d/home.html", self.B)
        srv.write_file(".env", b"dot\n")
        srv.write_file("hello.txt", HELLO)
        return srv.start()

    def reload(self, srv):
        srv.reload()
        msg = srv.wait_notify("RELOADING=1", 5.0)
        self.assertRegex(msg, r"(^|\n)MONOTONIC_USEC=\d+(\n|$)")
        srv.wait_notify("READY=1", 5.0)

    def test_reload_applies_new_config(self):
        srv = self.make_server({"index": "index.html", "threads": 2})
        self.assertEqual(srv.get("/d/").body, self.A)
        self.assertEqual(srv.get("/.env").status, 403)
        srv.write_config({"index": "home.html", "dotfiles": "allow", "threads": 2})
        self.reload(srv)
        r = srv.get("/d/")
        self.assertEqual((r.status, r.body), (200, self.B))
        r = srv.get("/.env")
        self.assertEqual((r.status, r.body), (200, b"dot\n"))

    def test_restart_keys_compared_with_what_runs(self):
        # each reload says whether the file's value differs from the running
        # one, not from the previous file's
        srv = self.make_server({"threads": 2})
        notice = "threads: changes take effect after a restart"
        for threads, expect in ((3, True), (3, True), (2, False)):
            with self.subTest(threads=threads):
                mark = srv.log_mark()
                srv.write_config({"threads": threads})
                self.reload(srv)
                srv.wait_for_log(r"configuration reloaded from", since=mark)
                self.assertEqual(notice in srv.stderr_text()[mark:], expect,
                                 srv.stderr_text()[mark:])

    def test_reload_keeps_command_line_overrides(self):
        srv = self.make_server({"threads": 1}, args=["-o", "index=home.html"])
        self.assertEqual(srv.get("/d/").body, self.B)
        srv.write_config({"threads": 1, "index": "index.html", "dotfiles": "allow"})
        self.reload(srv)
        self.assertEqual(srv.get("/.env").status, 200)  # the file's change is in
        self.assertEqual(srv.get("/d/").body, self.B)  # the override still wins

    def test_reload_bad_file_keeps_old_config(self):
        srv = self.make_server({"index": "index.html", "threads": 1})
        srv.write_config_text("root = %s\nindex = home.html\ndotfiles = allow\n"
                              "threads = abc\n" % srv.root)
        mark = srv.log_mark()
        self.reload(srv)
        srv.wait_for_log(re.escape(srv.conf_path) + r":4: threads:", since=mark)
        self.assertTrue(srv.alive())
        # Nothing of the bad file is in effect, not even its good lines.
        self.assertEqual(srv.get("/d/").body, self.A)
        self.assertEqual(srv.get("/.env").status, 403)
        # A good file afterwards is taken.
        srv.write_config({"index": "home.html", "threads": 1})
        self.reload(srv)
        self.assertEqual(srv.get("/d/").body, self.B)

    def test_requests_during_reloads_do_not_fail(self):
        srv = self.make_server({"index": "index.html", "threads": 2})
        stop = threading.Event()
        failures = []
        counts = [0, 0]

        def new_connections():
            deadline = time.monotonic() + 30
            while not stop.is_set() and time.monotonic() < deadline and counts[0] < 100000:
                try:
                    r = srv.get("/d/")
                    if r.status != 200 or r.body not in (self.A, self.B):
                        failures.append(("new", r))
                except Exception as e:  # any failure is a test failure
                    failures.append(("new", repr(e)))
                counts[0] += 1

        def one_connection():
            deadline = time.monotonic() + 30
            try:
                c = srv.connect()
            except OSError as e:
                failures.append(("keep-alive connect", repr(e)))
                return
            try:
                while not stop.is_set() and time.monotonic() < deadline and counts[1] < 100000:
                    h.request(c, h.build_request("GET", "/hello.txt"))
                    r = h.read_response(c)
                    if r.status != 200 or r.body != HELLO:
                        failures.append(("keep-alive", r))
                        return
                    counts[1] += 1
            except Exception as e:
                failures.append(("keep-alive", repr(e)))
            finally:
                c.close()

        threads = [threading.Thread(target=new_connections),
                   threading.Thread(target=one_connection)]
        for t in threads:
            t.start()
        try:
            for i in range(6):
                before = list(counts)
                srv.write_config({"index": "home.html" if i % 2 == 0 else "index.html",
                                  "threads": 2})
                self.reload(srv)
                # both clients get requests in before the next reload (bounded)
                deadline = time.monotonic() + 10
                while (counts[0] <= before[0] or counts[1] <= before[1]) and not failures \
                        and time.monotonic() < deadline:
                    time.sleep(0.005)
        finally:
            stop.set()
            for t in threads:
                t.join(35)
        self.assertEqual(failures, [])
        self.assertGreater(counts[0], 5)
        self.assertGreater(counts[1], 5)
        self.assertTrue(srv.alive())


class ShutdownTest(unittest.TestCase):
    def test_sigterm_lets_a_slow_download_finish(self):
        size = 32 * 1024 * 1024
        data = os.urandom(size)
        with h.Server(config={"threads": 2, "shutdown_timeout": "10s"}) as srv:
            srv.write_file("big.bin", data)
            c = srv.connect(rcvbuf=65536, timeout=10.0)
            self.addCleanup(c.close)
            h.request(c, h.build_request("GET", "/big.bin"))
            head = c.read_head()
            self.assertIn(b" 200 ", head.split(b"\r\n")[0])
            got = bytearray(c.read_exact(min(len(c.buf), 1024 * 1024)))
            while len(got) < 1024 * 1024:
                chunk = c.sock.recv(16384)
                self.assertTrue(chunk)
                got += chunk
            srv.send_signal(signal.SIGTERM)
            srv.wait_notify("STOPPING=1", 5.0)
            self.assertTrue(srv.alive(), "exited with a response in flight")
            deadline = time.monotonic() + 30
            while len(got) < size and time.monotonic() < deadline:
                chunk = c.sock.recv(16384)
                if not chunk:
                    break
                got += chunk
            self.assertEqual(len(got), size)
            self.assertEqual(hashlib.sha256(got).digest(), hashlib.sha256(data).digest())
            self.assertEqual(h.wait_closed(c, 5.0), b"")
            self.assertEqual(srv.wait_exit(10.0), 0, srv.stderr_text())

    def test_sigterm_cuts_a_stalled_download_at_the_timeout(self):
        """A response still in flight when shutdown_timeout has passed is
        cut then, not at the worker's next idle wake-up (up to a second
        later): with 1100 ms, the connection is closed within 1.1-1.6 s."""
        with h.Server(config={"threads": 1, "shutdown_timeout": "1100ms"}) as srv:
            srv.write_file("big.bin", b"x" * (32 * 1024 * 1024))
            c = srv.connect(rcvbuf=4096, timeout=10.0)
            self.addCleanup(c.close)
            h.request(c, h.build_request("GET", "/big.bin"))
            self.assertIn(b" 200 ", c.read_head().split(b"\r\n")[0])
            port = c.sock.getsockname()[1]
            self.assertTrue(h.holds_connection(srv.pid, port))
            t0 = time.monotonic()
            srv.send_signal(signal.SIGTERM)  # and the client reads no more
            self.assertTrue(h.poll_until(lambda: not h.holds_connection(srv.pid, port), 10.0,
                                         0.01), "the stalled download was never cut")
            took = time.monotonic() - t0
            self.assertGreater(took, 1.05, "cut before shutdown_timeout")
            self.assertLess(took, 1.6, "cut %.2f s after the signal, not at the timeout" % took)
            self.assertEqual(srv.wait_exit(10.0), 0, srv.stderr_text())

    def test_sigterm_with_idle_connections_is_quick(self):
        # Idle connections do not hold the exit until shutdown_timeout (30 s):
        # the bound leaves room for an exit under memcheck on a busy machine
        with h.Server(config={"threads": 2, "shutdown_timeout": "30s"}) as srv:
            srv.write_file("hello.txt", HELLO)
            conns = [srv.connect() for _ in range(3)]
            for c in conns:
                self.addCleanup(c.close)
                h.request(c, h.build_request("GET", "/hello.txt"))
                self.assertEqual(h.read_response(c).body, HELLO)
            silent = srv.connect()  # connected, nothing sent
            self.addCleanup(silent.close)
            t0 = time.monotonic()
            srv.send_signal(signal.SIGTERM)
            self.assertEqual(srv.wait_exit(15.0), 0, srv.stderr_text())
            self.assertLess(time.monotonic() - t0, 10.0)
            self.assertIn("STOPPING=1", "\n".join(srv.notifications()).split("\n"))
            for i, c in enumerate(conns + [silent]):
                with self.subTest(conn=i):
                    self.assertEqual(h.wait_closed(c, 2.0), b"")

    def test_stop_answers_requests_already_sent(self):
        """systemctl restart: a connection the daemon took off the listen
        queue gets its response, whether its
        request was read yet or not; the others stay queued on the socket
        systemd holds, for the next process (here the test itself). Before,
        those accepted but not yet read were reset."""
        clients = []
        with h.Server(config={"threads": 2}, hold_listener=True) as srv:
            srv.write_file("hello.txt", HELLO)
            for _ in range(300):
                c = socket.create_connection((srv.host, srv.port), timeout=10.0)
                self.addCleanup(c.close)
                c.sendall(h.build_request("GET", "/hello.txt"))
                clients.append(c)
            srv.send_signal(signal.SIGTERM)
            self.assertEqual(srv.wait_exit(20.0), 0, srv.stderr_text())
            # the next process: answers what is still queued
            srv.listener.setblocking(False)
            queued = 0
            while True:
                try:
                    nc, _ = srv.listener.accept()
                except BlockingIOError:
                    break
                with nc:
                    nc.settimeout(10.0)
                    head = b""
                    while b"\r\n\r\n" not in head:
                        chunk = nc.recv(4096)
                        self.assertTrue(chunk, "a queued client closed before its request")
                        head += chunk
                    nc.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
                               b"Connection: close\r\n\r\nnext\n")
                queued += 1
        served = 0
        for i, c in enumerate(clients):
            data = b""
            try:
                while True:
                    chunk = c.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            except ConnectionResetError:
                self.fail("client %d was reset after %r (%d served, %d queued)"
                          % (i, data[:100], served, queued))
            self.assertTrue(data.startswith(b"HTTP/1.1 200 "), "client %d: %r" % (i, data[:200]))
            if data.endswith(HELLO):
                served += 1  # before the signal (kept alive, then closed idle) or after it
            else:
                self.assertTrue(data.endswith(b"\r\n\r\nnext\n"), "client %d: %r" % (i, data))
        self.assertEqual(served + queued, len(clients))
        self.assertGreater(served, 0)

    def test_sigint_exits_0(self):
        with h.Server(config={"threads": 1}) as srv:
            self.assertEqual(srv.stop(sig=signal.SIGINT, timeout=15.0), 0, srv.stderr_text())


class SecurityDefaultsTest(unittest.TestCase):
    """Server without a version unless server_tokens; giving up root after
    binding (user =, group =)."""

    def test_server_tokens(self):
        for tokens, want in ((None, "pyserve"), ("yes", "pyserve/" + VERSION)):
            with self.subTest(server_tokens=tokens):
                with h.Server(config={"threads": 1, "server_tokens": tokens},
                              files={"hello.txt": HELLO}) as srv:
                    ok = srv.get("/hello.txt")
                    self.assertEqual(ok.get("Server"), want)
                    missing = srv.get("/missing")
                    self.assertEqual(missing.status, 404)
                    self.assertEqual(missing.get("Server"), want)
                    self.assertIn(("<p>%s</p>" % want).encode(), missing.body)
                    if tokens is None:
                        self.assertNotIn(VERSION.encode(), missing.body)

    def test_unknown_user_or_group_is_a_config_error(self):
        for config, word in (({"user": "no-such-user-pyserve"}, "no-such-user-pyserve"),
                             ({"user": "nobody", "group": "no-such-group-pyserve"},
                              "no-such-group-pyserve"),
                             ({"group": "nogroup"}, "group")):
            with self.subTest(config=config):
                srv = h.Server(config=config, notify=False)
                self.addCleanup(srv.close)
                srv.write_config()
                r = h.run_pyserved(["-c", srv.conf_path, "--check-config"])
                self.assertEqual(r.returncode, 1, r.stderr)
                self.assertIn(word, r.stderr)
                srv.start(wait_ready=False)
                self.assertEqual(srv.wait_exit(10.0), 1, srv.stderr_text())
                self.assertIn(word, srv.stderr_text())

    def unprivileged_server(self, config):
        """A server whose files a user other than root may read. No notify
        socket: the dropped daemon could not write to the test's."""
        srv = h.Server(config=dict(config, threads=2), notify=False,
                       files={"hello.txt": HELLO, "secret.txt": b"root only\n"})
        self.addCleanup(srv.close)
        for d in (srv.base, srv.root):
            os.chmod(d, 0o755)
        os.chmod(srv.path("hello.txt"), 0o644)
        os.chmod(srv.path("secret.txt"), 0o600)
        srv.start(wait_ready=False)
        return srv

    @unittest.skipUnless(os.geteuid() == 0, "needs root (to give it up)")
    def test_root_drops_to_user(self):
        import pwd
        nobody = pwd.getpwnam("nobody")
        srv = self.unprivileged_server({"user": "nobody", "group": "nogroup"})
        srv.wait_for_log(r"running as user nobody \(uid %d, gid \d+\)" % nobody.pw_uid, 10.0)
        srv.wait_for_log(r"listening on ", 10.0)
        self.assertEqual(srv.get("/hello.txt").body, HELLO)
        # the files are opened as nobody: a root-only file is refused
        self.assertEqual(srv.get("/secret.txt").status, 403)
        tasks = os.listdir("/proc/%d/task" % srv.pid)
        self.assertGreaterEqual(len(tasks), 3)  # main thread and 2 workers
        for tid in tasks:
            with open("/proc/%d/task/%s/status" % (srv.pid, tid)) as f:
                st = dict(line.split(":", 1) for line in f if ":" in line)
            self.assertEqual(st["Uid"].split(), [str(nobody.pw_uid)] * 4, tid)
            self.assertNotIn("0", st["Gid"].split(), tid)
            self.assertNotIn("0", st["Groups"].split(), tid)
        self.assertEqual(srv.stop(timeout=10.0), 0, srv.stderr_text())

    @unittest.skipUnless(os.geteuid() == 0, "needs root (to give it up)")
    def test_search_only_directory(self):
        """A directory nobody may search but not read (mode 0711) has its
        redirect and its index file, not its listing; without search
        permission (0700), neither."""
        srv = self.unprivileged_server({"user": "nobody", "group": "nogroup", "autoindex": "yes"})
        for d, mode in (("priv", 0o711), ("privnoindex", 0o711), ("closed", 0o700)):
            os.mkdir(srv.path(d))
            if d != "privnoindex":
                with open(srv.path(d + "/index.html"), "wb") as f:
                    f.write(b"<p>priv</p>\n")
                os.chmod(srv.path(d + "/index.html"), 0o644)
            os.chmod(srv.path(d), mode)
        srv.wait_for_log(r"listening on ", 10.0)
        r = srv.get("/priv/")
        self.assertEqual((r.status, r.body), (200, b"<p>priv</p>\n"))
        r = srv.get("/priv")
        self.assertEqual((r.status, r.get("Location")), (301, "/priv/"))
        self.assertEqual(srv.get("/priv/index.html").status, 200)
        self.assertEqual(srv.get("/privnoindex/").status, 403)
        self.assertEqual(srv.get("/closed/").status, 403)
        self.assertEqual(srv.get("/closed/index.html").status, 403)
        self.assertEqual(srv.stop(timeout=10.0), 0, srv.stderr_text())

    @unittest.skipUnless(os.geteuid() == 0, "needs root (to give it up)")
    def test_root_path_the_user_cannot_search(self):
        """A root whose path the user may not search (a parent of mode 0700)
        is still served through the descriptor opened before the drop; the
        once-a-second look at the path cannot tell whether it was replaced,
        which is said once as a warning, not as a root that is gone."""
        srv = self.unprivileged_server({"user": "nobody", "group": "nogroup"})
        os.chmod(srv.base, 0o700)
        srv.wait_for_log(r"listening on ", 10.0)
        srv.wait_for_log(r"warning: document root %s: Permission denied; a replacement of "
                         r"it is not noticed" % re.escape(srv.root), 10.0)
        self.assertEqual(srv.get("/hello.txt").body, HELLO)
        self.assertNotIn("requests get 404", srv.stderr_text())
        self.assertEqual(srv.stop(timeout=10.0), 0, srv.stderr_text())

    @unittest.skipUnless(os.geteuid() == 0, "needs root")
    def test_root_without_user_warns(self):
        srv = self.unprivileged_server({})
        srv.wait_for_log(r"warning: running as root: set user =", 10.0)
        srv.wait_for_log(r"listening on ", 10.0)
        self.assertEqual(srv.get("/secret.txt").status, 200)
        self.assertEqual(srv.stop(timeout=10.0), 0, srv.stderr_text())


if __name__ == "__main__":
    h.main_with_skip()
