"""Harness for the black-box tests of pyserved: starts the real daemon on a
pre-bound loopback socket (systemd socket activation, fd 3) with its own
temporary document root and config file, waits for READY=1 on a notify
socket, and speaks raw HTTP/1.1 to it. Standard library only."""

import email.utils
import fcntl
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
import time

DEFAULT_TIMEOUT = 5.0
READY_TIMEOUT = 10.0

# Environment variables the daemon reacts to; the harness decides them for
# every child, whatever the test runner's environment holds.
_CONTROLLED_ENV = ("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "NOTIFY_SOCKET",
                   "JOURNAL_STREAM", "WATCHDOG_USEC", "WATCHDOG_PID")


def _reserve_low_fds():
    """Keep fds 0..4 open for the life of this process. The child gets its
    listening sockets at fds 3 and 4 (dup2'ed in preexec_fn); if one of those
    numbers were free here, subprocess could pick it for its internal error
    pipe and the dup2 would clobber it."""
    while True:
        fd = os.open(os.devnull, os.O_RDWR)
        if fd > 4:
            os.close(fd)
            return


_reserve_low_fds()


# make check-valgrind runs the daemon through tests/integration/valgrind-pyserved
# (REAL_PYSERVED names the binary); the wrapper exits with this status when
# memcheck found an error or a definite leak.
VALGRIND_ERROR_EXIT = 99
VALGRIND = "valgrind" in os.path.basename(os.environ.get("PYSERVED", ""))


def valgrind_report(pid):
    """The memcheck log of process pid (VALGRIND_LOG_DIR/vg.PID.log) when
    it reports an error or a definite leak, else None."""
    d = os.environ.get("VALGRIND_LOG_DIR")
    if not VALGRIND or not d or pid is None:
        return None
    try:
        with open(os.path.join(d, "vg.%d.log" % pid), "rb") as f:
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return None
    if re.search(r"ERROR SUMMARY: [1-9]|definitely lost: [1-9]", text):
        return text
    return None


def pyserved_path():
    """Path of the daemon under test, or exit 77 (automake SKIP)."""
    path = os.environ.get("PYSERVED")
    if not path:
        sys.stderr.write("PYSERVED is not set: skipping (run through make check "
                         "or set PYSERVED=/path/to/pyserved)\n")
        sys.exit(77)
    if not os.access(path, os.X_OK):
        sys.stderr.write("PYSERVED=%s is not an executable file\n" % path)
        sys.exit(99)
    return path


def package_version():
    """The version from configure.ac's AC_INIT, or None if not found."""
    top = os.environ.get("TOP_SRCDIR")
    if not top:
        return None
    try:
        with open(os.path.join(top, "configure.ac"), encoding="utf-8") as f:
            m = re.search(r"AC_INIT\(\[[^\]]*\],\s*\[([^\]]+)\]", f.read())
    except OSError:
        return None
    return m.group(1) if m else None


def ipv6_loopback_works():
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    except OSError:
        return False
    try:
        s.bind(("::1", 0))
        return True
    except OSError:
        return False
    finally:
        s.close()


def http_date(ts):
    """IMF-fixdate of a POSIX time (RFC 9110 section 5.6.7)."""
    return email.utils.formatdate(ts, usegmt=True)


IMF_FIXDATE_RE = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"\d{4} \d\d:\d\d:\d\d GMT$")


def engine_args(config, args):
    """PYSERVE_TEST_IO_URING=no (or yes) runs every daemon of a test with
    that io_uring setting (tests/integration/test_epoll.sh runs the suite
    under epoll this way), unless the test sets io_uring itself. Under
    valgrind the default is no: memcheck 3.19 keeps every other thread of
    the daemon from running while a worker waits in io_uring_enter(2) (the
    main thread then takes seconds to see a signal), so memcheck checks the
    epoll loop, and the sanitizer builds check the io_uring one."""
    value = os.environ.get("PYSERVE_TEST_IO_URING") or ("no" if VALGRIND else None)
    if not value or "io_uring" in config or any("io_uring=" in a for a in args):
        return []
    return ["--set", "io_uring=" + value]


def child_env_clean():
    """A copy of the environment without the variables the daemon reacts to."""
    env = dict(os.environ)
    for k in _CONTROLLED_ENV:
        env.pop(k, None)
    return env


