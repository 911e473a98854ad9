"""One interface on two nets: tcp1 over interfaces 1-2 and tcp2 over 2-3 give four NIs; deleting the shared interface's tcp1 NI keeps its tcp2 NI."""
from lutf import Test, lnet

import common

test = Test(interfaces=3)


@test.step(timeout=300)
def overlap(ctx):
    """tcp1 = {if1, if2}, tcp2 = {if2, if3}: if2 has a NID on each net; net del tcp1 --if if2 leaves tcp2's."""
    i0, i1, i2 = common.start(ctx, 3)[:3]
    lnet.add_ni("tcp1", [i0, i1])
    lnet.add_ni("tcp2", [i1, i2])
    want = {
        "tcp1": sorted((common.nid(ctx, i, "tcp1"), i, "up") for i in (i0, i1)),
        "tcp2": sorted((common.nid(ctx, i, "tcp2"), i, "up") for i in (i1, i2)),
    }
    assert common.layout() == want, f"net show -v: {common.layout()}, expected {want}"
    lnet.del_ni("tcp1", [i1])
    want["tcp1"] = [(common.nid(ctx, i0, "tcp1"), i0, "up")]
    assert common.layout() == want, f"after net del tcp1 {i1}: {common.layout()}, expected {want}"
    return want


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
