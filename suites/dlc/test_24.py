"""Unconfigure is refused with EBUSY while lnet_selftest holds LNet; the nets stay; with it unloaded unconfigure works."""
from lutf import Test, lnet

import common

test = Test(interfaces=1)

EBUSY = -16


@test.step(timeout=300)
def busy(ctx):
    """lnet_selftest loaded: unconfigure fails with -EBUSY, tcp still shown; rmmod it: unconfigure succeeds."""
    ifaces = common.start(ctx)
    lnet.add_ni("tcp", [ifaces[0]])
    ctx.run(["modprobe", "lnet_selftest"])
    try:
        lnet.unconfigure()
    except lnet.LnetError as e:
        assert e.kind == "lnet" and e.errno == EBUSY, f"unconfigure: {e} (errno {e.errno})"
    else:
        ctx.fail("lnet unconfigure succeeded with lnet_selftest loaded")
    assert common.nets() == ["lo", "tcp"], common.nets()
    ctx.run(["rmmod", "lnet_selftest"])
    lnet.unconfigure()
    try:
        lnet.show_net()
    except lnet.LnetError as e:
        assert e.errno == common.ENETDOWN, f"net show after unconfigure: {e}"
    else:
        ctx.fail("net show still answers after lnet unconfigure")
    return "busy, then down"


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
