"""One net, two NIs a node: with no rule pings leave by both local NIs; a src NID rule (priority 0) sends every ping from that NI; deleted, both carry again."""
from lutf import Test, lnet
from lutf.provision import LNet

import common

test = Test(roles=["client", "server"], lnet=LNet(
    {"client": {"nets": common.MR_NETS}, "server": {"nets": common.MR_NETS}}))


@test.step(role="client", timeout=600)
def src_nid(ctx):
    """Counted pings of the server: no rule, then --src <second NI> --priority 0, then the rule deleted."""
    mine = ctx.nids["client"]
    assert common.discover(ctx.nids["server"][0]) == sorted(ctx.nids["server"])
    free = common.counted_pings(ctx.nids["server"][0])
    before = common.spread(free["nis"], mine, common.PINGS, what="no rule")
    lnet.add_udsp(src=mine[1], priority=0)
    ruled = common.counted_pings(ctx.nids["server"][0])
    common.only(ruled["nis"], mine[1], common.PINGS, what=f"--src {mine[1]}")
    common.only(ruled["nis"], mine[1], common.PINGS, key="recv",
                what=f"replies to --src {mine[1]}")
    common.delete(0)
    after = common.spread(common.counted_pings(ctx.nids["server"][0])["nis"], mine,
                          common.PINGS, what="rule deleted")
    return {"no rule": before, "rule deleted": after}
