"""Static multi-rail peers, discovery off: lnet_selftest writes from the client are spread evenly over the server's three peer NIs and the client's three NIs (each within traffic.SPREAD_TOLERANCE of an even share)."""
from lutf import Test
from lutf.provision import LNet

import traffic

test = Test(roles=["client", "server"], lnet=LNet(
    traffic.static_peers(), globals={"discovery": 0}, modules=traffic.MODULES))


@test.step(role=["client", "server"])
def static(ctx):
    """Discovery is off and the other node is one static multi-rail peer with its three NIDs."""
    other = "server" if ctx.role == "client" else "client"
    assert traffic.discovery() == 0, "discovery is on"
    p = traffic.peer(ctx.nids[other][0])
    assert p and p["mr"] and sorted(p["nids"]) == sorted(ctx.nids[other]), (
        f"peer of {other}: {p}, expected MR with {ctx.nids[other]}")
    return p


@test.step(role="client", after=[static], timeout=300)
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
