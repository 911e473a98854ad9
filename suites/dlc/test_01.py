"""An NI added on the node's first interface shows in `net show` with its NID and goes away on delete."""
from lutf import Test, lnet

import common

test = Test(interfaces=1)


@test.step(timeout=300)
def add_show_del(ctx):
    """net add tcp on the first interface; show has address@tcp up; net del leaves lo only."""
    ifaces = common.start(ctx)
    lnet.add_ni("tcp", [ifaces[0]])
    ni = common.nis("tcp")
    assert [n["nid"] for n in ni] == [common.nid_of(ctx.node.address)], ni
    assert ni[0]["status"] == "up", ni
    assert common.nets() == ["lo", "tcp"], common.nets()
    lnet.del_ni("tcp")
    assert common.nets() == ["lo"], common.nets()
    return ni[0]["nid"]


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
