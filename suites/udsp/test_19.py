"""A NID pair rule given as address patterns (`--src a.b.c.*@tcp --dst d.e.f.*@tcp`) pairs the NIs they match: with every ping leaving the client's second NI, all go to the server's first NID."""
from lutf import Test, lnet
from lutf.provision import LNet

import common

test = Test(roles=["client", "server"], lnet=LNet(
    {"client": {"nets": common.MR_NETS}, "server": {"nets": common.MR_NETS}}))


def pattern(nid, last="*"):
    """The NID's /24 as an ip2nets pattern: 198.19.5.11@tcp -> 198.19.5.*@tcp (LNet shows
    it as 198.19.5.[0-255]@tcp)."""
    address, net = nid.split("@")
    return address.rsplit(".", 1)[0] + f".{last}@" + net


@test.step(role="client", timeout=600)
def patterns(ctx):
    """--src second NI prio 0, and the pair rule by patterns: every ping to the server's first NID.

    Each pattern matches one NI: a pair rule matching two local NIs corrupts the peer NI's
    first preferred NID (common.py, LNet bugs met)."""
    mine, theirs = ctx.nids["client"], ctx.nids["server"]
    common.discover(theirs[0])
    lnet.add_udsp(src=mine[1], priority=0)
    common.add(src=pattern(mine[1]), dst=pattern(theirs[0]))
    shown = {"idx": 1, "src": pattern(mine[1], "[0-255]"), "dst": pattern(theirs[0], "[0-255]")}
    assert common.rules()[1] == shown, common.rules()
    prefs = common.peer_priorities()
    assert prefs[theirs[0]]["sources"] == [mine[1]], f"preferred sources: {prefs}"
    assert prefs[theirs[1]]["sources"] == [], f"preferred sources: {prefs}"
    d = common.counted_pings(theirs[1])
    common.only(d["nis"], mine[1], common.PINGS, what="src rule")
    common.only({n: d["peers"][n] for n in theirs}, theirs[0], common.PINGS,
                what=f"pair {pattern(mine[1])} -> {pattern(theirs[0])}")
    return d
