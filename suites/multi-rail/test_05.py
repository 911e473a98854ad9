"""NI refusals: an NI already there, an interface the net lacks, a net not configured and an unknown interface are refused with LNet's errno; nothing changes.

liblnetconfig checks an interface name itself ("couldn't query intf", EINVAL) before the
kernel sees it."""
from lutf import Test, lnet

import common

test = Test(interfaces=3)


@test.step(timeout=300)
def ni_refusals(ctx):
    """tcp over interfaces 1-2; add tcp on 1 again, del tcp on 3, del tcp9, add tcp1 on nosuch0: each refused."""
    i0, i1, i2 = common.start(ctx, 3)[:3]
    lnet.add_ni("tcp", [i0, i1])
    out = {
        "add again": common.refused(common.EEXIST, f"net add tcp {i0} twice",
                                    lnet.add_ni, "tcp", [i0]),
        "del other if": common.refused(common.ENOENT, f"net del tcp --if {i2} (not on tcp)",
                                       lnet.del_ni, "tcp", [i2]),
        "del no net": common.refused(common.ENOENT, "net del tcp9 (no such net)",
                                     lnet.del_ni, "tcp9"),
        "unknown if": common.refused(common.EINVAL, "net add tcp1 --if nosuch0",
                                     lnet.add_ni, "tcp1", ["nosuch0"]),
    }
    want = sorted((common.nid(ctx, i), i, "up") for i in (i0, i1))
    assert common.layout() == {"tcp": want}, common.layout()
    return out


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
