"""Two nets: with `--src tcp1`, deleting the tcp1 net moves every ping to tcp (the rule stays listed); tcp1 added back, the rule ranks it again and every ping goes on tcp1."""
from lutf import Test, lnet
from lutf.provision import LNet

import common

test = Test(roles=["client", "server"], lnet=LNet(
    {"client": {"nets": common.TWO_NETS}, "server": {"nets": common.TWO_NETS}}))


@test.step(role="client", timeout=600)
def net_gone(ctx):
    """--src tcp1: all on tcp1; net del tcp1: all on tcp; net add tcp1 again: all on tcp1."""
    tcp, tcp1 = (common.nid_on(ctx, "client", n) for n in ("tcp", "tcp1"))
    server = ctx.nids["server"][0]
    common.discover(server)
    lnet.add_udsp(src="tcp1", priority=0)
    rule = common.rules()
    common.only(common.counted_pings(server)["nis"], tcp1, common.PINGS, what="--src tcp1")
    iface = [i["name"] for i in ctx.node.usable_interfaces][1]
    lnet.del_ni("tcp1")
    common.settle()
    assert common.rules() == rule, f"net del changed the rules: {rule} -> {common.rules()}"
    d = common.counted_pings(server)
    common.only(d["nis"], tcp, common.PINGS, what="tcp1 deleted")
    lnet.add_ni("tcp1", [iface])
    common.settle()
    assert common.ni_priorities()[tcp1]["net"] == 0, f"tcp1 re-added: {common.ni_priorities()}"
    common.only(common.counted_pings(server)["nis"], tcp1, common.PINGS, what="tcp1 re-added")
    return rule
