"""A NID pair rule: with every ping leaving the client's first NI (src rule), `--src <that NI> --dst <server's second NID>` sends all of them to that NID, a cross pair of subnets."""
from lutf import Test, lnet
from lutf.provision import LNet

import common

test = Test(roles=["client", "server"], lnet=LNet(
    {"client": {"nets": common.MR_NETS}, "server": {"nets": common.MR_NETS}}))


@test.step(role="client", timeout=600)
def pair(ctx):
    """--src first NI prio 0: pings spread over the server's NIDs; plus the pair rule: all to its second NID."""
    mine, theirs = ctx.nids["client"], ctx.nids["server"]
    common.discover(theirs[0])
    lnet.add_udsp(src=mine[0], priority=0)
    d = common.counted_pings(theirs[0])
    common.only(d["nis"], mine[0], common.PINGS, what="src rule")
    free = common.spread(d["peers"], theirs, common.PINGS, what="no pair rule")
    common.add(src=mine[0], dst=theirs[1])
    prefs = common.peer_priorities()
    assert prefs[theirs[1]]["sources"] == [mine[0]], f"preferred sources: {prefs}"
    assert prefs[theirs[0]]["sources"] == [], f"preferred sources: {prefs}"
    d = common.counted_pings(theirs[0])
    common.only(d["nis"], mine[0], common.PINGS, what="src rule, pair rule")
    common.only({n: d["peers"][n] for n in theirs}, theirs[1], common.PINGS,
                what=f"pair {mine[0]} -> {theirs[1]}")
    return {"no pair rule": free, "pair rule": d["peers"]}
