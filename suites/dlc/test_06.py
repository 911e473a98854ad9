"""Deleting an NI on an interface the net does not use is refused (liblnetconfig: ENOENT, lnetctl: ENODEV); the NI stays."""
from lutf import Test, lnet

import common

test = Test(interfaces=2)


@test.step(timeout=300)
def del_missing_ni(ctx):
    """tcp on interface 1; deleting tcp on interface 2 fails; interface 1's NI stays."""
    ifaces = common.start(ctx)
    lnet.add_ni("tcp", [ifaces[0]])
    what = f"net del tcp --if {ifaces[1]}"
    lib = common.refused(common.ENOENT, what, lnet.del_ni, "tcp", [ifaces[1]])
    cli = common.refused(common.ENODEV, "lnetctl " + what, lnet.lnetctl, "net", "del",
                         "--net", "tcp", "--if", ifaces[1])
    assert common.nids("tcp") == [common.nid_of(ctx.node.addresses[0])], common.nids("tcp")
    return {"liblnetconfig": lib, "lnetctl": cli}


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
