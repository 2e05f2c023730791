#!/usr/bin/env python3
"""pyserve-stress end to end: against the real pyserved (through the test
harness) and against small raw servers run here on 127.0.0.1 port 0 that
misbehave on purpose (stalls, bad framing, 404/500, changing bodies). The
counts are read from --json. Every run is short and bounded by -d, -n or
--once plus a subprocess timeout.

Environment: TOP_BUILDDIR (pyserve-stress is $TOP_BUILDDIR/pyserve-stress;
the test is skipped with status 77 when unset), PYSERVED for the tests
against the daemon, TOP_SRCDIR for the man page check."""

import hashlib
import json
import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.dont_write_bytecode = True  # keep the source tree clean
import pyserve_harness as h  # noqa: E402

RUN_TIMEOUT = 20.0  # seconds for any one pyserve-stress run
BODY_1K = bytes((i * 7 + 3) % 256 for i in range(1024))


def stress_path():
    top = os.environ.get("TOP_BUILDDIR")
    if not top:
        sys.stderr.write("TOP_BUILDDIR is not set: skipping\n")
        sys.exit(77)
    path = os.path.join(top, "pyserve-stress")
    if not os.access(path, os.X_OK):
        sys.stderr.write("%s is not an executable file\n" % path)
        sys.exit(99)
    return path


STRESS = stress_path()


def run_stress(args, timeout=RUN_TIMEOUT):
    return subprocess.run([STRESS] + list(args), stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, errors="replace", timeout=timeout)


def run_json(testcase, args, expect_status=0, timeout=RUN_TIMEOUT):
    """Run with --json; check the exit status; return the parsed result."""
    r = run_stress(list(args) + ["--json"], timeout=timeout)
    testcase.assertEqual(r.returncode, expect_status,
                         "exit %d for %r\nstdout:\n%s\nstderr:\n%s"
                         % (r.returncode, args, r.stdout, r.stderr))
    try:
        return json.loads(r.stdout)
    except ValueError:
        testcase.fail("not JSON for %r:\n%s\nstderr:\n%s" % (args, r.stdout, r.stderr))


# --- small raw servers ---------------------------------------------------------


class Reply:
    """Send data (after delay seconds: a stall, the behaviour under test),
    then close the connection if close is set."""

    def __init__(self, data, close=False, delay=0.0):
        self.data, self.close, self.delay = data, close, delay


class Hang:
    """Never answer; wait for the client to close the connection."""


class Custom:
    """Call fn(conn) to answer, then close the connection."""

    def __init__(self, fn):
        self.fn = fn


def response(status=200, body=b"", extra=b"", reason=b"X"):
    return (b"HTTP/1.1 %d %s\r\nContent-Length: %d\r\n%s\r\n"
            % (status, reason, len(body), extra)) + body


class FakeServer:
    """A threaded HTTP/1.1 server on 127.0.0.1:0. handler(srv, conn_no,
    req_no_on_conn, req_no_global, method, path) returns a Reply or Hang.
    Counters are under self.lock. Every wait is bounded; close() stops it."""

    def __init__(self, handler, backlog=256, max_accepts=None):
        self.handler = handler
        self.max_accepts = max_accepts  # then the listener is closed
        self.lock = threading.Lock()
        self.conns = 0
        self.requests = 0
        self.hang_closed_after = []  # seconds from a Hang to the client's close
        self.stop = threading.Event()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(backlog)
        self.port = self.sock.getsockname()[1]
        self.threads = []
        self.acceptor = threading.Thread(target=self._accept_loop, daemon=True)
        self.acceptor.start()

    def url(self, path="/"):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self):
        self.stop.set()
        self.sock.close()
        self.acceptor.join(timeout=5)
        for t in self.threads:
            t.join(timeout=5)

    def _before_accept(self):
        """Called before each wait for a connection (a subclass's hook)."""

    def _accept_loop(self):
        while not self.stop.is_set():
            self._before_accept()
            r, _, _ = select.select([self.sock], [], [], 0.05)
            if not r:
                continue
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.conns += 1
                n = self.conns
            t = threading.Thread(target=self._serve, args=(conn, n), daemon=True)
            self.threads.append(t)
            t.start()
            if n == self.max_accepts:
                self.sock.close()  # the queued connections are reset, new ones refused
                return

    def _recv(self, conn):
        """Bytes, b"" at EOF, None when stopping."""
        while not self.stop.is_set():
            r, _, _ = select.select([conn], [], [], 0.05)
            if r:
                try:
                    return conn.recv(65536)
                except OSError:
                    return b""
        return None

    def _serve(self, conn, conn_no):
        buf = b""
        on_conn = 0
        try:
            while True:
                data = self._recv(conn)
                if not data:
                    return
                buf += data
                while b"\r\n\r\n" in buf:
                    head, buf = buf.split(b"\r\n\r\n", 1)
                    method, path = head.split(b"\r\n", 1)[0].split(b" ")[:2]
                    on_conn += 1
                    with self.lock:
                        self.requests += 1
                        g = self.requests
                    act = self.handler(self, conn_no, on_conn, g, method.decode(), path.decode())
                    if isinstance(act, Custom):
                        act.fn(conn)
                        return
                    if isinstance(act, Hang):
                        t0 = time.monotonic()
                        while True:
                            data = self._recv(conn)
                            if data is None:
                                return
                            if not data:
                                with self.lock:
                                    self.hang_closed_after.append(time.monotonic() - t0)
                                return
                    if act.delay:
                        self.stop.wait(act.delay)
                    try:
                        conn.sendall(act.data)
                    except OSError:
                        return
                    if act.close:
                        return
        finally:
            conn.close()


def ok_handler(srv, conn_no, on_conn, g, method, path):
    return Reply(response(200, b"ok\n"))


class QuickClose(FakeServer):
    """A server on 127.0.0.1:0 that closes every connection as soon as it
    has accepted it, before a request can arrive."""

    def __init__(self):
        super().__init__(None)

    def _serve(self, conn, conn_no):
        conn.close()


CLOSE_WAIT = "08"  # in /proc/net/tcp
SYN_SENT = "02"


def tcp_state(local, remote):
    """The state, as /proc/net/tcp shows it, of the connection from
    127.0.0.1:local to 127.0.0.1:remote on this machine, or None."""
    want = ["0100007F:%04X" % port for port in (local, remote)]
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[1:3] == want:
                return fields[3]
    return None


def syn_sent_to(port):
    """Does a connection from this machine to 127.0.0.1:port wait in
    SYN_SENT (its SYN was dropped and will be sent again)?"""
    want = "0100007F:%04X" % port
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[2] == want and fields[3] == SYN_SENT:
                return True
    return False


