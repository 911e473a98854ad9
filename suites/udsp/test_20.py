"""Two nets (tcp, tcp1): a src rule for a net no node has changes nothing (pings use both nets); `--src tcp1` sends every ping on tcp1; replaced by `--src tcp`, every ping goes on tcp."""
from lutf import Test, lnet
from lutf.provision import LNet

import common

test = Test(roles=["client", "server"], lnet=LNet(
    {"client": {"nets": common.TWO_NETS}, "server": {"nets": common.TWO_NETS}}))


@test.step(role="client", timeout=600)
def src_net(ctx):
    """Counted pings under --src tcp5, then --src tcp1, then (tcp1's rule deleted) --src tcp."""
    tcp, tcp1 = (common.nid_on(ctx, "client", n) for n in ("tcp", "tcp1"))
    server = ctx.nids["server"][0]
    common.discover(server)
    lnet.add_udsp(src="tcp5", priority=0)
    free = common.spread(common.counted_pings(server)["nis"], [tcp, tcp1], common.PINGS,
                         what="rule for a net not configured")
    lnet.add_udsp(src="tcp1", priority=0)
    assert common.ni_priorities()[tcp1]["net"] == 0, common.ni_priorities()
    common.only(common.counted_pings(server)["nis"], tcp1, common.PINGS, what="--src tcp1")
    common.delete(1)
    assert common.ni_priorities()[tcp1]["net"] == common.NO_PRIORITY, common.ni_priorities()
    lnet.add_udsp(src="tcp", priority=0)
    common.only(common.counted_pings(server)["nis"], tcp, common.PINGS, what="--src tcp")
    return {"--src tcp5": free, "rules": common.rules()}
