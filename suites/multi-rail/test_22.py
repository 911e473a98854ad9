"""Discovery on, no static peer: the client discovers the server as one multi-rail peer with its three NIDs, and lnet_selftest writes are spread evenly over them and over the client's three NIs (traffic.SPREAD_TOLERANCE)."""
from lutf import Test, lnet
from lutf.provision import LNet

import traffic

test = Test(roles=["client", "server"], lnet=LNet(
    {"client": {"nets": traffic.THREE_NIS}, "server": {"nets": traffic.THREE_NIS}},
    globals={"discovery": 1}, modules=traffic.MODULES))


@test.step(role="client", timeout=120)
def discovered(ctx):
    """No peer before; discovering the server's first NID finds its three NIDs, multi-rail."""
    assert traffic.discovery() == 1, "discovery is off"
    server = ctx.nids["server"]
    assert traffic.peer(server[0]) is None, "the server is a peer before any traffic"
    lnet.discover(server[0])
    p = traffic.peer(server[0])
    assert p and p["mr"] and sorted(p["nids"]) == sorted(server), (
        f"discovered peer {p}, expected MR with {server}")
    return p


@test.step(role="client", after=[discovered], timeout=300)
def spread(ctx):
    """16 s of 1 MiB writes: per peer NI and per local NI send counts near an even share."""
    before = traffic.snap()
    r = traffic.write(ctx)
    after = traffic.snap()
    traffic.no_new_drops(before, after, "writes")
    to = traffic.moved(before, after, "peer_nis", nids=ctx.nids["server"])
    by = traffic.moved(before, after, "nis", nids=ctx.nids["client"])
    print(f"peer NI sends {to}; local NI sends {by}")
    return {"selftest": r, "peer NIs": traffic.even(to, "sends per server NI"),
            "local NIs": traffic.even(by, "sends per client NI")}
