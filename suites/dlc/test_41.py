"""Routing turned back on while it is still stopping is refused with EBUSY; the state stays "stopping"."""
from lutf import Test, lnet

import common

test = Test()

EBUSY = -16
STOPPING = 2  # routing show's "enable": LNet's routing state


def enable():
    return [e["enable"] for e in (lnet.show_routing() or {}).get("routing") or [] if "enable" in e]


@test.step(timeout=300)
def busy_restart(ctx):
    """routing on, then off: state stopping (for a router check interval); routing on again: -EBUSY."""
    common.start(ctx)
    lnet.set_routing(True)
    lnet.set_routing(False)
    assert enable() == [STOPPING], f"routing state after on and off: {enable()}"
    common.refused(EBUSY, "routing on while stopping", lnet.set_routing, True)
    assert enable() == [STOPPING], enable()
    return enable()


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
