"""One net, two NIDs a peer: a dst NID rule (priority 0) makes every ping go to that peer NID: the client's peer stats and the server's NI stats both show it."""
from lutf import Test, lnet
from lutf.provision import LNet

import common

test = Test(roles=["client", "server"], lnet=LNet(
    {"client": {"nets": common.MR_NETS}, "server": {"nets": common.MR_NETS}}))


@test.step(role="client", timeout=300)
def discovered(ctx):
    """The client knows the server as one peer with both NIDs."""
    got = common.discover(ctx.nids["server"][0])
    assert got == sorted(ctx.nids["server"]), f"discover: {got}"
    return got


@test.step(role="server", after=[discovered], timeout=120)
def server_before(ctx):
    """The server's NI counters before the pings."""
    return common.counters()


@test.step(role="client", after=[server_before], timeout=600)
def dst_nid(ctx):
    """--dst <server's second NID> --priority 0; every ping is sent to it, none to the first."""
    theirs = ctx.nids["server"]
    lnet.add_udsp(dst=theirs[1], priority=0)
    assert common.peer_priorities()[theirs[1]]["nid"] == 0, common.peer_priorities()
    d = common.counted_pings(theirs[0])
    common.only({n: d["peers"][n] for n in theirs}, theirs[1], common.PINGS,
                what=f"sent to, --dst {theirs[1]}")
    return d["peers"]


@test.step(role="server", after=[server_before, dst_nid], timeout=120)
def server_received(ctx):
    """The server's second NI received every ping (and answered from it); the first none."""
    d = common.delta(ctx.result(server_before), common.counters())
    theirs = ctx.nids["server"]
    common.only(d["nis"], theirs[1], common.PINGS, key="recv", what="received by the server")
    common.only(d["nis"], theirs[1], common.PINGS, key="send", what="answered by the server")
    return d["nis"]
