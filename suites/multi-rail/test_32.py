"""Both ways at once (discovery on): lnet_selftest writes from the client to the server and from the server to the client in one batch; on each node the sends spread over the other's three peer NIs and its own three NIs evenly (traffic.SPREAD_TOLERANCE), with no error and no drop."""
from lutf import Test, lnet
from lutf.provision import LNet

import traffic

test = Test(roles=["client", "server"], lnet=LNet(
    {"client": {"nets": traffic.THREE_NIS}, "server": {"nets": traffic.THREE_NIS}},
    globals={"discovery": 1}, modules=traffic.MODULES))


@test.step(role=["client", "server"], timeout=120)
def before(ctx):
    """Each node discovers the other (three NIDs, multi-rail); its counters."""
    other = ctx.nids["server" if ctx.role == "client" else "client"]
    lnet.discover(other[0])
    p = traffic.peer(other[0])
    assert p and p["mr"] and sorted(p["nids"]) == sorted(other), f"discovered {p}"
    return traffic.snap()


@test.step(role="client", after=[before], timeout=300)
def both_ways(ctx):
    """16 s of 1 MiB writes, each node's first NID to the other's."""
    c, s = ctx.nids["client"][0], ctx.nids["server"][0]
    return traffic.write(ctx, src=[c, s], dst=[s, c])


@test.step(role=["client", "server"], after=[before, both_ways], timeout=120)
def spread(ctx):
    """Sends per peer NI and per local NI near an even share; no drop."""
    other = ctx.nids["server" if ctx.role == "client" else "client"]
    b, a = ctx.result(before)[ctx.role], traffic.snap()
    traffic.no_new_drops(b, a, "writes both ways")
    to = traffic.moved(b, a, "peer_nis", nids=other)
    by = traffic.moved(b, a, "nis", nids=ctx.nids[ctx.role])
    print(f"peer NI sends {to}; local NI sends {by}")
    return {"peer NIs": traffic.even(to, "sends per peer NI"),
            "local NIs": traffic.even(by, "sends per local NI")}
