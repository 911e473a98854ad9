"""The same net on the same interface twice is refused with EEXIST; the first NI stays as it was."""
from lutf import Test, lnet

import common

test = Test(interfaces=1)


@test.step(timeout=300)
def twice(ctx):
    """A second net add tcp on the first interface fails with -EEXIST; one NI remains, up."""
    ifaces = common.start(ctx)
    lnet.add_ni("tcp", [ifaces[0]])
    common.refused(common.EEXIST, "second net add tcp", lnet.add_ni, "tcp", [ifaces[0]])
    ni = common.nis("tcp")
    assert [n["nid"] for n in ni] == [common.nid_of(ctx.node.address)], ni
    assert ni[0]["status"] == "up", ni
    return ni[0]["nid"]


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
