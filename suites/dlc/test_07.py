"""A net on two interfaces has an NI on each; deleting one interface's NI keeps the other."""
from lutf import Test, lnet

import common

test = Test(interfaces=2)


@test.step(timeout=300)
def two_nis(ctx):
    """tcp on interfaces 1 and 2 shows both NIDs; net del --if 2 leaves interface 1's NID."""
    ifaces = common.start(ctx)
    first, second = ctx.node.addresses[0], ctx.node.addresses[1]
    lnet.add_ni("tcp", ifaces[:2])
    both = common.nids("tcp")
    assert both == sorted([common.nid_of(first), common.nid_of(second)]), both
    lnet.del_ni("tcp", [ifaces[1]])
    left = common.nids("tcp")
    assert left == [common.nid_of(first)], left
    return {"both": both, "left": left}


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
