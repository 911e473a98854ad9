"""`lutf.logs`: what a node says about a failed test, and per-test Lustre debug masks.

When a test FAILs, the master has every node it used collect, in the test's last cleanup:
the Lustre debug log (``lctl dk``, where lctl exists), the kernel log since the test began,
``journalctl -k`` since then (where journalctl exists) and the names of crash dumps newer
than the test. They are stored beside the test's log with auster's names:
``<suite>.test_<id>.debug_log.<host>.<epoch>.log``, ``<suite>.test_<id>.dmesg.<host>.<epoch>.log``
(and ``.journal.``), linked from report.html.

A test sets Lustre's debug mask for its duration with ``Test(debug="+net")`` (any value
``lctl set_param debug=`` takes); the mask before is restored after the test.
"""

import glob
import os
import time

from . import process

__all__ = ["collect", "kernel_log_since", "set_debug", "restore_debug", "LIMIT"]

#: The most characters kept of each log (its end: the failure is near the end).
LIMIT = 2 * 1024 * 1024

_CRASH_DIRS = ("/var/crash", "/var/lib/systemd/coredump")


def _tail(text, limit=LIMIT):
    if len(text) <= limit:
        return text
    return f"[lutf: the first {len(text) - limit} characters were left out]\n" + text[-limit:]


def _which(name):
    for d in (os.environ.get("PATH", "") + ":/usr/sbin:/sbin:/usr/bin:/bin").split(":"):
        if d and os.access(os.path.join(d, name), os.X_OK):
            return os.path.join(d, name)
    return None


def kernel_log_since(text, since, uptime, now):
    """The lines of `dmesg` output `text` (``[seconds since boot] ...``) from epoch `since`
    on, given the uptime at epoch `now`."""
    boot = now - uptime
    out = []
    keep = False
    for line in text.splitlines():
        if not keep and line.startswith("["):
            try:
                stamp = float(line[1:line.index("]")].strip())
            except ValueError:
                stamp = None
            if stamp is not None and boot + stamp >= since - 1:
                keep = True
        if keep:
            out.append(line)
    return "\n".join(out) + ("\n" if out else "")


def collect(since):
    """The logs of this node since epoch `since`: ``{"debug_log", "dmesg", "journal",
    "crash_dumps", "missing"}`` (a log that could not be read is left out and its reason is
    in ``missing``)."""
    out = {"crash_dumps": [], "missing": {}}
    lctl = _which("lctl")
    if lctl and os.path.isdir("/sys/module/libcfs"):
        r = process.run([lctl, "dk"], check=False, quiet=True, timeout=120)
        if r.ok:
            out["debug_log"] = _tail(r.stdout)
        else:
            out["missing"]["debug_log"] = (r.stderr or r.stdout).strip()[-300:]
    else:
        out["missing"]["debug_log"] = "no lctl or Lustre not loaded"
    r = process.run(["dmesg"], check=False, quiet=True, timeout=60)
    if r.ok:
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
        out["dmesg"] = _tail(kernel_log_since(r.stdout, since, uptime, time.time()))
    else:
        out["missing"]["dmesg"] = (r.stderr or "dmesg failed").strip()[-300:]
    if _which("journalctl"):
        r = process.run(["journalctl", "-k", "--no-pager", "--since", f"@{int(since)}"],
                        check=False, quiet=True, timeout=60)
        if r.ok:
            out["journal"] = _tail(r.stdout)
        else:
            out["missing"]["journal"] = (r.stderr or "journalctl failed").strip()[-300:]
    for d in _CRASH_DIRS:
        for path in glob.glob(os.path.join(d, "*")):
            try:
                if os.stat(path).st_mtime >= since:
                    out["crash_dumps"].append(path)
            except OSError:
                pass
    return out


def set_debug(mask):
    """Sets Lustre's debug mask (``lctl set_param debug=MASK``); returns the mask before."""
    before = process.run(["lctl", "get_param", "-n", "debug"]).strip()
    process.run(["lctl", "set_param", f"debug={mask}"])
    return before


def restore_debug(before):
    """Puts back a mask `set_debug` returned."""
    process.run(["lctl", "set_param", f"debug={before}"])
