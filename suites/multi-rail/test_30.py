"""A peer NI added mid-traffic (discovery on) starts taking traffic: while lnet_selftest writes run from the client, the server (on two NIs) adds a NI on its third interface; LNet pushes the new NID to the client, whose peer of the server grows to three NIDs, and from then on all three carry the client's sends evenly (traffic.SPREAD_TOLERANCE); no error, no drop."""
from lutf import Test, lnet
from lutf.provision import LNet

import traffic

test = Test(roles=["client", "server"], interfaces=3, lnet=LNet(
    {"client": {"nets": traffic.THREE_NIS}, "server": {"nets": {"tcp": [0, 1]}}},
    globals={"discovery": 1}, modules=traffic.MODULES))


@test.step(role="client", timeout=120)
def before(ctx):
    """The server discovered with its two NIDs; the client's counters."""
    server = ctx.nids["server"]
    lnet.discover(server[0])
    p = traffic.peer(server[0])
    assert p and p["mr"] and sorted(p["nids"]) == sorted(server), f"discovered {p}"
    return traffic.snap()


@test.step(role="client", after=[before], timeout=300)
def writes(ctx):
    """60 s of 1 MiB writes to the server's first NID, with no error."""
    return traffic.write(ctx, seconds=60)


@test.step(role="server", after=[before], timeout=200)
def add(ctx):
    """Once the writes flow, the server adds a NI on its third interface."""
    flowing = traffic.wait_traffic(traffic.snap(), ctx.nids["server"], kind="nis")
    lnet.add_ni("tcp", [ctx.node.usable_interfaces[2]["name"]])
    new = f"{ctx.node.addresses[2]}@tcp"
    assert new in traffic.snap()["nis"], f"no local NI {new}"
    return {"new": new, "flowing": sorted(flowing["nis"])}


@test.step(role="client", after=[before, add], timeout=200)
def learnt(ctx):
    """The client's peer of the server gains the new NID (the server's push); the counters then."""
    new, server = ctx.result(add)["new"], ctx.nids["server"]
    traffic.wait_for("the client's peer NIDs of the server",
                     lambda: sorted((traffic.peer(server[0]) or {}).get("nids") or []),
                     sorted(server + [new]), interval=1)
    s = traffic.snap()
    return {"learnt": s, "before": traffic.moved(ctx.result(before), s, nids=server + [new])}


@test.step(role="client", after=[before, writes, add, learnt], timeout=120)
def takes_traffic(ctx):
    """No drop; since the client learnt the new NID all three server NIDs share the sends."""
    end = traffic.snap()
    traffic.no_new_drops(ctx.result(before), end, "writes with a peer NI added")
    nids = ctx.nids["server"] + [ctx.result(add)["new"]]
    since = traffic.moved(ctx.result(learnt)["learnt"], end, nids=nids)
    print(f"sends per server NI since the client learnt the new one: {since}")
    return {"since": traffic.even(since, "sends per server NI"),
            "before": ctx.result(learnt)["before"]}
