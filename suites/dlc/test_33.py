"""A peer added with a NID range (192.0.2.[2-4]@tcp) has one peer NI per address of the range."""
from lutf import Test, lnet

import common

test = Test()


@test.step(timeout=300)
def nid_range(ctx):
    """peer add --prim_nid 192.0.2.1@tcp --nid 192.0.2.[2-4]@tcp; peer show: NIDs .1 to .4 in one peer."""
    common.start(ctx)
    lnet.lnetctl("peer", "add", "--prim_nid", "192.0.2.1@tcp", "--nid", "192.0.2.[2-4]@tcp")
    peers = lnet.show_peer().get("peer") or []
    assert [p["primary nid"] for p in peers] == ["192.0.2.1@tcp"], peers
    got = sorted(ni["nid"] for ni in peers[0].get("peer ni") or [])
    assert got == [f"192.0.2.{i}@tcp" for i in range(1, 5)], got
    return got


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
