"""Routing turned on shows enabled with router buffers; buffers set show the new counts; a negative count is refused (ERANGE)."""
from lutf import Test, lnet

import common

test = Test()

ERANGE = -34
# Small: the guests have 1 GiB, and a large buffer is 1 MiB per buffer.
WANT = {"tiny": 600, "small": 700, "large": 80}


def buffers():
    return {k: int(v) for k, v in ((lnet.show_routing() or {}).get("buffers") or {}).items()}


# routing show's "enable" is LNet's routing state: 0 disabled, 1 enabled, 2 stopping,
# 3 starting. Routing starts and stops gracefully (after the router checks' interval), so
# right after `set routing` the state is starting or stopping.
ON, OFF = (1, 3), (0, 2)


def enabled(shown):
    return [e["enable"] for e in (shown or {}).get("routing") or [] if "enable" in e]


@test.step(timeout=300)
def saved(ctx):
    """LNet up, routing on; the router buffer counts (from the module's options)."""
    common.start(ctx)
    lnet.set_routing(True)
    counts = buffers()
    assert set(counts) == set(WANT), f"routing show has buffers {counts}"
    assert counts != WANT, f"the buffers already have the test's counts {counts}"
    return counts


@test.step(after=[saved], timeout=300)
def routing_buffers(ctx):
    """routing shows on; set_buffers(600, 700, 80) shows those; tiny=-323 fails with -ERANGE, counts kept."""
    on = enabled(lnet.show_routing())
    assert on and all(e in ON for e in on), f"routing state after routing on: {on}"
    lnet.set_buffers(**WANT)
    assert buffers() == WANT, f"buffers {buffers()}, set {WANT}"
    common.refused(ERANGE, "set tiny_buffers -323", lnet.lnetctl, "set", "tiny_buffers", -323)
    assert buffers() == WANT, buffers()
    lnet.set_routing(False)
    off = enabled(lnet.show_routing())
    assert off and all(e in OFF for e in off), f"routing state after routing off: {off}"
    return WANT


@test.cleanup(after=[saved], timeout=300)
def down(ctx):
    """Routing off, buffers restored, LNet unconfigured."""
    before = ctx.results.get("saved")
    try:
        common.restore_routing(before)
    finally:
        common.stop(ctx)
