"""Deleting a local net: a peer only on it goes; a peer also on another local net stays with all its NIDs, its primary moved to a surviving NID unless locked; other peers are untouched."""
from lutf import Test, lnet

import common

test = Test(interfaces=2)

A, B, C = common.PEER_NET_A, common.PEER_NET_B, common.PEER_NET_C


@test.step(timeout=300)
def del_net_peers(ctx):
    """tcp1 on if1, tcp2 on if2; peers only-tcp1, only-tcp2, mixed, mixed with locked primary; net del tcp1."""
    i0, i1 = common.start(ctx, 2)[:2]
    lnet.add_ni("tcp1", [i0])
    lnet.add_ni("tcp2", [i1])
    lnet.add_peer([f"{A}.2@tcp1"], primary=f"{A}.1@tcp1")
    lnet.add_peer([f"{B}.2@tcp2"], primary=f"{B}.1@tcp2")
    lnet.add_peer([f"{C}.2@tcp2"], primary=f"{C}.1@tcp1")
    lnet.add_peer([f"{C}.12@tcp2"], primary=f"{C}.11@tcp1", lock_primary=True)
    before = common.peer_nids()
    assert len(before) == 4, before
    lnet.del_ni("tcp1")
    want = {
        f"{B}.1@tcp2": before[f"{B}.1@tcp2"],
        f"{C}.2@tcp2": before[f"{C}.1@tcp1"],
        f"{C}.11@tcp1": before[f"{C}.11@tcp1"],
    }
    assert common.peer_nids() == want, f"after net del tcp1: {common.peer_nids()}, expected {want}"
    return common.peer_nids()


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
