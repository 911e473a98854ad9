"""One net, two NIs a node: src NID rules with priorities 1 and 0 send every ping from the priority-0 NI; that rule deleted, every ping leaves by the priority-1 NI."""
from lutf import Test, lnet
from lutf.provision import LNet

import common

test = Test(roles=["client", "server"], lnet=LNet(
    {"client": {"nets": common.MR_NETS}, "server": {"nets": common.MR_NETS}}))


@test.step(role="client", timeout=600)
def ranked(ctx):
    """--src first NI prio 1 (idx 0), --src second NI prio 0 (idx 1): all from the second; del --idx 1: all from the first."""
    mine = ctx.nids["client"]
    common.discover(ctx.nids["server"][0])
    lnet.add_udsp(src=mine[0], priority=1)
    lnet.add_udsp(src=mine[1], priority=0)
    prios = common.ni_priorities()
    assert (prios[mine[0]]["nid"], prios[mine[1]]["nid"]) == (1, 0), prios
    common.only(common.counted_pings(ctx.nids["server"][0])["nis"], mine[1], common.PINGS,
                what="priority 0 beats priority 1")
    common.delete(1)
    prios = common.ni_priorities()
    assert (prios[mine[0]]["nid"], prios[mine[1]]["nid"]) == (1, common.NO_PRIORITY), prios
    common.only(common.counted_pings(ctx.nids["server"][0])["nis"], mine[0], common.PINGS,
                what="priority 1 beats no rule")
    return prios
