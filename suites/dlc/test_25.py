"""net show --net lists only that net; for a net not configured liblnetconfig shows nothing and lnetctl fails with ESRCH."""
from lutf import Test, lnet

import common

test = Test(interfaces=2)

ESRCH = -3


@test.step(timeout=300)
def show_filter(ctx):
    """tcp and tcp1 configured; show_net(net=tcp1) gives tcp1's NI only; of tcp9, no net; lnetctl -ESRCH."""
    ifaces = common.start(ctx)
    lnet.add_ni("tcp", [ifaces[0]])
    lnet.add_ni("tcp1", [ifaces[1]])
    only = lnet.show_net(net="tcp1")
    assert common.nets(only) == ["tcp1"], only
    assert common.nids("tcp1") == [common.nid_of(ctx.node.addresses[1], "tcp1")]
    absent = lnet.show_net(net="tcp9") or {}
    assert common.nets(absent) == [], absent
    return common.refused(ESRCH, "lnetctl net show --net tcp9", lnet.lnetctl, "net", "show",
                          "--net", "tcp9")


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
