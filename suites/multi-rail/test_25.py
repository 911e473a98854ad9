"""A reply comes back on the NI its request left from: LNet pings from a chosen source NID to a chosen peer NID (static multi-rail peers, discovery off) move the send and receive counters of that local NI and that peer NI only, on both nodes."""
from lutf import Test
from lutf.provision import LNet

import traffic

test = Test(roles=["client", "server"], lnet=LNet(
    traffic.static_peers(), globals={"discovery": 0}))

#: The (client NI, server NI) index pairs pinged, one after the other: crossed pairs, so
#: the subnets alone (NIC k to NIC k) would not give the counts.
PAIRS = [(0, 1), (2, 0)]


@test.step(role="server")
def server_before(ctx):
    """The server's counters before the first pings."""
    return traffic.snap()


@test.step(role="client", after=[server_before], timeout=180)
def first_pair(ctx):
    """PINGS pings from the client's NI 0 to the server's NI 1: only that pair moves."""
    return pings(ctx, *PAIRS[0])


@test.step(role="server", after=[server_before, first_pair], timeout=120)
def server_first(ctx):
    """On the server, only NI 1 and its peer NI for the client's NI 0 moved, by PINGS."""
    return server_side(ctx, ctx.result(server_before), *PAIRS[0])


@test.step(role="client", after=[server_first], timeout=180)
def second_pair(ctx):
    """PINGS pings from the client's NI 2 to the server's NI 0: only that pair moves."""
    return pings(ctx, *PAIRS[1])


@test.step(role="server", after=[server_first, second_pair], timeout=120)
def server_second(ctx):
    """On the server, only NI 0 and its peer NI for the client's NI 2 moved, by PINGS."""
    return server_side(ctx, ctx.result(server_first)["after"], *PAIRS[1])


def pings(ctx, c, s):
    mine, theirs = ctx.nids["client"], ctx.nids["server"]
    before = traffic.snap()
    traffic.ping_from(mine[c], theirs[s])
    after = traffic.snap()
    return traffic.one_pair(before, after, mine, theirs, mine[c], theirs[s], traffic.PINGS,
                            f"pings {mine[c]} -> {theirs[s]}")


def server_side(ctx, before, c, s):
    mine, theirs = ctx.nids["server"], ctx.nids["client"]
    after = traffic.snap()
    m = traffic.one_pair(before, after, mine, theirs, mine[s], theirs[c], traffic.PINGS,
                         f"pings {theirs[c]} -> {mine[s]} seen by the server")
    return {"moved": m, "after": after}
