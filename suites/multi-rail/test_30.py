"""A peer NI added mid-traffic (static peers, discovery off) starts taking traffic: the client holds the server as a multi-rail peer with two of its NIDs, adds the third with ``peer add --nid`` while lnet_selftest writes run, and from then on all three carry sends, evenly (traffic.SPREAD_TOLERANCE); no error, no drop."""
from lutf import Test, lnet
from lutf.provision import LNet

import traffic

test = Test(roles=["client", "server"], lnet=LNet(
    {"client": {"nets": traffic.THREE_NIS},
     "server": {"nets": traffic.THREE_NIS, "peers": ["client"]}},
    globals={"discovery": 0}, modules=traffic.MODULES))


@test.step(role="client", timeout=120)
def before(ctx):
    """The server added as a static MR peer with its first two NIDs; the counters."""
    server = ctx.nids["server"]
    lnet.lnetctl("peer", "add", "--prim_nid", server[0], "--nid", server[1])
    p = traffic.peer(server[0])
    assert p and p["mr"] and sorted(p["nids"]) == sorted(server[:2]), f"peer {p}"
    return traffic.snap()


@test.step(role="client", after=[before], timeout=300)
def writes(ctx):
    """24 s of 1 MiB writes to the server's first NID, with no error."""
    return traffic.write(ctx, seconds=24)


@test.step(role="client", after=[before], timeout=200)
def add(ctx):
    """Once the writes flow, the server's third NID is added to its peer."""
    server = ctx.nids["server"]
    flowing = traffic.wait_traffic(ctx.result(before), server[:2])
    lnet.lnetctl("peer", "add", "--prim_nid", server[0], "--nid", server[2])
    done = traffic.snap()
    p = traffic.peer(server[0])
    assert p and p["mr"] and sorted(p["nids"]) == sorted(server), f"peer after the add: {p}"
    return {"added": done,
            "before add": traffic.moved(ctx.result(before), flowing, nids=server)}


@test.step(role="client", after=[before, writes, add], timeout=120)
def takes_traffic(ctx):
    """No drop; before the add the third NID carried nothing, since then all three share the sends."""
    server = ctx.nids["server"]
    end = traffic.snap()
    traffic.no_new_drops(ctx.result(before), end, "writes with a peer NI added")
    assert ctx.result(add)["before add"][server[2]] == 0, (
        f"sends to {server[2]} before it was added: {ctx.result(add)['before add']}")
    since = traffic.moved(ctx.result(add)["added"], end, nids=server)
    print(f"sends per server NI since the add: {since}")
    return {"since add": traffic.even(since, "sends per server NI"),
            "before add": ctx.result(add)["before add"]}
