#!/usr/bin/env python3
"""Documentation test: keeps the man pages and the sample configuration in
step with the code.

- every key of the table in src/pyserved/conf.c is a bold .TP entry of
  pyserve.conf(5) and a "key =" or "#key =" line of etc/pyserve.conf, and
  neither documents a key the table does not have;
- every option "pyserved --help" prints is in the OPTIONS section of
  pyserved(8), spelled the same way, and the reverse;
- the version in each man page's .TH line is the one "pyserved --version"
  prints;
- the man pages render without warnings (groff -ww);
- etc/pyserve.conf passes --check-config as shipped and with every
  commented-out default enabled.

Stdlib only. Environment: PYSERVED (the binary; the test is skipped with
status 77 when unset) and TOP_SRCDIR (the source tree). Exit 0 pass, 1 fail.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

SKIP = 77
TIMEOUT = 30  # seconds for any one command

# An entry of the key table in conf.c: {"root", CONF_T_PATH, ...
KEY_ENTRY_RE = re.compile(r'^\s*\{\s*"([a-z_]+)",\s*CONF_T_', re.M)
MIN_KEYS = 10
LONG_OPT_RE = re.compile(r"--[a-z][a-z-]+")
# A commented-out setting has no space after '#'; prose comments have one.
ETC_SETTING_RE = re.compile(r"^[ \t]*(#?)([a-z_]+)[ \t]*=(.*)$")

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg, flush=True)


def note(msg):
    print(msg, flush=True)


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def roff_plain(text):
    """The words of a roff line or fragment: font changes and the escapes
    the pages use removed or replaced by what they print."""
    text = re.sub(r"\\f(\[[^\]]*\]|\(..|.)", "", text)
    for esc, plain in (
        (r"\-", "-"),
        (r"\(dq", '"'),
        (r"\(->", "->"),
        (r"\(em", "-"),
        (r"\(en", "-"),
        (r"\ ", " "),
        (r"\~", " "),
        (r"\&", ""),
        (r"\e", "\\"),
    ):
        text = text.replace(esc, plain)
    return text


def macro_words(line):
    """Arguments of a macro line (.B, .BR, .BI ...) joined as printed; a
    text line is returned as is."""
    if not line.startswith("."):
        return roff_plain(line)
    parts = re.findall(r'"((?:[^"]|"")*)"|(\S+)', line)
    args = [q.replace('""', '"') if q or not u else u for q, u in parts][1:]
    macro = line.split()[0]
    # .B and .I join their arguments with spaces; the alternating macros
    # (.BR .BI .IR ...) without.
    sep = " " if macro in (".B", ".I", ".SM", ".SB") else ""
    return roff_plain(sep.join(args))


def is_bold_tag(line):
    return bool(re.match(r"^\.(B|BI|BR)\s", line)) or line.startswith(r"\fB")


def man_sections(text):
    """{section name: [lines]} of a man page, comments dropped."""
    sections = {}
    current = None
    for line in text.splitlines():
        if line.startswith('.\\"') or line.startswith("'\\\""):
            continue
        m = re.match(r'^\.SH\s+"?([^"]*)"?\s*$', line)
        if m:
            current = m.group(1).strip()
            sections.setdefault(current, [])
            continue
        if current is not None:
            sections[current].append(line)
    return sections


def tp_tags(lines):
    """The tag line (raw) of every .TP entry in lines."""
    tags = []
    for i, line in enumerate(lines):
        if re.match(r"^\.TP\b", line) and i + 1 < len(lines):
            tags.append(lines[i + 1])
    return tags


def th_version(text):
    m = re.search(r'^\.TH\s.*"pyserve ([0-9][0-9.]*)"', text, re.M)
    return m.group(1) if m else None


def run(cmd, env):
    try:
        p = subprocess.run(
            cmd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            timeout=TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        fail("%s did not finish within %ds" % (" ".join(cmd), TIMEOUT))
        return None
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def clean_env():
    """Our environment without what would make pyserved take over sockets
    or talk to a service manager."""
    env = dict(os.environ)
    for name in ("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "NOTIFY_SOCKET", "JOURNAL_STREAM",
                 "WATCHDOG_USEC", "WATCHDOG_PID"):
        env.pop(name, None)
    return env


def config_keys(top):
    path = os.path.join(top, "src", "pyserved", "conf.c")
    keys = KEY_ENTRY_RE.findall(read(path))
    unique = list(dict.fromkeys(keys))
    if len(unique) != len(keys):
        fail("conf.c: key table lists a key twice: %s" % sorted({k for k in keys if keys.count(k) > 1}))
    if len(unique) < MIN_KEYS:
        fail(
            "conf.c: found %d keys with %s, expected at least %d (did the table format change?)"
            % (len(unique), KEY_ENTRY_RE.pattern, MIN_KEYS)
        )
    return unique


def check_conf_man(top, keys):
    path = os.path.join(top, "man", "pyserve.conf.5")
    sections = man_sections(read(path))
    documented = {}  # key -> section
    for name, lines in sections.items():
        for tag in tp_tags(lines):
            if not is_bold_tag(tag):
                continue
            m = re.match(r"^([a-z_]+)\b", macro_words(tag).strip())
            if m:
                documented.setdefault(m.group(1), name)
    for key in keys:
        if key not in documented:
            fail("man/pyserve.conf.5: key %r has no bold .TP entry" % key)
    if "KEYS" not in sections:
        fail("man/pyserve.conf.5: no KEYS section")
        return
    for key, name in sorted(documented.items()):
        if name == "KEYS" and key not in keys:
            fail("man/pyserve.conf.5: documents key %r which conf.c does not have" % key)


def check_etc(top, keys):
    path = os.path.join(top, "etc", "pyserve.conf")
    present = set()
    for n, line in enumerate(read(path).splitlines(), 1):
        m = ETC_SETTING_RE.match(line)
        if not m:
            continue
        key = m.group(2)
        present.add(key)
        if key not in keys:
            fail("etc/pyserve.conf:%d: %r is not a key of conf.c" % (n, key))
    for key in keys:
        if key not in present:
            fail("etc/pyserve.conf: key %r is missing (neither 'key =' nor '#key =')" % key)


def check_etc_accepted(top, pyserved, env):
    path = os.path.join(top, "etc", "pyserve.conf")
    with tempfile.TemporaryDirectory(prefix="pyserve-docs-") as tmp:
        root = os.path.join(tmp, "www")
        os.mkdir(root)
        cmd = [pyserved, "-c", path, "-o", "root=" + root, "--check-config"]
        r = run(cmd, env)
        if r is not None and r[0] != 0:
            fail("%s exited %d: %s" % (" ".join(cmd), r[0], r[2].strip()))

        # The same file with every "#key = default" line enabled: the
        # defaults it shows must be values the daemon accepts.
        enabled = []
        count = 0
        for line in read(path).splitlines():
            m = ETC_SETTING_RE.match(line)
            if m and m.group(1) == "#":
                line = line.lstrip()[1:]
                count += 1
            enabled.append(line)
        if count == 0:
            fail("etc/pyserve.conf: no commented-out '#key = default' lines")
        full = os.path.join(tmp, "all-defaults.conf")
        with open(full, "w", encoding="utf-8") as f:
            f.write("\n".join(enabled) + "\n")
        cmd = [pyserved, "-c", full, "-o", "root=" + root, "--check-config"]
        r = run(cmd, env)
        if r is not None and r[0] != 0:
            fail(
                "etc/pyserve.conf with its %d commented-out defaults enabled is refused (exit %d): %s"
                % (count, r[0], r[2].strip())
            )


def help_option_specs(help_text):
    """{"--config": "-c, --config=FILE", ...} from the option lines of
    --help: the text before the description column."""
    specs = {}
    for line in help_text.splitlines():
        m = re.match(r"^\s+(-.*?)(?:\s{2,}|$)", line)
        if not m:
            continue
        spec = m.group(1).strip()
        longs = LONG_OPT_RE.findall(spec)
        if longs:
            specs[longs[0]] = spec
    return specs


def check_options(top, pyserved, env):
    path = os.path.join(top, "man", "pyserved.8")
    text = read(path)
    r = run([pyserved, "--help"], env)
    if r is None:
        return
    rc, out, err = r
    if rc != 0:
        fail("pyserved --help exited %d: %s" % (rc, err.strip()))
    help_text = out + err
    mentioned = sorted(set(LONG_OPT_RE.findall(help_text)))
    if "--help" not in mentioned:
        fail("pyserved --help does not mention --help; output was:\n" + help_text)
        return

    plain = "\n".join(roff_plain(line) for line in text.splitlines())
    for opt in mentioned:
        if not re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(opt), plain):
            fail("man/pyserved.8 does not mention %s (printed by --help)" % opt)

    sections = man_sections(text)
    if "OPTIONS" not in sections:
        fail("man/pyserved.8: no OPTIONS section")
        return
    man_specs = {}
    for tag in tp_tags(sections["OPTIONS"]):
        spec = macro_words(tag).strip()
        longs = LONG_OPT_RE.findall(spec)
        if longs:
            man_specs[longs[0]] = spec
    help_specs = help_option_specs(help_text)
    if not help_specs:
        fail("no option lines found in pyserved --help output:\n" + help_text)
    for opt, spec in sorted(help_specs.items()):
        if opt not in man_specs:
            fail("man/pyserved.8 OPTIONS: no entry for %r (printed by --help)" % spec)
        elif man_specs[opt] != spec:
            fail("man/pyserved.8 OPTIONS: entry %r, --help prints %r" % (man_specs[opt], spec))
    for opt, spec in sorted(man_specs.items()):
        if opt not in help_specs:
            fail("man/pyserved.8 OPTIONS: %r is not an option --help prints" % spec)


def check_versions(top, pyserved, env):
    r = run([pyserved, "--version"], env)
    if r is None:
        return
    rc, out, err = r
    m = re.search(r"\b(\d+\.\d+(?:\.\d+)*)\b", out + err)
    if rc != 0 or not m:
        fail("pyserved --version: exit %d, no version in %r" % (rc, out + err))
        return
    version = m.group(1)
    for page in ("pyserved.8", "pyserve.conf.5"):
        got = th_version(read(os.path.join(top, "man", page)))
        if got != version:
            fail('man/%s: .TH says "pyserve %s", pyserved --version says %s' % (page, got, version))


def check_rendering(top):
    groff = shutil.which("groff")
    if groff is None:
        note("SKIP (groff is not installed): man page rendering not checked")
        return
    for page in ("pyserved.8", "pyserve.conf.5"):
        path = os.path.join(top, "man", page)
        r = run([groff, "-ww", "-z", "-man", path], clean_env())
        if r is None:
            continue
        rc, _, err = r
        if rc != 0 or err.strip():
            fail("groff -ww -z -man man/%s: exit %d, warnings:\n%s" % (page, rc, err.rstrip()))


def main():
    pyserved = os.environ.get("PYSERVED")
    if not pyserved:
        note("SKIP: PYSERVED is not set (run through make check)")
        return SKIP
    top = os.environ.get("TOP_SRCDIR") or os.path.dirname(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    )
    if not os.access(pyserved, os.X_OK):
        fail("PYSERVED=%s is not an executable file" % pyserved)
        return 1
    env = clean_env()

    keys = config_keys(top)
    note("config keys: %s" % " ".join(keys))
    if len(keys) >= MIN_KEYS:
        check_conf_man(top, keys)
        check_etc(top, keys)
    check_etc_accepted(top, pyserved, env)
    check_options(top, pyserved, env)
    check_versions(top, pyserved, env)
    check_rendering(top)

    if failures:
        note("%d failure(s)" % len(failures))
        return 1
    note("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
