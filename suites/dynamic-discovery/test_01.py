"""Discovery on: `lnetctl discover` of one of a multi-rail peer's NIDs returns all of its NIDs, and peer show holds one MR peer with them."""
from lutf import Test, lnet
from lutf.provision import LNet

from common import MR_NETS, peers, reply_nids

test = Test(roles=["node", "peer"], lnet=LNet(
    {"node": {"nets": MR_NETS}, "peer": {"nets": MR_NETS}}, globals={"discovery": 1}))


@test.step(role="node", timeout=120)
def discover_all(ctx):
    """Discover the peer's first NID; the reply and peer show list both of its NIDs."""
    mine = sorted(ctx.nids["peer"])
    got = reply_nids(lnet.discover(ctx.nids["peer"][0]), "discover")
    assert got == mine, f"discovery on: discover returned {got}, the peer has {mine}"
    shown = peers().get(ctx.nids["peer"][0])
    assert shown and shown["mr"] and shown["nids"] == mine, f"peer show: {peers()}"
    return got
