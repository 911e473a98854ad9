"""Two nets, tcp with two NIs: `--src tcp` picks the net and a src NID rule then picks the NI within it: every ping leaves by that tcp NI."""
from lutf import Test, lnet
from lutf.provision import LNet

import common

#: tcp on both interfaces, tcp1 on the first one too (one interface may carry two nets).
NETS = {"tcp": [0, 1], "tcp1": [0]}

test = Test(roles=["client", "server"], lnet=LNet(
    {"client": {"nets": NETS}, "server": {"nets": NETS}}))


@test.step(role="client", timeout=600)
def nid_within_net(ctx):
    """--src tcp1 prio 0 first: all on tcp1; del, --src tcp and --src <second tcp NID>: all by that NI."""
    mine = ctx.nids["client"]
    tcp = [n for n in mine if n.endswith("@tcp")]
    tcp1 = common.nid_on(ctx, "client", "tcp1")
    server = ctx.nids["server"][0]
    common.discover(server)
    lnet.add_udsp(src="tcp1", priority=0)
    common.only(common.counted_pings(server)["nis"], tcp1, common.PINGS, what="--src tcp1")
    common.delete(0)
    lnet.add_udsp(src="tcp", priority=0)
    common.spread(common.counted_pings(server)["nis"], tcp, common.PINGS, what="--src tcp")
    lnet.add_udsp(src=tcp[1], priority=0)
    common.only(common.counted_pings(server)["nis"], tcp[1], common.PINGS,
                what=f"--src tcp, --src {tcp[1]}")
    return common.ni_priorities()
