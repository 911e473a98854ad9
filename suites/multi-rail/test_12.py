"""peer del through liblnetconfig: a non-primary NID, then a range of them, goes alone; a NID the peer lacks is refused; deleting the primary NID removes the peer."""
from lutf import Test, lnet

import common

test = Test()

A = common.PEER_NET_A


@test.step(timeout=300)
def del_nids(ctx):
    """Peer A.1 with A.[2-6]: del A.3; del A.[4-5]; del A.99 refused; del A.1 (primary): no peer."""
    common.start(ctx)
    primary = f"{A}.1@tcp"
    other = f"{A}.21@tcp"
    lnet.add_peer([f"{A}.[2-6]@tcp"], primary=primary)
    lnet.add_peer([f"{A}.22@tcp"], primary=other)
    lnet.del_peer(primary, [f"{A}.3@tcp"])
    left = common.host_nids(A, [1, 2, 4, 5, 6])
    assert common.peer_nids(primary) == sorted(left), common.peer_nids()
    lnet.del_peer(primary, [f"{A}.[4-5]@tcp"])
    left = sorted(common.host_nids(A, [1, 2, 6]))
    assert common.peer_nids(primary) == left, common.peer_nids()
    missing = common.refused(common.ENOENT, f"peer del {primary} --nid {A}.99@tcp",
                             lnet.del_peer, primary, [f"{A}.99@tcp"])
    lnet.del_peer(primary, [primary])
    assert common.peer_nids() == {other: sorted([other, f"{A}.22@tcp"])}, common.peer_nids()
    return {"left before primary": left, "missing NID": missing}


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