class SlowAccept(FakeServer):
    """A FakeServer whose accept queue takes backlog + 1 connections and
    that, while held, accepts none: a client's SYN then finds the queue full
    and is dropped, the kernel sends it again after TCP's initial
    retransmission timeout (1 s), and that connect takes a second. A hold
    ends as soon as a connection to the server waits in SYN_SENT; holds
    counts the holds that ended so. held=True holds from the start (then
    pyserve-stress's probe connection, closed but never accepted, fills a
    queue of one); hold() holds again, filling the queue with connections
    of its own."""

    def __init__(self, handler, backlog=0, held=False):
        self.held = threading.Event()
        self.pausing = threading.Event()
        self.holds = 0
        self.fillers = []
        if held:
            self.held.set()
        super().__init__(handler, backlog=backlog)
        self.backlog = backlog

    def _before_accept(self):
        if not self.held.is_set():
            return
        self.pausing.set()
        if h.poll_until(lambda: self.stop.is_set() or syn_sent_to(self.port), 10.0):
            with self.lock:
                self.holds += 1
        self.held.clear()
        self.pausing.clear()

    def hold(self):
        self.held.set()
        if not self.pausing.wait(5.0):
            raise RuntimeError("the accept loop did not pause")
        for _ in range(self.backlog + 1):
            self.fillers.append(socket.create_connection(("127.0.0.1", self.port), timeout=5))

    def close(self):
        super().close()
        for s in self.fillers:
            s.close()


