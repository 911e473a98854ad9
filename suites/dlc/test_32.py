"""net add --nid ADDRESS@tcp puts the NI on the interface that has the address, with that NID."""
from lutf import Test, lnet

import common

test = Test(interfaces=2)


@test.step(timeout=300)
def add_by_nid(ctx):
    """lnetctl net add --nid (second address)@tcp; net show: that NID, on the second interface."""
    ifaces = common.start(ctx)
    nid = common.nid_of(ctx.node.addresses[1])
    lnet.lnetctl("net", "add", "--nid", nid)
    ni = common.nis("tcp", detail=1)
    assert [n["nid"] for n in ni] == [nid], ni
    assert list((ni[0].get("interfaces") or {}).values()) == [ifaces[1]], ni[0]
    return nid


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
