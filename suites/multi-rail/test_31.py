"""Bulk reads from a static multi-rail peer (discovery off): lnet_selftest brw reads (the server puts 1 MiB to the client per request) spread what the client receives over its three NIs and over the server's three peer NIs, evenly (traffic.SPREAD_TOLERANCE), and the server's sends over its three NIs."""
from lutf import Test
from lutf.provision import LNet

import traffic

test = Test(roles=["client", "server"], lnet=LNet(
    traffic.static_peers(), globals={"discovery": 0}, modules=traffic.MODULES))


@test.step(role="server")
def server_before(ctx):
    """The server's counters before the reads."""
    return traffic.snap()


@test.step(role="client", after=[server_before], timeout=300)
def reads(ctx):
    """16 s of 1 MiB reads: the client's receive counts per local NI and per server NI near an even share."""
    before = traffic.snap()
    r = traffic.write(ctx, mode="read")
    after = traffic.snap()
    traffic.no_new_drops(before, after, "reads")
    got = traffic.moved(before, after, "nis", "recv_count", ctx.nids["client"])
    came = traffic.moved(before, after, "peer_nis", "recv_count", ctx.nids["server"])
    print(f"received per local NI {got}; per server NI {came}")
    return {"selftest": r, "local NIs": traffic.even(got, "receives per client NI"),
            "peer NIs": traffic.even(came, "receives per server NI")}


@test.step(role="server", after=[server_before, reads], timeout=120)
def server_sends(ctx):
    """The server's sends per local NI near an even share; no drop on the server."""
    before, after = ctx.result(server_before), traffic.snap()
    traffic.no_new_drops(before, after, "reads, on the server")
    sent = traffic.moved(before, after, "nis", nids=ctx.nids["server"])
    print(f"server sends per NI {sent}")
    return traffic.even(sent, "sends per server NI")
