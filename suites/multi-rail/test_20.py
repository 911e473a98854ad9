"""A multi-rail configuration (two nets, three NIs, peers with several NIDs, numa_range 100) survives export --backup, unconfigure and import unchanged."""
from lutf import Test, lnet

import common

test = Test(interfaces=3)

A, B = common.PEER_NET_A, common.PEER_NET_B


@test.step(timeout=600)
def round_trip(ctx):
    """Configure; export --backup to a file; lnet unconfigure + configure; import the file: the same export."""
    i0, i1, i2 = common.start(ctx, 3)[:3]
    lnet.add_ni("tcp", [i0, i1])
    lnet.add_ni("tcp1", [i2])
    lnet.add_peer([f"{A}.[2-4]@tcp", f"{A}.5@tcp1"], primary=f"{A}.1@tcp")
    lnet.add_peer([f"{B}.2@tcp1"], primary=f"{B}.1@tcp1")
    lnet.set_global("numa_range", 100)
    before = common.backup()
    assert before["global"]["numa_range"] == 100, before["global"]
    assert len(before.get("peer") or []) == 2, before.get("peer")
    path = "/tmp/lutf-mr-round-trip.yaml"
    ctx.run(f"lnetctl export --backup > {path}")
    common.stop(ctx)
    lnet.configure()
    lnet.set_global("numa_range", 0)
    assert common.nets() == ["lo"] and not common.peers(), common.backup()
    lnet.lnetctl("import", path)
    after = common.backup()
    assert after == before, f"export after import differs:\n{before}\n->\n{after}"
    return {"nets": common.nets(), "peers": sorted(common.peers())}


@test.cleanup(timeout=300)
def down(ctx):
    """numa_range back to 0, LNet unconfigured."""
    try:
        lnet.set_global("numa_range", 0)
    except lnet.LnetError as e:
        ctx.log(f"numa_range not reset: {e}")
    common.stop(ctx)
