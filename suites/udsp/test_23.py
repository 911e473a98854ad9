"""Two nets: a dst net rule outranks a src net rule (the peer's net is ranked first): with `--src tcp` and `--dst tcp1`, every ping goes on tcp1."""
from lutf import Test, lnet
from lutf.provision import LNet

import common

test = Test(roles=["client", "server"], lnet=LNet(
    {"client": {"nets": common.TWO_NETS}, "server": {"nets": common.TWO_NETS}}))


@test.step(role="client", timeout=600)
def dst_beats_src(ctx):
    """--src tcp prio 0: all on tcp; --dst tcp1 prio 0 added: all on tcp1, to the server's tcp1 NID."""
    tcp, tcp1 = (common.nid_on(ctx, "client", n) for n in ("tcp", "tcp1"))
    server_tcp1 = common.nid_on(ctx, "server", "tcp1")
    common.discover(ctx.nids["server"][0])
    lnet.add_udsp(src="tcp", priority=0)
    common.only(common.counted_pings(server_tcp1)["nis"], tcp, common.PINGS, what="--src tcp")
    lnet.add_udsp(dst="tcp1", priority=0)
    assert common.peer_priorities()[server_tcp1]["net"] == 0, common.peer_priorities()
    d = common.counted_pings(ctx.nids["server"][0])
    common.only(d["nis"], tcp1, common.PINGS, what="--src tcp, --dst tcp1")
    common.only(d["peers"], server_tcp1, common.PINGS, what="--src tcp, --dst tcp1")
    return d
