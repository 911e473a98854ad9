"""`lutf.poll`: waiting on a state that LNet reaches in its own time (a route coming up
after a router check, a peer's health recovering), with a bound and a clear failure::

    from lutf import wait_for, stays

    wait_for("route to tcp1", route_state, "up", timeout=60)
    stays("route to tcp1", route_state, "up", seconds=25)
"""

import time

from .errors import fail

__all__ = ["wait_for", "stays"]


def wait_for(what, get, want, timeout=120, interval=2):
    """Calls `get()` every `interval` seconds until it returns `want` (or, when `want` is
    a function, until ``want(value)`` is true), and returns the value; FAILs naming `what`
    and the last value once `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        got = get()
        if want(got) if callable(want) else got == want:
            return got
        if time.monotonic() > deadline:
            wanted = "" if callable(want) else f", wanted {want!r}"
            fail(f"{what}: still {got!r} after {timeout} s{wanted}")
        time.sleep(interval)


def stays(what, get, want, seconds=25, interval=3):
    """`get()` returns `want` every time it is read for `seconds` (a state that must not
    change, say across two router-check rounds); returns how many reads were made."""
    deadline = time.monotonic() + seconds
    reads = 0
    while time.monotonic() < deadline:
        got = get()
        reads += 1
        if got != want:
            fail(f"{what}: {got!r} after {reads} reads, expected it to stay {want!r}")
        time.sleep(interval)
    return reads