def run_unwritable(argv, how, timeout=30.0):
    """Run argv to completion with a standard output it cannot write to:
    how is "pipe" (a pipe whose reader has gone) or "full" (/dev/full).
    Returns a CompletedProcess with text stderr."""
    kw = dict(stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
              errors="replace", timeout=timeout, env=child_env_clean())
    if how == "pipe":
        rd, wr = os.pipe()
        os.close(rd)
        try:
            return subprocess.run(argv, stdout=wr, **kw)
        finally:
            os.close(wr)
    with open("/dev/full", "wb") as full:
        return subprocess.run(argv, stdout=full, **kw)


def run_pyserved(args, timeout=10.0, env_extra=None):
    """Run pyserved to completion (for --help, --check-config...). Returns a
    CompletedProcess with text stdout/stderr. Raises on timeout (after
    killing it)."""
    env = child_env_clean()
    if env_extra:
        env.update(env_extra)
    argv = [pyserved_path()] + list(args)
    with subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, errors="replace",
                          env=env) as proc:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise
    if VALGRIND and proc.returncode == VALGRIND_ERROR_EXIT:
        raise ServerError("memcheck found errors in pyserved %s (exit %d):\n%s"
                          % (" ".join(args), proc.returncode,
                             (valgrind_report(proc.pid) or err)[-6000:]))
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


def format_config(config):
    """Config text from a dict: value, or a list for a repeatable key
    (one line each). None values are left out."""
    lines = ["# written by the pyserve test harness"]
    for key, value in config.items():
        if value is None:
            continue
        values = value if isinstance(value, (list, tuple)) else [value]
        for v in values:
            lines.append("%s = %s" % (key, v))
    return "\n".join(lines) + "\n"



# Lines a sanitizer runtime prints; their presence in the daemon's stderr
# fails the test that started it.
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                   "WARNING: ThreadSanitizer", "SUMMARY: UndefinedBehaviorSanitizer")

class ServerError(Exception):
    pass


