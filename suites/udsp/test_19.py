"""A wildcard pair rule `--src *.*.*.*@tcp --dst <server's first NID>`: pings leave by both local NIs and all of them go to that NID."""
from lutf import Test
from lutf.provision import LNet

import common

test = Test(roles=["client", "server"], lnet=LNet(
    {"client": {"nets": common.MR_NETS}, "server": {"nets": common.MR_NETS}}))


@test.step(role="client", timeout=600)
def wildcard(ctx):
    """Every local NI is a preferred source of the server's first NID: it gets every ping."""
    mine, theirs = ctx.nids["client"], ctx.nids["server"]
    common.discover(theirs[0])
    common.add(src="*.*.*.*@tcp", dst=theirs[0])
    prefs = common.peer_priorities()
    assert prefs[theirs[0]]["sources"] == sorted(mine), f"preferred sources: {prefs}"
    d = common.counted_pings(theirs[1])
    common.spread(d["nis"], mine, common.PINGS, what="both local NIs")
    common.only({n: d["peers"][n] for n in theirs}, theirs[0], common.PINGS,
                what=f"pair *@tcp -> {theirs[0]}")
    return d
