"""Pinging each of a peer's NIDs makes one non-MR peer per NID; discovering the first NID merges them into one multi-rail peer."""
from lutf import Test
from lutf.provision import LNet

from common import MR_NETS, consolidate

test = Test(roles=["node", "peer"], lnet=LNet(
    {"node": {"nets": MR_NETS}, "peer": {"nets": MR_NETS}}, globals={"discovery": 1}))


@test.step(role="node", timeout=120)
def ping_then_discover(ctx):
    """Ping both NIDs, check two peers; discover the first, check one MR peer."""
    return consolidate(ctx, 0)