class Server:
    """One pyserved process with its own temporary directory:
        BASE/root/      document root (self.root)
        BASE/pyserve.conf
        BASE/notify     NOTIFY_SOCKET
        BASE/stderr.log
    Files outside the root (for symlink tests) can go to BASE (self.base).

    activation=True: a listening socket on 127.0.0.1:0 (and ::1 if ipv6) is
    made here and handed over as fd 3 (and 4) with LISTEN_FDS/LISTEN_PID.
    activation=False: the daemon binds itself (pass --listen in args); read
    the port with port_from_log().
    wrapper: an argv prefix that ends by exec'ing the daemon in the same
    process (so that LISTEN_PID still names it), e.g. unshare(1).
    hold_listener=True: the test keeps its copy of the IPv4 listening socket
    (self.listener), as systemd does, so that connections still queued when
    the daemon exits wait there for the next process.
    extra_listeners=N: N more IPv4 listening sockets after those, each on
    its own port (self.extra_ports); the test's RLIMIT_NOFILE must allow them."""

    def __init__(self, config=None, args=(), *, activation=True, ipv6=False, notify=True,
                 files=None, ready_timeout=READY_TIMEOUT, env=None, wrapper=(),
                 hold_listener=False, extra_listeners=0):
        self.exe = pyserved_path()
        self.base = tempfile.mkdtemp(prefix="pyserve-test-")
        self.root = os.path.join(self.base, "root")
        os.mkdir(self.root)
        self.conf_path = os.path.join(self.base, "pyserve.conf")
        self.stderr_path = os.path.join(self.base, "stderr.log")
        self.config = dict(config or {})
        self.args = list(args)
        self.extra_env = dict(env or {})
        self.wrapper = list(wrapper)
        self.activation = activation
        self.ipv6 = ipv6
        self.notify = notify
        self.ready_timeout = ready_timeout
        self.proc = None
        self.host = "127.0.0.1"
        self.port = None
        self.port6 = None
        self._listen_socks = []
        self.hold_listener = hold_listener
        self.extra_listeners = extra_listeners
        self.extra_ports = []
        self.listener = None
        self._notify_sock = None
        self._notify_msgs = []
        self._notify_pos = 0
        self._stderr_file = None
        self.returncode = None
        for rel, data in (files or {}).items():
            self.write_file(rel, data)

    # --- files -------------------------------------------------------------
    def path(self, rel):
        return os.path.join(self.root, rel)

    def write_file(self, rel, data, mtime=None):
        """Write data (bytes or str) at root/rel, making parent directories."""
        p = self.path(rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        if isinstance(data, str):
            data = data.encode("utf-8")
        with open(p, "wb") as f:
            f.write(data)
        if mtime is not None:
            os.utime(p, (mtime, mtime))
        return p

    def mkdir(self, rel):
        p = self.path(rel)
        os.makedirs(p, exist_ok=True)
        return p

    def write_config(self, config=None):
        """Rewrite the config file; root is added unless the dict has it
        (root=None leaves it out)."""
        if config is not None:
            self.config = dict(config)
        cfg = dict(self.config)
        if "root" not in cfg:
            cfg = {"root": self.root, **cfg}
        self.write_config_text(format_config(cfg))

    def write_config_text(self, text):
        tmp = self.conf_path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, self.conf_path)

    # --- process -----------------------------------------------------------
    def start(self, wait_ready=True):
        try:
            self._start(wait_ready)
        except BaseException:
            self.close()
            raise
        return self

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None and self._stderr_file is not None:
            sys.stderr.write("--- pyserved stderr (%s) ---\n%s--- end ---\n"
                             % (self.base, self.stderr_text()))
        self.close()
        return False

    def _start(self, wait_ready):
        if not os.path.exists(self.conf_path):
            self.write_config()
        env_set = dict(self.extra_env)
        fds = []
        if self.activation:
            s4 = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s4.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s4.bind(("127.0.0.1", 0))
            s4.listen(1024)
            self._listen_socks.append(s4)
            self.port = s4.getsockname()[1]
            if self.ipv6:
                s6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
                s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                s6.bind(("::1", 0))
                s6.listen(1024)
                self._listen_socks.append(s6)
                self.port6 = s6.getsockname()[1]
            self.extra_ports = []
            for _ in range(self.extra_listeners):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.bind(("127.0.0.1", 0))
                s.listen(16)
                self._listen_socks.append(s)
                self.extra_ports.append(s.getsockname()[1])
            fds = [s.fileno() for s in self._listen_socks]
            env_set["LISTEN_FDS"] = str(len(fds))
        if self.notify:
            self._notify_sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            npath = os.path.join(self.base, "notify")
            self._notify_sock.bind(npath)
            env_set["NOTIFY_SOCKET"] = npath
        self._stderr_file = open(self.stderr_path, "wb")

        activation = self.activation

        def preexec():
            # Runs in the child between fork and exec. Move the listening
            # sockets to 3, 4... (via temporaries above them all, in case a
            # source fd is one of those), then LISTEN_PID = our own pid,
            # which is the daemon's after exec. env=None below makes exec
            # use this process's (modified) environment.
            tmp = [fcntl.fcntl(fd, fcntl.F_DUPFD, max(100, 3 + len(fds))) for fd in fds]
            for i, fd in enumerate(tmp):
                os.dup2(fd, 3 + i, inheritable=True)
                os.close(fd)
            for k in _CONTROLLED_ENV:
                os.environ.pop(k, None)
            for k, v in env_set.items():
                os.environ[k] = v
            if activation:
                os.environ["LISTEN_PID"] = str(os.getpid())

        argv = self.wrapper + [self.exe, "-c", self.conf_path] + self.args + engine_args(
            self.config, self.args)
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self._stderr_file,
                                     stderr=self._stderr_file, env=None, preexec_fn=preexec,
                                     pass_fds=tuple(range(3, 3 + len(fds))))
        # The daemon has its own copies now; dropping ours means a connection
        # after the daemon exited is refused instead of queued forever.
        if self.hold_listener and self._listen_socks:
            self.listener = self._listen_socks.pop(0)
        for s in self._listen_socks:
            s.close()
        self._listen_socks = []
        if wait_ready:
            if self.notify:
                self.wait_notify("READY=1", self.ready_timeout)
            if not self.activation:
                pass  # the caller reads the port from the log

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def send_signal(self, sig):
        if self.alive():
            os.kill(self.proc.pid, sig)

    def reload(self):
        self.send_signal(signal.SIGHUP)

    def wait_exit(self, timeout=10.0):
        """Wait (bounded) for the process to exit; returns its exit code or
        raises ServerError on timeout."""
        try:
            self.returncode = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise ServerError("pyserved (pid %d) still running after %.1f s"
                              % (self.proc.pid, timeout)) from None
        return self.returncode

    def stop(self, timeout=10.0, sig=signal.SIGTERM):
        """SIGTERM (or sig) and wait, bounded. Returns the exit code."""
        if self.proc is None:
            raise ServerError("not started")
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
        return self.wait_exit(timeout)

    def close(self):
        """Stop the process if it still runs (SIGTERM, then SIGKILL after a
        bound), remove the temp dir, and fail when the daemon's stderr holds
        a sanitizer report (ASan/UBSan/LSan/TSan builds run this suite too;
        a graceful exit is what lets LeakSanitizer report)."""
        report = None
        try:
            if self.proc is not None and self.proc.poll() is None:
                try:
                    self.proc.terminate()
                    # memcheck's leak scan at exit takes its time on a slow,
                    # shared machine; a kill would lose its report
                    self.proc.wait(timeout=60 if VALGRIND else 10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    try:
                        self.proc.wait(timeout=10)
                    except subprocess.TimeoutExpired:
                        pass
                except ProcessLookupError:
                    pass
            if self._stderr_file is not None:
                text = self.stderr_text()
                if any(m in text for m in SANITIZER_MARKS):
                    report = text
            if VALGRIND and self.proc is not None:
                # Memcheck reports at exit: through the exit status, and in
                # VALGRIND_LOG_DIR/vg.PID.log (or the daemon's stderr).
                vg = valgrind_report(self.proc.pid)
                if self.proc.returncode == VALGRIND_ERROR_EXIT or vg:
                    report = "memcheck (exit %r):\n%s" % (self.proc.returncode,
                                                          vg or self.stderr_text())
        finally:
            for s in self._listen_socks:
                s.close()
            self._listen_socks = []
            if self.listener is not None:
                self.listener.close()
                self.listener = None
            if self._notify_sock is not None:
                self._notify_sock.close()
                self._notify_sock = None
            if self._stderr_file is not None:
                self._stderr_file.close()
                self._stderr_file = None
            if self.base and os.path.isdir(self.base):
                shutil.rmtree(self.base, ignore_errors=True)
        if report:
            raise ServerError("sanitizer or memcheck report from pyserved:\n" + report[-6000:])

    # --- notify socket -------------------------------------------------------
    def wait_notify(self, item, timeout=10.0):
        """Wait for a notification datagram (after the last one this method
        returned) that has item ("READY=1") as one of its lines. Returns the
        whole datagram text. Raises ServerError on timeout or if the daemon
        exits first."""
        if self._notify_sock is None:
            raise ServerError("no notify socket")
        deadline = time.monotonic() + timeout
        while True:
            while self._notify_pos < len(self._notify_msgs):
                msg = self._notify_msgs[self._notify_pos]
                self._notify_pos += 1
                if item in msg.split("\n"):
                    return msg
            left = deadline - time.monotonic()
            if left <= 0:
                raise ServerError("no %r notification within %.1f s; got %r; stderr:\n%s"
                                  % (item, timeout, self._notify_msgs, self.stderr_text()))
            if readable(self._notify_sock, min(left, 0.1)):
                data = self._notify_sock.recv(65536)
                self._notify_msgs.append(data.decode("utf-8", "replace"))
            elif not self.alive():
                # Drain what was sent before the exit, then give up.
                if not readable(self._notify_sock, 0):
                    raise ServerError("pyserved exited (status %r) while waiting for %r; "
                                      "stderr:\n%s" % (self.proc.returncode, item,
                                                       self.stderr_text()))

    def notifications(self):
        """Every datagram received so far (reading what is pending first)."""
        if self._notify_sock is not None:
            while readable(self._notify_sock, 0):
                self._notify_msgs.append(self._notify_sock.recv(65536).decode("utf-8", "replace"))
        return list(self._notify_msgs)

    # --- log -----------------------------------------------------------------
    def stderr_text(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_mark(self):
        """Current length of the log, for wait_for_log(since=...)."""
        return len(self.stderr_text())

    def wait_for_log(self, regex, timeout=5.0, since=0):
        """Poll stderr (bounded) until regex matches (multiline); returns the
        match. Raises ServerError on timeout."""
        rx = re.compile(regex, re.M)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.stderr_text(), since)
            if m:
                return m
            if time.monotonic() >= deadline:
                raise ServerError("log did not match %r within %.1f s; stderr:\n%s"
                                  % (regex, timeout, self.stderr_text()))
            time.sleep(0.02)

    def port_from_log(self, host_regex=r"127\.0\.0\.1", timeout=5.0):
        m = self.wait_for_log(r"listening on %s:(\d+)\s*$" % host_regex, timeout)
        return int(m.group(1))

    # --- client side -----------------------------------------------------------
    def connect(self, timeout=DEFAULT_TIMEOUT, ipv6=False, rcvbuf=None):
        if ipv6:
            return connect(("::1", self.port6), timeout, family=socket.AF_INET6, rcvbuf=rcvbuf)
        return connect((self.host, self.port), timeout, rcvbuf=rcvbuf)

    def get(self, target, method="GET", headers=None, timeout=DEFAULT_TIMEOUT):
        """One request on a new connection (Connection: close); returns the
        response."""
        c = self.connect(timeout)
        try:
            hdrs = {"Connection": "close"}
            hdrs.update(headers or {})
            request(c, build_request(method, target, headers=hdrs))
            return read_response(c, head_only_for_HEAD=(method == "HEAD"))
        finally:
            c.close()


# --- raw HTTP client ----------------------------------------------------------

class PeerClosed(Exception):
    """The server closed the connection where a response was expected."""


class ProtocolError(Exception):
    """The server sent something that is not valid HTTP/1.1."""


class Conn:
    """A client socket with a read buffer (responses may arrive together)."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray()
        self.eof = False

    def fileno(self):
        return self.sock.fileno()

    def settimeout(self, t):
        self.sock.settimeout(t)

    def sendall(self, data):
        self.sock.sendall(data)

    def close(self):
        self.sock.close()

    def abort(self):
        """Close with a TCP RST (SO_LINGER 0)."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    def _fill(self):
        """Read once into buf; False at EOF (or reset)."""
        if self.eof:
            return False
        try:
            data = self.sock.recv(262144)
        except ConnectionResetError:
            data = b""
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def read_head(self):
        while True:
            i = self.buf.find(b"\r\n\r\n")
            if i >= 0:
                head = bytes(self.buf[:i + 4])
                del self.buf[:i + 4]
                return head
            if not self._fill():
                if self.buf:
                    raise ProtocolError("connection closed inside a response head: %r"
                                        % bytes(self.buf[:200]))
                raise PeerClosed("connection closed before a response")

    def read_exact(self, n):
        while len(self.buf) < n:
            if not self._fill():
                raise ProtocolError("connection closed after %d of %d body bytes"
                                    % (len(self.buf), n))
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def read_to_close(self, deadline):
        while time.monotonic() < deadline:
            if not self._fill():
                data = bytes(self.buf)
                self.buf.clear()
                return data
        raise ProtocolError("no end of a read-to-close body in time")


def readable(sock, timeout):
    """Whether sock has something to read (or is closed) within timeout
    seconds; poll(2), which unlike select takes any descriptor number."""
    p = select.poll()
    p.register(sock, select.POLLIN)
    return bool(p.poll(max(0.0, timeout) * 1000.0))


def connect(addr, timeout=DEFAULT_TIMEOUT, family=socket.AF_INET, rcvbuf=None):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if rcvbuf is not None:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    try:
        s.connect(addr)
    except BaseException:
        s.close()
        raise
    return Conn(s)


def build_request(method, target, version="HTTP/1.1", host="localhost", headers=None,
                  body=b""):
    """Request bytes; headers is a dict or a list of (name, value) pairs.
    host=None leaves Host out."""
    lines = ["%s %s %s" % (method, target, version)]
    if host is not None:
        lines.append("Host: %s" % host)
    items = headers.items() if isinstance(headers, dict) else (headers or [])
    for k, v in items:
        lines.append("%s: %s" % (k, v))
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + body


def request(conn, raw):
    conn.sendall(raw)


class Response:
    def __init__(self, version, status, reason, headers, raw_head):
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers  # list of (name, value) in order, names as sent
        self.raw_head = raw_head
        self.body = b""

    def get_all(self, name):
        n = name.lower()
        return [v for k, v in self.headers if k.lower() == n]

    def get(self, name, default=None):
        """The value of a field that must appear at most once."""
        vals = self.get_all(name)
        if len(vals) > 1:
            raise ProtocolError("field %s repeated: %r" % (name, vals))
        return vals[0] if vals else default

    def has(self, name):
        return bool(self.get_all(name))

    def connection_tokens(self):
        toks = set()
        for v in self.get_all("Connection"):
            toks.update(t.strip().lower() for t in v.split(",") if t.strip())
        return toks

    def __repr__(self):
        return "<Response %d %r %r body=%d bytes>" % (self.status, self.reason, self.headers,
                                                    len(self.body))


_STATUS_RE = re.compile(rb"^(HTTP/\d\.\d) (\d{3}) ([^\r\n]*)$")
_FIELD_RE = re.compile(rb"^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$")


def read_response(conn, head_only_for_HEAD=False, timeout=None):
    """Read one response from conn. Body framing: none for HEAD
    (head_only_for_HEAD=True), 1xx, 204 and 304; Content-Length; else read
    until the server closes. Raises PeerClosed if the connection is closed
    before any byte of a response, ProtocolError on malformed output, and
    socket.timeout if the server is silent."""
    if timeout is not None:
        conn.settimeout(timeout)
    head = conn.read_head()
    lines = head[:-4].split(b"\r\n")
    m = _STATUS_RE.match(lines[0])
    if not m:
        raise ProtocolError("bad status line %r" % lines[0])
    headers = []
    for line in lines[1:]:
        fm = _FIELD_RE.match(line)
        if not fm:
            raise ProtocolError("bad header line %r" % line)
        headers.append((fm.group(1).decode("ascii"), fm.group(2).decode("latin-1")))
    resp = Response(m.group(1).decode(), int(m.group(2)), m.group(3).decode("latin-1"),
                    headers, head)
    if head_only_for_HEAD or resp.status < 200 or resp.status in (204, 304):
        return resp
    cl = resp.get("Content-Length")
    if cl is not None:
        if not cl.isdigit():
            raise ProtocolError("bad Content-Length %r" % cl)
        resp.body = conn.read_exact(int(cl))
    elif resp.has("Transfer-Encoding"):
        raise ProtocolError("unexpected Transfer-Encoding in %r" % head)
    else:
        resp.body = conn.read_to_close(time.monotonic() + 30)
    return resp


def wait_closed(conn, timeout=3.0):
    """Wait until the peer closes conn (EOF or reset), bounded. Returns the
    bytes that arrived before the close (including what was buffered);
    raises AssertionError if the connection is still open at the deadline."""
    deadline = time.monotonic() + timeout
    data = bytearray(conn.buf)
    conn.buf.clear()
    if conn.eof:
        return bytes(data)
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("connection still open after %.1f s (got %d bytes: %r)"
                                 % (timeout, len(data), bytes(data[:200])))
        conn.settimeout(left)
        try:
            chunk = conn.sock.recv(262144)
        except socket.timeout:
            continue
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            conn.eof = True
            return bytes(data)
        data += chunk


def is_closed_now(conn, wait=0.0):
    """True if the peer has closed conn (EOF/reset visible within wait
    seconds), False if it is open with nothing to read. Data that arrives is
    kept in conn.buf."""
    if conn.eof:
        return True
    if not readable(conn.sock, wait):
        return False
    return not conn._fill()


def fd_targets(pid):
    """What each of the process's descriptors names ("socket:[INODE]", a
    path...); descriptors closed while they are listed are skipped."""
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            yield os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            pass  # closed meanwhile


def cpu_seconds(pid):
    """User plus system CPU time the process has used (all its threads)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def socket_count(pid):
    """Sockets the process holds (its listening socket included). Files are
    not counted: the open-file cache keeps some open on purpose."""
    return sum(t.startswith("socket:") for t in fd_targets(pid))


def holds_connection(pid, peer_port):
    """Whether the process holds a TCP socket whose peer's port is
    peer_port (a connection from this machine's client socket)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if int(fields[2].rsplit(":", 1)[1], 16) == peer_port and fields[9] != "0":
                inodes.add("socket:[%s]" % fields[9])
    return bool(inodes) and any(t in inodes for t in fd_targets(pid))


def poll_until(pred, timeout, interval=0.02):
    """Call pred() until it returns a true value or timeout passes; returns
    the last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


def main_with_skip():
    """Entry point shared by the test files: exit 77 without PYSERVED,
    otherwise unittest's exit status."""
    import unittest
    pyserved_path()
    unittest.main(verbosity=2)