def refused_port():
    """A loopback port with nothing listening: bound, never listened on,
    kept bound until the caller closes it (so nobody else takes it)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    return s


# --- against pyserved -----------------------------------------------------------------


class AgainstPyserved(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.environ.get("PYSERVED"):
            raise unittest.SkipTest("PYSERVED is not set")
        cls.srv = h.Server(config={"access_log": "no"})
        cls.srv.write_file("1k.bin", BODY_1K)
        cls.srv.write_file("small.txt", b"small\n")
        cls.srv.start()
        cls.base = "http://127.0.0.1:%d" % cls.srv.port

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()

    def url(self, path="/1k.bin"):
        return self.base + path

    def check_dist(self, d):
        p = d["percentiles"]
        self.assertGreater(d["count"], 0)
        self.assertLessEqual(d["min"], p["50"])
        self.assertLessEqual(p["50"], p["90"])
        self.assertLessEqual(p["90"], p["99"])
        self.assertLessEqual(p["99"], p["99.9"])
        self.assertLessEqual(p["99.9"], d["max"])
        self.assertEqual(p["100"], d["max"])

    def test_keep_alive_json(self):
        d = run_json(self, ["-c", "4", "-t", "2", "-d", "1s", self.url()])
        self.assertGreater(d["requests"], 100)
        self.assertEqual(d["status"]["codes"], {"200": d["requests"]})
        self.assertEqual(d["errors"]["total"], 0)
        self.assertEqual(d["non_2xx_3xx"], 0)
        self.assertGreaterEqual(d["bytes"], d["requests"] * 1024)
        self.assertLess(d["bytes"], (d["requests"] + 4) * 1400)
        self.assertGreaterEqual(d["connections_opened"], 4)
        self.assertAlmostEqual(d["duration_s"], 1.0, delta=0.2)
        self.assertAlmostEqual(d["requests_per_s"], d["requests"] / d["duration_s"], delta=1)
        self.check_dist(d["latency_us"])
        self.check_dist(d["ttfb_us"])
        self.check_dist(d["connect_us"])
        self.assertIsNone(d["latency_uncorrected_us"])
        self.assertEqual(d["latency_us"]["count"], d["requests"])
        par = d["parameters"]
        self.assertEqual((par["connections"], par["threads"], par["duration_ms"]), (4, 2, 1000))
        self.assertTrue(par["keep_alive"])
        self.assertEqual(par["urls"], [self.url()])

    def test_request_count_exact(self):
        d = run_json(self, ["-c", "4", "-n", "500", self.url()])
        self.assertEqual(d["requests"], 500)
        self.assertEqual(d["status"]["2xx"], 500)
        self.assertEqual(d["errors"]["total"], 0)

    def test_once(self):
        d = run_json(self, ["--clients", "30", "--once", self.url()])
        self.assertEqual(d["requests"], 30)
        self.assertEqual(d["connections_opened"], 30)
        self.assertEqual(d["latency_us"]["count"], 30)
        self.assertEqual(d["connect_us"]["count"], 30)
        self.assertLess(d["wall_s"], 5)

    def test_no_keep_alive(self):
        d = run_json(self, ["-c", "4", "-d", "500ms", "--no-keep-alive", self.url()])
        self.assertGreater(d["requests"], 10)
        self.assertEqual(d["errors"]["total"], 0)
        # a connection per request (those in flight at the end are extra)
        self.assertGreaterEqual(d["connections_opened"], d["requests"])
        self.assertLessEqual(d["connections_opened"], d["requests"] + 4)

    def test_pipeline(self):
        d = run_json(self, ["-c", "2", "-p", "8", "-n", "800", self.url()])
        self.assertEqual(d["requests"], 800)
        self.assertEqual(d["errors"]["total"], 0)
        self.assertEqual(d["connections_opened"], 2)

    def test_head(self):
        d = run_json(self, ["-c", "2", "-n", "100", "--method", "HEAD", "--verify", self.url()])
        self.assertEqual(d["requests"], 100)
        self.assertEqual(d["errors"]["total"], 0)
        self.assertLess(d["bytes"], 100 * 1024)  # heads only

    def test_verify_and_sha256(self):
        good = hashlib.sha256(BODY_1K).hexdigest()
        d = run_json(self, ["-c", "2", "-n", "200", "--verify", "--expect-sha256", good,
                            "--fail-on-error", self.url()])
        self.assertEqual(d["requests"], 200)
        self.assertEqual(d["errors"]["verify"], 0)
        bad = hashlib.sha256(b"something else").hexdigest()
        d = run_json(self, ["-c", "2", "-n", "200", "--expect-sha256", bad, self.url()])
        self.assertEqual(d["requests"], 200)
        self.assertEqual(d["errors"]["verify"], 200)
        r = run_stress(["-c", "2", "-n", "50", "--expect-sha256", bad, "--fail-on-error",
                        self.url()])
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("50 requests failed", r.stderr)

    def test_verify_reference_must_be_2xx(self):
        r = run_stress(["-n", "10", "--verify", self.url("/missing")])
        self.assertEqual(r.returncode, 1)
        self.assertIn("reference request for %s answered 404" % self.url("/missing"), r.stderr)

    def test_mix_file(self):
        with tempfile.NamedTemporaryFile("w", suffix=".urls", delete=False) as f:
            f.write("# mix\n3 %s\n/missing\n" % self.url("/small.txt"))
        try:
            d = run_json(self, ["-c", "2", "-n", "400", "--urls", f.name])
        finally:
            os.unlink(f.name)
        self.assertEqual(d["requests"], 400)
        self.assertEqual(d["status"]["codes"], {"200": 300, "404": 100})
        self.assertEqual(d["non_2xx_3xx"], 100)
        self.assertEqual(d["parameters"]["mix_entries"], 2)

    def test_mix_from_standard_input_and_a_pipe(self):
        text = "# mix\n3 %s\n/missing\n" % self.url("/small.txt")
        r = subprocess.run([STRESS, "-c", "2", "-n", "40", "--json", "--urls", "-"],
                           input=text, capture_output=True, text=True, timeout=RUN_TIMEOUT)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["status"]["codes"], {"200": 30, "404": 10})
        rd, wr = os.pipe()
        with os.fdopen(wr, "w") as w:
            w.write(text)  # fits in the pipe's buffer: no writer needed after
        try:
            r = subprocess.run([STRESS, "-c", "2", "-n", "40", "--json", "--urls",
                                "/dev/fd/%d" % rd], stdin=subprocess.DEVNULL, pass_fds=(rd,),
                               capture_output=True, text=True, timeout=RUN_TIMEOUT)
        finally:
            os.close(rd)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["status"]["codes"], {"200": 30, "404": 10})

    def test_open_loop_rate(self):
        d = run_json(self, ["-c", "4", "-t", "2", "-R", "400", "-d", "1s", self.url()])
        # 400 scheduled in the second: each answered, or due and unanswered
        # at the end (how many of them this server, in Python, answered in
        # time depends on the machine's load: once 318)
        due = d["requests"] + d["unanswered"]
        self.assertGreaterEqual(due, 396)
        self.assertLessEqual(due, 400)
        self.assertGreaterEqual(d["requests"], due // 2)
        self.assertEqual(d["errors"]["total"], 0)
        self.check_dist(d["latency_uncorrected_us"])
        self.assertEqual(d["latency_uncorrected_us"]["count"], d["requests"])
        # corrected latency counts from the scheduled time: never less
        self.assertGreaterEqual(d["latency_us"]["percentiles"]["50"],
                                d["latency_uncorrected_us"]["percentiles"]["50"] * 0.99)

    def test_open_loop_schedule_ends_with_the_run(self):
        # Requests due after the end are neither sent nor counted, even from
        # the events handled in the loop turn in which the end passes (many
        # busy connections on one thread make such a turn likely): at most
        # rate x duration are due, in every run
        for _ in range(5):
            d = run_json(self, ["-c", "50", "-t", "1", "-R", "20000", "-d", "200ms",
                                self.url()])
            self.assertLessEqual(d["requests"] + d["unanswered"], 4000)
            self.assertEqual(d["errors"]["total"], 0)

    def test_warmup(self):
        d = run_json(self, ["-c", "2", "--warmup", "300ms", "-d", "500ms", self.url()])
        self.assertAlmostEqual(d["duration_s"], 0.5, delta=0.15)
        self.assertGreater(d["wall_s"], 0.75)
        self.assertGreater(d["requests"], 0)
        self.assertEqual(d["parameters"]["warmup_ms"], 300)

    def test_text_report(self):
        # 1 s, not less: under a sanitizer on a busy machine a 300 ms run once
        # ended before the first response arrived
        r = run_stress(["-c", "2", "-d", "1s", self.url()])
        self.assertEqual(r.returncode, 0, r.stderr)
        for s in ("Running 1.00s test @ " + self.url(), "2 threads and 2 connections",
                  "Thread Stats", "Latency Distribution", "    99.9%", "  99.999%",
                  "Requests/sec:", "Transfer/sec:", "Status: 2xx: "):
            self.assertIn(s, r.stdout)
        self.assertRegex(r.stdout, r"\n  \d+ requests in [01]\.\d\ds, [\d.]+[KMG]?B read\n")
        self.assertNotIn("errors", r.stdout)
        self.assertEqual(r.stderr, "")  # no progress line off a terminal


# --- against misbehaving servers ------------------------------------------------------


class Timeouts(unittest.TestCase):
    def test_timeout_aborts_and_reconnects(self):
        def handler(srv, conn_no, on_conn, g, method, path):
            return Hang() if g in (5, 12) else Reply(response(200, b"ok\n"))

        with FakeServer(handler) as srv:
            t0 = time.monotonic()
            d = run_json(self, ["-c", "2", "-t", "1", "--timeout", "200ms", "-d", "1500ms",
                                srv.url()])
            elapsed = time.monotonic() - t0
            self.assertEqual(d["errors"]["timeout"], 2)
            self.assertEqual(d["errors"]["total"], 2)
            self.assertGreater(d["requests"], 20)
            # two connections plus one new one per abort
            self.assertEqual(d["connections_opened"], 4)
            self.assertLess(elapsed, 4.0)
            # the server saw both connections closed by the client, after
            # the timeout and well before the end of the run
            closed = h.poll_until(lambda: len(srv.hang_closed_after) == 2, 3.0)
            self.assertTrue(closed, srv.hang_closed_after)
            for dt in srv.hang_closed_after:
                self.assertGreaterEqual(dt, 0.15)
                self.assertLess(dt, 0.8)

    def test_timeout_counts_toward_n(self):
        def handler(srv, conn_no, on_conn, g, method, path):
            return Hang() if g == 3 else Reply(response(200, b"ok\n"))

        with FakeServer(handler) as srv:
            d = run_json(self, ["-c", "1", "-n", "20", "--timeout", "300ms", srv.url()])
            self.assertEqual(d["requests"], 19)
            self.assertEqual(d["errors"]["timeout"], 1)

    def test_silent_server_ends_with_failure(self):
        def handler(srv, conn_no, on_conn, g, method, path):
            return Hang()

        with FakeServer(handler) as srv:
            t0 = time.monotonic()
            r = run_stress(["-c", "2", "-n", "4", "--timeout", "200ms", "--json", srv.url()])
            self.assertLess(time.monotonic() - t0, 5.0)
            self.assertEqual(r.returncode, 1)
            self.assertIn("no response received (errors: timeout 4)\n", r.stderr)
            d = json.loads(r.stdout)
            self.assertEqual(d["errors"]["timeout"], 4)
            self.assertEqual(d["requests"], 0)

    def test_open_loop_shows_stall_in_corrected_tail(self):
        # 200 req/s on one connection for 2 s; request 100 is answered after
        # 200 ms. The ~40 requests due meanwhile wait for the connection:
        # their latency from the scheduled time reaches 200 ms, so p99 of
        # the corrected view shows the stall; only one request was slow
        # once sent, so the uncorrected p99 does not.
        def handler(srv, conn_no, on_conn, g, method, path):
            return Reply(response(200, b"ok\n"), delay=0.2 if g == 100 else 0.0)

        with FakeServer(handler) as srv:
            d = run_json(self, ["-c", "1", "-t", "1", "-R", "200", "-d", "2s", srv.url()])
        self.assertGreaterEqual(d["requests"], 380)
        corr = d["latency_us"]
        unc = d["latency_uncorrected_us"]
        self.assertGreaterEqual(corr["percentiles"]["99"], 150000, corr)
        self.assertLess(unc["percentiles"]["99"], 100000, unc)
        self.assertGreaterEqual(unc["max"], 190000, unc)
        self.assertGreaterEqual(corr["max"], 190000, corr)

    def test_open_loop_stall_until_the_end(self):
        # 100 req/s for 2 s; from request 100 on the server answers no more.
        # The ~100 requests due in the second half, one sent and the rest
        # waiting for the connection, are not answered by the end: they
        # are reported, and each is in the corrected latency as having
        # waited from its due time to the end (it waited at least that).
        def handler(srv, conn_no, on_conn, g, method, path):
            return Hang() if g >= 100 else Reply(response(200, b"ok\n"))

        with FakeServer(handler) as srv:
            d = run_json(self, ["-c", "1", "-t", "1", "-R", "100", "-d", "2s", "--timeout", "5s",
                                srv.url()])
        self.assertLessEqual(d["requests"], 100)
        self.assertGreaterEqual(d["unanswered"], 80)
        self.assertLessEqual(d["unanswered"], 102)
        corr = d["latency_us"]
        self.assertEqual(corr["count"], d["requests"] + d["unanswered"])
        self.assertGreaterEqual(corr["percentiles"]["75"], 300000, corr)
        self.assertGreaterEqual(corr["max"], 900000, corr)
        # the answered ones only: an unanswered one there would be near 1 s
        # (sent at 1 s, the end at 2 s); 0.5 s leaves the Python server
        # room for a stall of the machine
        self.assertLess(d["latency_uncorrected_us"]["max"], 500000)
        self.assertEqual(d["errors"]["total"], 0)

    def test_closed_loop_hides_stall(self):
        # the same stall without -R: the client waits politely, and only
        # one request of several thousand is slow (coordinated omission)
        def handler(srv, conn_no, on_conn, g, method, path):
            return Reply(response(200, b"ok\n"), delay=0.2 if g == 100 else 0.0)

        with FakeServer(handler) as srv:
            d = run_json(self, ["-c", "1", "-t", "1", "-d", "1s", srv.url()])
        self.assertGreater(d["requests"], 200)
        self.assertLess(d["latency_us"]["percentiles"]["99"], 100000)
        self.assertGreaterEqual(d["latency_us"]["max"], 190000)


class OpenLoopConnects(unittest.TestCase):
    """-R: the set-up of a connection at the start is not charged to the
    requests due meanwhile; a reconnect during the run is."""

    def test_first_connect_moves_the_schedule(self):
        # the connection's first SYN is dropped: it comes up after a second,
        # when 20 of its requests (20/s) were already due. They are not
        # charged that second: the schedule starts when the connection is up
        with SlowAccept(ok_handler, held=True) as srv:
            d = run_json(self, ["-c", "1", "-t", "1", "-R", "20", "-d", "2s", srv.url()])
            self.assertEqual(srv.holds, 1)
        self.assertGreaterEqual(d["connect_us"]["max"], 900000, d["connect_us"])
        self.assertEqual(d["connections_opened"], 1)
        self.assertGreaterEqual(d["requests"], 10)
        self.assertEqual(d["errors"]["total"], 0)
        self.assertLess(d["latency_us"]["max"], 300000, d["latency_us"])

    def test_reconnect_during_the_run_is_charged(self):
        # request 20 (about 1 s in) is answered with Connection: close and
        # the server stops accepting: the new connection takes a second,
        # and the requests due in that second are charged from their due
        # times (the uncorrected view does not see it)
        def handler(srv, conn_no, on_conn, g, method, path):
            if g == 20:
                srv.hold()
                return Reply(response(200, b"ok\n", b"Connection: close\r\n"))
            return Reply(response(200, b"ok\n"))

        with SlowAccept(handler, backlog=1) as srv:
            d = run_json(self, ["-c", "1", "-t", "1", "-R", "20", "-d", "3s", srv.url()])
            self.assertEqual(srv.holds, 1)
        self.assertEqual(d["connections_opened"], 2)
        self.assertGreaterEqual(d["connect_us"]["max"], 900000, d["connect_us"])
        self.assertEqual(d["errors"]["total"], 0)
        self.assertGreaterEqual(d["latency_us"]["max"], 900000, d["latency_us"])
        self.assertLess(d["latency_uncorrected_us"]["max"], 300000)


class Framing(unittest.TestCase):
    CASES = {
        # path: (raw response, close after it)
        "/short": (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello", True),
        "/midhead": (b"HTTP/1.1 200 OK\r\nContent-", True),
        "/garbage": (b"HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n", False),
        "/conflict": (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nab", False),
        "/badchunk": (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n", False),
        "/nothing": (b"", True),
        "/chunked": (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                     b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n", False),
        "/closeeach": (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok", True),
        "/eofbody": (b"HTTP/1.1 200 OK\r\n\r\nbody until close", True),
        "/extra": (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloWORLD", False),
        # the coding a GET would have had: no body (RFC 9112 6.1)
        "/te304": (b"HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: gzip\r\n\r\n", False),
        "/tehead": (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", False),
    }

    @classmethod
    def setUpClass(cls):
        def handler(srv, conn_no, on_conn, g, method, path):
            data, close = cls.CASES.get(path, (response(404), False))
            return Reply(data, close=close)

        cls.srv = FakeServer(handler)

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()

    def run_path(self, path, expect_status):
        return run_json(self, ["-c", "1", "-n", "4", "--timeout", "2s", self.srv.url(path)],
                        expect_status=expect_status)

    def test_bad_responses_counted(self):
        for path in ("/short", "/midhead", "/garbage", "/conflict", "/badchunk"):
            with self.subTest(path=path):
                d = self.run_path(path, 1)  # no good response at all: exit 1
                self.assertEqual(d["errors"]["bad_response"], 4)
                self.assertEqual(d["errors"]["total"], 4)
                self.assertEqual(d["requests"], 0)

    def test_closed_without_answer_is_read_error(self):
        d = self.run_path("/nothing", 1)
        self.assertEqual(d["errors"]["read"], 4)
        self.assertEqual(d["errors"]["total"], 4)
        # the message says which errors there were
        r = run_stress(["-c", "1", "-n", "4", "--timeout", "2s", self.srv.url("/nothing")])
        self.assertEqual(r.returncode, 1)
        self.assertIn("no response received (errors: read 4)\n", r.stderr)

    def test_good_framings(self):
        for path in ("/chunked", "/closeeach", "/eofbody"):
            with self.subTest(path=path):
                d = self.run_path(path, 0)
                self.assertEqual(d["requests"], 4)
                self.assertEqual(d["errors"]["total"], 0)
                self.assertEqual(d["status"]["2xx"], 4)
        d = self.run_path("/closeeach", 0)
        self.assertEqual(d["connections_opened"], 4)  # the server closes each time
        d = self.run_path("/chunked", 0)
        self.assertEqual(d["connections_opened"], 1)

    def test_transfer_encoding_without_a_body(self):
        for path, args, status in (("/te304", [], "3xx"), ("/tehead", ["--method", "HEAD"], "2xx")):
            with self.subTest(path=path):
                d = run_json(self, args + ["-c", "1", "-n", "4", "--timeout", "2s",
                                           self.srv.url(path)])
                self.assertEqual(d["requests"], 4)
                self.assertEqual(d["errors"]["total"], 0)
                self.assertEqual(d["status"][status], 4)
                self.assertEqual(d["connections_opened"], 1)

    def test_extra_bytes_after_body(self):
        d = self.run_path("/extra", 0)
        self.assertGreaterEqual(d["errors"]["bad_response"], 1)
        self.assertGreaterEqual(d["requests"], 1)

    def test_fail_on_error_with_mixed_results(self):
        with tempfile.NamedTemporaryFile("w", suffix=".urls", delete=False) as f:
            f.write("%s\n/short\n" % self.srv.url("/chunked"))
        try:
            args = ["-c", "1", "-n", "10", "--urls", f.name]
            d = run_json(self, args)  # some good responses: exit 0
            self.assertEqual(d["requests"], 5)
            self.assertEqual(d["errors"]["bad_response"], 5)
            run_json(self, args + ["--fail-on-error"], expect_status=1)
        finally:
            os.unlink(f.name)


class ClosedBeforeTheRequest(unittest.TestCase):
    """A server that closes each connection before the request is written
    (one at its connection limit, say): every such connection is a failed
    attempt, counted, not a silent reconnect."""

    def test_once_accounts_for_every_client(self):
        with QuickClose() as srv:
            d = run_json(self, ["--clients", "16", "-t", "1", "--once", "--timeout", "2s",
                                srv.url()], expect_status=1)
        self.assertEqual(d["requests"], 0)
        # closed before the write: connect errors; after it: read errors
        self.assertEqual(d["errors"]["connect"] + d["errors"]["read"], 16, d["errors"])
        self.assertEqual(d["errors"]["total"], 16, d["errors"])

    def test_duration_run_counts_each_connection(self):
        with QuickClose() as srv:
            d = run_json(self, ["-c", "2", "-t", "1", "-d", "500ms", "--timeout", "2s",
                                srv.url()], expect_status=1)
        self.assertEqual(d["requests"], 0)
        # each connection it opened failed once (but the two still open at
        # the end)
        failed = d["errors"]["connect"] + d["errors"]["read"]
        self.assertGreater(d["connections_opened"], 0)
        self.assertGreaterEqual(failed, d["connections_opened"] - 2, d["errors"])


class RequestBudget(unittest.TestCase):
    """-n N: the answered and the failed requests together are N, however
    the connections fail, and with more than one thread."""

    def test_failed_connects_stay_within_n(self):
        # 50 connections fail at once, each before its request or with it:
        # refused or reset (the one connection the first server accepts is
        # pyserve-stress's probe), or closed at once after the accept
        def accept_once():
            return FakeServer(ok_handler, max_accepts=1)

        for make, threads in ((accept_once, "1"), (accept_once, "2"), (QuickClose, "2")):
            with self.subTest(server=make.__name__, threads=threads), make() as srv:
                d = run_json(self, ["-c", "50", "-t", threads, "-n", "10", "--timeout", "2s",
                                    srv.url()], expect_status=1)
                self.assertEqual(d["requests"], 0)
                self.assertEqual(d["errors"]["total"], 10, d["errors"])

    def test_open_loop_n_takes_n_over_r_seconds(self):
        # 3 connections on 2 threads at 200 req/s in all: the 300 requests
        # are due in 1.5 s whatever thread sends them (split evenly by
        # thread, the thread with one connection needed 2.25 s)
        with FakeServer(ok_handler) as srv:
            d = run_json(self, ["-c", "3", "-t", "2", "-R", "200", "-n", "300", srv.url()])
        self.assertEqual(d["requests"], 300)
        self.assertEqual(d["errors"]["total"], 0)
        # (2.0: room for a loaded machine's late answers, below the 2.25)
        self.assertGreater(d["duration_s"], 1.4)
        self.assertLess(d["duration_s"], 2.0)
        self.assertGreater(d["requests_per_s"], 300 / 2.0)


class WarmupAndCount(unittest.TestCase):
    def test_n_counts_the_measured_requests(self):
        # -n with --warmup: the N requests are those after the warm-up; the
        # warm-up's own do not use them up (a quick server used to get all
        # of them in the warm-up, and the run read "no response received")
        with FakeServer(ok_handler) as srv:
            d = run_json(self, ["-c", "2", "-t", "1", "--warmup", "300ms", "-d", "2s",
                                "-n", "40", srv.url()])
            with srv.lock:
                served = srv.requests
        self.assertEqual(d["requests"], 40)
        self.assertEqual(d["errors"]["total"], 0)
        self.assertGreater(served, 40)  # and the warm-up's
        self.assertLess(d["duration_s"], 1.5)  # -n ended it, not -d

    def test_connections_of_the_warmup_in_the_connect_figures(self):
        # keep-alive connections opened in the warm-up carry the measured
        # load: their connects are in the figures, and said to be the
        # warm-up's (they were left out: "Connect (none)", 0 opened)
        # (for a time, not -n: 20 requests once all went on one connection,
        # the other carrying none of the measured load)
        with FakeServer(ok_handler) as srv:
            args = ["-c", "2", "-t", "1", "--warmup", "200ms", "-d", "500ms", srv.url()]
            d = run_json(self, args)
            self.assertGreater(d["requests"], 0)
            self.assertEqual(d["connections_opened"], 2)
            self.assertEqual(d["connections_from_warmup"], 2)
            self.assertEqual(d["connect_us"]["count"], 2)
            r = run_stress(args)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"\n  Connect +avg .*\(2, all opened in the warm-up\)\n")

    def test_warmup_requests_do_not_fail_the_measurement(self):
        # the first request, sent in the warm-up, times out after it: not
        # counted, like its latency would not have been
        def handler(srv, conn_no, on_conn, g, method, path):
            return Hang() if g == 1 else Reply(response(200, b"ok\n"))

        with FakeServer(handler) as srv:
            d = run_json(self, ["-c", "1", "-t", "1", "--warmup", "200ms", "-d", "800ms",
                                "--timeout", "400ms", "--fail-on-error", srv.url()])
            self.assertTrue(h.poll_until(lambda: len(srv.hang_closed_after) == 1, 3.0))
        self.assertEqual(d["errors"]["total"], 0, d["errors"])
        self.assertGreater(d["requests"], 0)


class LongRead(unittest.TestCase):
    def test_close_after_much_queued_data_ends_the_body(self):
        # A body delimited by the close ends when the close is read. Here
        # the close is announced with more queued than one loop turn reads
        # (32 reads of 64 KiB): it must still be read later, not wait for
        # --timeout. The client is stopped while the server queues 2.5 MiB
        # of body and the close, so that all of it is there at its next
        # event; the first response, 16 MiB, grows its receive window for
        # that. (Where the window stays smaller, the close waits for the
        # client to read, and the test passes without showing anything.)
        stress = []

        def stop_queue_close(conn):
            pid = stress[0].pid
            os.kill(pid, signal.SIGSTOP)
            try:
                conn.settimeout(1.0)
                data = b"HTTP/1.1 200 OK\r\n\r\n" + b"z" * (5 << 19)
                sent = 0
                try:
                    while sent < len(data):
                        sent += conn.send(data[sent:])
                except socket.timeout:
                    pass  # a smaller window: what fits
                conn.shutdown(socket.SHUT_WR)
                # until the client's socket has taken the close
                ports = (conn.getpeername()[1], conn.getsockname()[1])
                h.poll_until(lambda: tcp_state(*ports) == CLOSE_WAIT, 1.0, 0.005)
            finally:
                os.kill(pid, signal.SIGCONT)

        def handler(srv, conn_no, on_conn, g, method, path):
            if on_conn == 1:
                return Reply(response(200, b"y" * (16 << 20)))
            return Custom(stop_queue_close)

        with FakeServer(handler) as srv:
            p = subprocess.Popen([STRESS, "-c", "1", "-t", "1", "-n", "2", "--timeout", "2s",
                                  "--json", srv.url()], stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            stress.append(p)
            try:
                out, err = p.communicate(timeout=RUN_TIMEOUT)
            finally:
                if p.poll() is None:
                    os.kill(p.pid, signal.SIGCONT)
                    p.kill()
                    p.wait(timeout=5)
        self.assertEqual(p.returncode, 0, err)
        d = json.loads(out)
        self.assertEqual(d["errors"]["total"], 0, d["errors"])
        self.assertEqual(d["requests"], 2)


class ClosedAfterAResponse(unittest.TestCase):
    """A server that closes a connection after a response without saying
    so (no Connection: close) did not answer the requests pipelined behind
    it: they are sent again on a new connection (RFC 9112 9.3.2: GET and
    HEAD may be), whether the close is a FIN or a reset."""

    def run_closing(self, close):
        def handler(srv, conn_no, on_conn, g, method, path):
            return Custom(close)

        with FakeServer(handler) as srv:
            d = run_json(self, ["-c", "1", "-n", "40", "-p", "4", "--timeout", "2s", srv.url()])
        self.assertEqual(d["requests"], 40)
        self.assertEqual(d["errors"]["total"], 0, d["errors"])
        self.assertEqual(d["connections_opened"], 40)  # one response on each

    def test_close_after_a_response(self):
        self.run_closing(lambda conn: conn.sendall(response(200, b"ok\n")))

    def test_reset_after_a_response(self):
        def reset(conn):
            conn.sendall(response(200, b"ok\n"))
            # closed with a zero linger time: a reset, not a FIN
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

        self.run_closing(reset)

    def test_closed_before_any_answer_fails(self):
        # only the first request is answered: the others, sent again once,
        # meet connections closed before they answered anything, and fail
        def handler(srv, conn_no, on_conn, g, method, path):
            return Reply(response(200, b"ok\n") if g == 1 else b"", close=True)

        with FakeServer(handler) as srv:
            d = run_json(self, ["-c", "1", "-n", "40", "-p", "4", "--timeout", "2s", srv.url()])
        self.assertEqual(d["requests"], 1)
        self.assertEqual(d["errors"]["read"], 39, d["errors"])
        self.assertEqual(d["errors"]["total"], 39, d["errors"])


class StatusAccounting(unittest.TestCase):
    def test_status_classes_and_codes(self):
        def handler(srv, conn_no, on_conn, g, method, path):
            code = {"/ok": 200, "/404": 404, "/500": 500, "/301": 301}.get(path, 400)
            return Reply(response(code, b"body %d\n" % code))

        with FakeServer(handler) as srv, \
                tempfile.NamedTemporaryFile("w", suffix=".urls", delete=False) as f:
            f.write("%s\n1 /404\n1 /500\n" % srv.url("/ok"))
            f.write("# a comment\n\n1 /301\n")
            f.close()
            try:
                args = ["-c", "2", "-n", "400", "--urls", f.name]
                d = run_json(self, args)
                self.assertEqual(d["requests"], 400)
                self.assertEqual(d["status"]["codes"],
                                 {"200": 100, "301": 100, "404": 100, "500": 100})
                self.assertEqual((d["status"]["2xx"], d["status"]["3xx"], d["status"]["4xx"],
                                  d["status"]["5xx"]), (100, 100, 100, 100))
                self.assertEqual(d["non_2xx_3xx"], 200)
                self.assertEqual(d["errors"]["total"], 0)
                r = run_stress(args + ["--fail-on-error"])
                self.assertEqual(r.returncode, 1)
                self.assertIn("200 responses not 2xx or 3xx", r.stderr)
                self.assertIn("Non-2xx or 3xx responses: 200", r.stdout)
                self.assertIn("4xx: 100 (404: 100)", r.stdout)
            finally:
                os.unlink(f.name)


class Informational(unittest.TestCase):
    def test_interim_responses_are_skipped(self):
        # 100 Continue and 103 Early Hints before every final response,
        # with pipelining: the final responses are counted, nothing else
        def handler(srv, conn_no, on_conn, g, method, path):
            return Reply(b"HTTP/1.1 100 Continue\r\n\r\n"
                         b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
                         + response(200, b"ok\n"))

        with FakeServer(handler) as srv:
            d = run_json(self, ["-c", "2", "-p", "4", "-n", "200", srv.url()])
        self.assertEqual(d["requests"], 200)
        self.assertEqual(d["status"]["codes"], {"200": 200})
        self.assertEqual(d["errors"]["total"], 0)
        self.assertEqual(d["connections_opened"], 2)

    def test_switching_protocols_ends_the_connection(self):
        # the server switches every connection to another protocol with its
        # first response; an HTTP request it reads after that on the same
        # connection is one pyserve-stress must not have sent
        after_switch = []

        def handler(srv, conn_no, on_conn, g, method, path):
            if on_conn == 1:
                return Reply(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x-test\r\n"
                             b"Connection: Upgrade\r\n\r\n")
            with srv.lock:
                after_switch.append((conn_no, on_conn))
            return Reply(response(200, b"ok\n"))

        with FakeServer(handler) as srv:
            d = run_json(self, ["-c", "1", "-n", "5", srv.url()])
        self.assertEqual(after_switch, [])
        # each 101 is the response to its request, on its own connection
        self.assertEqual(d["requests"], 5)
        self.assertEqual(d["status"]["codes"], {"101": 5})
        self.assertEqual(d["status"]["1xx"], 5)
        self.assertEqual(d["non_2xx_3xx"], 5)
        self.assertEqual(d["connections_opened"], 5)
        self.assertEqual(d["errors"]["total"], 0)


class Verify(unittest.TestCase):
    def test_wrong_length_caught(self):
        # 100 bytes for the first request of a connection (the reference is
        # one), 90 after that, each with a correct Content-Length
        def handler(srv, conn_no, on_conn, g, method, path):
            return Reply(response(200, b"x" * (100 if on_conn == 1 else 90)))

        with FakeServer(handler) as srv:
            d = run_json(self, ["-c", "2", "-n", "40", "--verify", srv.url()])
            self.assertEqual(d["requests"], 40)
            self.assertEqual(d["connections_opened"], 2)
            self.assertEqual(d["errors"]["verify"], 38)
            # without --verify nothing is checked
            d = run_json(self, ["-c", "2", "-n", "40", srv.url()])
            self.assertEqual(d["errors"]["total"], 0)
            # and a digest of the 100-byte body catches the same ones
            sha = hashlib.sha256(b"x" * 100).hexdigest()
            d = run_json(self, ["-c", "2", "-n", "40", "--expect-sha256", sha, srv.url()])
            self.assertEqual(d["errors"]["verify"], 38)


    def test_reference_fetch_ends_at_the_first_that_fails(self):
        # three URLs, and the server never answers: the references are
        # fetched one at a time, each within --timeout, and the first that
        # fails ends the program (one timeout, not three)
        def handler(srv, conn_no, on_conn, g, method, path):
            return Hang()

        with FakeServer(handler) as srv:
            t0 = time.monotonic()
            r = run_stress(["-n", "10", "--timeout", "300ms", "--verify", srv.url("/a"),
                            srv.url("/b"), srv.url("/c")])
            elapsed = time.monotonic() - t0
            self.assertTrue(h.poll_until(lambda: len(srv.hang_closed_after) == 1, 3.0))
            self.assertEqual(srv.requests, 1)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(r.stdout, "")
        self.assertIn("--verify: reference request for %s: no response within the timeout "
                      "(300 ms)" % srv.url("/a"), r.stderr)
        self.assertGreaterEqual(elapsed, 0.3)
        self.assertLess(elapsed, 0.85)  # well below 3 x 300 ms

    def test_reference_fetch_cut_at_the_timeout(self):
        # the head, then a byte of the body every 20 ms without end: the
        # reference is abandoned at the timeout
        def trickle(conn):
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n")
            deadline = time.monotonic() + 10.0
            while time.monotonic() < deadline:
                r, _, _ = select.select([conn], [], [], 0.02)
                if r:  # the client closed (or sent more): stop
                    return
                try:
                    conn.sendall(b"x")
                except OSError:
                    return

        def handler(srv, conn_no, on_conn, g, method, path):
            return Custom(trickle)

        with FakeServer(handler) as srv:
            t0 = time.monotonic()
            r = run_stress(["-n", "10", "--timeout", "300ms", "--verify", srv.url("/slow")])
            elapsed = time.monotonic() - t0
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("--verify: reference request for %s: response not complete within "
                      "the timeout (300 ms)" % srv.url("/slow"), r.stderr)
        self.assertLess(elapsed, 1.5)


class Lifecycle(unittest.TestCase):
    def test_sigint_stops_with_report(self):
        with FakeServer(ok_handler) as srv:
            p = subprocess.Popen([STRESS, "-c", "1", "-d", "30s", "--json", srv.url()],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
            try:
                self.assertTrue(h.poll_until(lambda: srv.requests > 10, 10.0),
                                "no load arrived")
                t0 = time.monotonic()
                p.send_signal(signal.SIGINT)
                out, err = p.communicate(timeout=5)
                self.assertLess(time.monotonic() - t0, 2.0)
            finally:
                if p.poll() is None:
                    p.kill()
                    p.wait(timeout=5)
            self.assertEqual(p.returncode, 0, err)
            d = json.loads(out)
            self.assertTrue(d["interrupted"])
            self.assertGreater(d["requests"], 0)
            self.assertLess(d["duration_s"], 10)

    def test_progress_line_on_terminal(self):
        # stderr on a pseudo-terminal: the live line appears there; the
        # report still goes to stdout
        import pty
        master, slave = pty.openpty()
        with FakeServer(ok_handler) as srv:
            try:
                p = subprocess.Popen([STRESS, "-c", "1", "-d", "800ms", srv.url()],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=slave, text=True)
                os.close(slave)
                slave = -1
                seen = b""
                deadline = time.monotonic() + RUN_TIMEOUT
                while time.monotonic() < deadline:
                    r, _, _ = select.select([master], [], [], 0.1)
                    if not r:
                        if p.poll() is not None:
                            break
                        continue
                    try:
                        chunk = os.read(master, 4096)
                    except OSError:  # EIO: the terminal's last user is gone
                        break
                    if not chunk:
                        break
                    seen += chunk
                out, _ = p.communicate(timeout=RUN_TIMEOUT)
            finally:
                if slave >= 0:
                    os.close(slave)
                os.close(master)
        self.assertEqual(p.returncode, 0)
        self.assertRegex(seen.decode("utf-8", "replace"),
                         r"\r +0\.\ds  \d+ requests  \d+ req/s  0 errors")
        self.assertIn("Requests/sec:", out)

    def test_unreachable(self):
        s = refused_port()
        try:
            port = s.getsockname()[1]
            r = run_stress(["-d", "1s", "http://127.0.0.1:%d/" % port])
        finally:
            s.close()
        self.assertEqual(r.returncode, 1)
        self.assertIn("cannot connect to 127.0.0.1 port %d: Connection refused" % port, r.stderr)
        self.assertEqual(r.stdout, "")

    def test_usage_errors(self):
        bad = tempfile.NamedTemporaryFile("w", suffix=".urls", delete=False)
        self.addCleanup(os.unlink, bad.name)
        with bad:
            bad.write("http://127.0.0.1/\n0 /zero\n")
        cases = [
            (["notaurl"], "not an http:// URL"),
            (["https://127.0.0.1/"], "https is not supported"),
            (["-c", "0", "http://127.0.0.1/"], "at least one connection"),
            (["-R", "10", "http://127.0.0.1/"], "-R needs -d or -n"),
            (["http://127.0.0.1:1/", "http://127.0.0.2:1/"], "same host and port"),
            ([], "no URL given"),
            (["--urls", "/nonexistent/file"], "--urls: /nonexistent/file: No such file"),
            (["--urls", "/"], "--urls: /: Is a directory"),
            (["--urls", bad.name], "--urls: %s:2: weight 0 is not in 1..1000" % bad.name),
        ]
        for args, msg in cases:
            with self.subTest(args=args):
                r = run_stress(args)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn(msg, r.stderr)
                self.assertIn("Try 'pyserve-stress --help'", r.stderr)
                self.assertEqual(r.stdout, "")

    def test_help_and_version(self):
        r = run_stress(["--help"])
        self.assertEqual(r.returncode, 0)
        self.assertIn("Usage: pyserve-stress", r.stdout)
        r = run_stress(["--version"])
        self.assertEqual(r.returncode, 0)
        version = h.package_version()
        if version:
            self.assertEqual(r.stdout.strip(), "pyserve-stress (pyserve) %s" % version)


class JsonOutput(unittest.TestCase):
    def test_valid_utf8_whatever_the_arguments(self):
        # the arguments are echoed in "parameters": bytes that are not
        # UTF-8 become U+FFFD, UTF-8 stays as it is
        with FakeServer(ok_handler) as srv:
            r = subprocess.run([STRESS, "-c", "1", "-n", "2", "--json", "-H",
                                b"X-Raw: \xff\xc3 ok \xc3\xa9 \xf0\x9f\x98\x80 \xed\xa0\x80 \xc0\xaf", srv.url()],
                               stdin=subprocess.DEVNULL, capture_output=True,
                               timeout=RUN_TIMEOUT)
        self.assertEqual(r.returncode, 0, r.stderr)
        d = json.loads(r.stdout.decode("utf-8"))  # strict: no invalid byte
        self.assertEqual(d["parameters"]["headers"],
                         ["X-Raw: \ufffd\ufffd ok \u00e9 \U0001f600 \ufffd\ufffd\ufffd \ufffd\ufffd"])
        self.assertEqual(d["requests"], 2)


class UnwritableOutput(unittest.TestCase):
    """What cannot be written on standard output (a full disk, a closed
    descriptor) fails the program, with the reason on standard error."""

    REASONS = {"full": "No space left on device", "closed": "Bad file descriptor"}

    def run_to(self, how, args):
        cmd = [STRESS] + args
        if how == "closed":
            cmd = ["sh", "-c", 'exec "$@" >&-', "sh"] + cmd
        with open("/dev/full", "wb") as full:
            return subprocess.run(cmd, stdin=subprocess.DEVNULL,
                                  stdout=full if how == "full" else None,
                                  stderr=subprocess.PIPE, text=True, timeout=RUN_TIMEOUT)

    def test_report_not_written(self):
        with FakeServer(ok_handler) as srv:
            for how in self.REASONS:
                for fmt in ([], ["--json"]):
                    with self.subTest(stdout=how, args=fmt):
                        r = self.run_to(how, ["-c", "1", "-n", "10"] + fmt + [srv.url()])
                        self.assertEqual(r.returncode, 1, r.stderr)
                        self.assertIn("pyserve-stress: cannot write the report to standard "
                                      "output: " + self.REASONS[how], r.stderr)

    def test_help_not_written(self):
        for arg, what in (("--help", "help"), ("--version", "version")):
            for how, reason in (("pipe", "Broken pipe"), ("full", "No space left on device")):
                with self.subTest(arg=arg, stdout=how):
                    r = h.run_unwritable([STRESS, arg], how)
                    self.assertEqual(r.returncode, 1, r.stderr)
                    self.assertIn("pyserve-stress: cannot write the %s to standard output: %s"
                                  % (what, reason), r.stderr)


class ManPage(unittest.TestCase):
    """Every option of --help is in the OPTIONS section of pyserve-stress(1)
    and the reverse; the page renders without groff warnings."""

    OPT_RE = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")

    def page(self):
        top = os.environ.get("TOP_SRCDIR")
        if not top:
            self.skipTest("TOP_SRCDIR is not set")
        return os.path.join(top, "man", "pyserve-stress.1")

    def test_options_match_help(self):
        with open(self.page(), encoding="utf-8") as f:
            text = f.read()
        m = re.search(r"^\.SH OPTIONS\n(.*?)^\.SH ", text, re.M | re.S)
        self.assertIsNotNone(m, "no OPTIONS section")
        # the options each .TP entry introduces (the line after .TP)
        entries = re.findall(r"^\.TP\n(.*)$", m.group(1), re.M)
        documented = set()
        for e in entries:
            documented.update(self.OPT_RE.findall(e.replace("\\-", "-")))
        helped = set(self.OPT_RE.findall(run_stress(["--help"]).stdout))
        self.assertTrue(helped, "no options in --help")
        self.assertEqual(documented, helped)
        version = h.package_version()
        if version:
            self.assertIn('"pyserve %s"' % version, text.split("\n", 1)[0])

    def test_renders_cleanly(self):
        if not shutil.which("groff"):
            self.skipTest("groff is not installed")
        r = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", self.page()],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "")


if __name__ == "__main__":
    unittest.main(verbosity=2)
