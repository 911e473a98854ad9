"""A pair rule lists its local NIDs as the peer NI's preferred sources, a router rule its gateway as the peer NI's preferred gateway (`peer show -v 4`, liblnetconfig); deleted, the lists empty."""
from lutf import Test, lnet

import common

test = Test(interfaces=1)


@test.step(timeout=300)
def preferred_lists(ctx):
    """Peers 1.1.1.1@tcp and 10.9.9.9@tcp9 (route via a gateway no node answers); pair and router rules."""
    nid = common.start(ctx)[0]
    gw = ctx.node.addresses[0].rsplit(".", 1)[0] + ".250@tcp"
    local, remote = "1.1.1.1@tcp", "10.9.9.9@tcp9"
    lnet.add_route("tcp9", gw)
    lnet.lnetctl("peer", "add", "--prim_nid", local)
    lnet.lnetctl("peer", "add", "--prim_nid", remote)
    common.add(src=nid, dst=local)
    common.add(dst=remote, rte=gw)
    prefs = common.peer_priorities()
    assert prefs[local]["sources"] == [nid], f"{local}: {prefs}"
    assert prefs[remote]["gateways"] == [gw], f"{remote}: {prefs}"
    assert prefs[local]["gateways"] == [] and prefs[remote]["sources"] == [], prefs
    common.delete(1)
    common.delete(0)
    after = common.peer_priorities()
    assert after[local]["sources"] == [] and after[remote]["gateways"] == [], after
    return prefs


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
