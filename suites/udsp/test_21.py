"""Two nets: a src NID rule ranks NIs within its net only (pings still use both nets); with a src net rule for the other net added, every ping goes on that net (the net is chosen before the NI)."""
from lutf import Test, lnet
from lutf.provision import LNet

import common

test = Test(roles=["client", "server"], lnet=LNet(
    {"client": {"nets": common.TWO_NETS}, "server": {"nets": common.TWO_NETS}}))


@test.step(role="client", timeout=600)
def net_beats_nid(ctx):
    """--src <tcp NID> prio 0 alone: both nets carry pings; --src tcp1 prio 0 added: all on tcp1."""
    tcp, tcp1 = (common.nid_on(ctx, "client", n) for n in ("tcp", "tcp1"))
    server = ctx.nids["server"][0]
    common.discover(server)
    lnet.add_udsp(src=tcp, priority=0)
    assert common.ni_priorities()[tcp] == {"net": common.NO_PRIORITY, "nid": 0, "gateways": [],
                                           "sources": []}, common.ni_priorities()
    alone = common.spread(common.counted_pings(server)["nis"], [tcp, tcp1], common.PINGS,
                          what=f"--src {tcp} alone")
    lnet.add_udsp(src="tcp1", priority=0)
    common.only(common.counted_pings(server)["nis"], tcp1, common.PINGS,
                what=f"--src {tcp} and --src tcp1")
    return {"NID rule alone": alone, "priorities": common.ni_priorities()}
