"""peer add with NID ranges and lists (liblnetconfig and lnetctl): one multi-rail peer with every NID; a range as primary NID is refused."""
from lutf import Test, lnet

import common

test = Test()

A, B = common.PEER_NET_A, common.PEER_NET_B


@test.step(timeout=300)
def add_ranges(ctx):
    """add_peer(primary A.1@tcp, [A.[2-5]@tcp, B.7@tcp, B.9@tcp1]): 7 NIDs, Multi-Rail in export; lnetctl B.1 with B.[2,4]: 3 NIDs; primary A.[1-2]@tcp: EINVAL."""
    common.start(ctx)
    primary = f"{A}.1@tcp"
    lnet.add_peer([f"{A}.[2-5]@tcp", f"{B}.7@tcp", f"{B}.9@tcp1"], primary=primary)
    want = sorted(common.host_nids(A, range(1, 6)) + [f"{B}.7@tcp", f"{B}.9@tcp1"])
    assert common.peer_nids() == {primary: want}, f"peer show: {common.peer_nids()}"
    assert common.exported_peers() == {primary: (True, want)}, common.exported_peers()
    # A list inside brackets: lnetctl (lutf's NIDs take no comma).
    lnet.lnetctl("peer", "add", "--prim_nid", f"{B}.1@tcp", "--nid", f"{B}.[2,4]@tcp")
    assert common.peer_nids(f"{B}.1@tcp") == common.host_nids(B, [1, 2, 4]), common.peer_nids()
    descr = common.refused(common.EINVAL, "peer add --prim_nid with a range",
                           lnet.add_peer, [f"{A}.9@tcp"], primary=f"{A}.[1-2]@tcp")
    return {"nids": want, "range as primary": descr}


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
