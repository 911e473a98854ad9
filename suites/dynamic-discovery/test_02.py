"""Discovery off: `lnetctl discover` returns only the NID it was given, and the peer holds that NID alone."""
from lutf import Test, lnet
from lutf.provision import LNet

from common import MR_NETS, global_value, peers, reply_nids

test = Test(roles=["node", "peer"], lnet=LNet(
    {"node": {"nets": MR_NETS}, "peer": {"nets": MR_NETS}}, globals={"discovery": 0}))


@test.step(role="node", timeout=120)
def discover_one(ctx):
    """With discovery 0 here, discovering the peer's first NID gives that NID only."""
    assert global_value("discovery") == 0, "discovery is not off"
    nid = ctx.nids["peer"][0]
    got = reply_nids(lnet.discover(nid), "discover")
    assert got == [nid], f"discovery off: discover {nid} returned {got}"
    shown = peers()
    holding = [p for p, v in shown.items() if set(v["nids"]) & set(ctx.nids["peer"])]
    assert holding == [nid] and shown[nid]["nids"] == [nid], f"peer show: {shown}"
    return got
