"""NIs across nets: tcp on the first interface, tcp1 on the second and third; each net lists only its own NIs."""
from lutf import Test, lnet

import common

test = Test(interfaces=3)


@test.step(timeout=300)
def two_nets(ctx):
    """tcp over interface 1, tcp1 over interfaces 2 and 3 (two calls): net show per net and in all."""
    i0, i1, i2 = common.start(ctx, 3)[:3]
    lnet.add_ni("tcp", [i0])
    lnet.add_ni("tcp1", [i1, i2])
    want = {
        "tcp": [(common.nid(ctx, i0, "tcp"), i0, "up")],
        "tcp1": sorted((common.nid(ctx, i, "tcp1"), i, "up") for i in (i1, i2)),
    }
    assert common.layout() == want, f"net show -v: {common.layout()}, expected {want}"
    assert common.layout("tcp1") == {"tcp1": want["tcp1"]}, common.layout("tcp1")
    assert common.layout("tcp") == {"tcp": want["tcp"]}, common.layout("tcp")
    assert common.nets() == ["lo", "tcp", "tcp1"], common.nets()
    return want


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
