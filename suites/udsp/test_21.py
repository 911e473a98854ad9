"""Two nets: a src net rule outranks a src NID rule on the other net (the net is chosen before the NI): with `--src tcp1` and `--src <tcp NID>`, every ping goes on tcp1."""
from lutf import Test, lnet
from lutf.provision import LNet

import common

test = Test(roles=["client", "server"], lnet=LNet(
    {"client": {"nets": common.TWO_NETS}, "server": {"nets": common.TWO_NETS}}))


@test.step(role="client", timeout=600)
def net_beats_nid(ctx):
    """--src <tcp NID> prio 0 alone: all on tcp; with --src tcp1 prio 0 added: all on tcp1."""
    tcp, tcp1 = (common.nid_on(ctx, "client", n) for n in ("tcp", "tcp1"))
    server = ctx.nids["server"][0]
    common.discover(server)
    lnet.add_udsp(src=tcp, priority=0)
    common.only(common.counted_pings(server)["nis"], tcp, common.PINGS, what=f"--src {tcp}")
    lnet.add_udsp(src="tcp1", priority=0)
    common.only(common.counted_pings(server)["nis"], tcp1, common.PINGS,
                what=f"--src {tcp} and --src tcp1")
    return common.ni_priorities()
