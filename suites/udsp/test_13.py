"""Dst rules set peer priorities (udsp info of `peer show -v 4`): a net rule added before the peer is discovered and a NID rule added after; deleting reverts; a dst rule for kfi then a kfi peer does no harm."""
from lutf import Test, lnet

import common

test = Test(interfaces=1)


def prio(nid):
    info = common.peer_priorities()[nid]
    return (info["net"], info["nid"])


@test.step(timeout=300)
def peer_priorities(ctx):
    """tcp and tcp2 on the first interface; --dst tcp prio 1; discover self; --dst <tcp2 NID> prio 3; del; kfi."""
    tcp, tcp2 = common.start(ctx, nets=("tcp", "tcp2"))
    none = (common.NO_PRIORITY, common.NO_PRIORITY)
    common.add(dst="tcp", priority=1)
    assert common.discover(tcp) == sorted([tcp, tcp2]), lnet.lnetctl("peer", "show")["output"]
    assert prio(tcp) == (1, common.NO_PRIORITY) and prio(tcp2) == none, common.peer_priorities()
    common.add(dst=tcp2, priority=3)
    assert prio(tcp2) == (common.NO_PRIORITY, 3), common.peer_priorities()
    common.delete(0)
    assert prio(tcp) == none and prio(tcp2) == (common.NO_PRIORITY, 3), common.peer_priorities()
    common.add(dst="kfi", priority=0)
    lnet.lnetctl("peer", "add", "--prim_nid", "402@kfi")
    assert prio("402@kfi") == (0, common.NO_PRIORITY), common.peer_priorities()
    return common.peer_priorities()


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
