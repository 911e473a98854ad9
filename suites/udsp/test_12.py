"""Src rules set local priorities (udsp info of `net show -v 4`): a net rule the net priority of its NIs, a NID rule that NI's priority; deleting reverts; a rule for a net added later applies to it."""
from lutf import Test, lnet

import common

test = Test(interfaces=1)


def prio(nid):
    info = common.ni_priorities()[nid]
    return (info["net"], info["nid"])


@test.step(timeout=300)
def local_priorities(ctx):
    """tcp and tcp2 on the first interface; --src tcp prio 1, --src <tcp2 NID> prio 2, del, --src tcp3 before tcp3."""
    tcp, tcp2 = common.start(ctx, nets=("tcp", "tcp2"))
    none = (common.NO_PRIORITY, common.NO_PRIORITY)
    assert prio(tcp) == none and prio(tcp2) == none, common.ni_priorities()
    common.add(src="tcp", priority=1)
    assert prio(tcp) == (1, common.NO_PRIORITY) and prio(tcp2) == none, common.ni_priorities()
    common.add(src=tcp2, priority=2)
    assert prio(tcp2) == (common.NO_PRIORITY, 2), common.ni_priorities()
    common.delete(0)
    assert prio(tcp) == none and prio(tcp2) == (common.NO_PRIORITY, 2), common.ni_priorities()
    common.add(src="tcp3", priority=4)
    lnet.add_ni("tcp3", [ctx.node.usable_interfaces[0]["name"]])
    tcp3 = f"{ctx.node.addresses[0]}@tcp3"
    assert prio(tcp3) == (4, common.NO_PRIORITY), common.ni_priorities()
    return common.ni_priorities()


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
