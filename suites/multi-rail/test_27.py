"""A local NI added mid-traffic (discovery on) starts taking traffic: the client, on two NIs, adds a third while lnet_selftest writes run; the new NI then carries sends, the server learns the new NID, selftest counts no error and LNet drops nothing."""
from lutf import Test, lnet
from lutf.provision import LNet

import traffic

test = Test(roles=["client", "server"], interfaces=3, lnet=LNet(
    {"client": {"nets": {"tcp": [0, 1]}}, "server": {"nets": traffic.THREE_NIS}},
    globals={"discovery": 1}, modules=traffic.MODULES))


@test.step(role="client", timeout=120)
def before(ctx):
    """The client has two NIs; the server discovered; the client's counters."""
    lnet.discover(ctx.nids["server"][0])
    s = traffic.snap()
    assert traffic.local_nids(s) == sorted(ctx.nids["client"]), f"local NIs {traffic.local_nids(s)}"
    return s


@test.step(role="client", after=[before], timeout=300)
def writes(ctx):
    """24 s of 1 MiB writes to the server's first NID, with no error."""
    return traffic.write(ctx, seconds=24)


@test.step(role="client", after=[before], timeout=200)
def add(ctx):
    """Once the writes flow, the client adds an NI on its third interface."""
    flowing = traffic.wait_traffic(ctx.result(before), ctx.nids["client"], kind="nis")
    lnet.add_ni("tcp", [ctx.node.usable_interfaces[2]["name"]])
    done = traffic.snap()
    new = f"{ctx.node.addresses[2]}@tcp"
    assert new in done["nis"], f"no NI {new}: {sorted(done['nis'])}"
    return {"added": done, "new": new,
            "before add": traffic.moved(ctx.result(before), flowing, "nis",
                                        nids=ctx.nids["client"])}


@test.step(role="client", after=[before, writes, add], timeout=120)
def takes_traffic(ctx):
    """No drop; since the add all three local NIs carried sends, each near a third."""
    end = traffic.snap()
    traffic.no_new_drops(ctx.result(before), end, "writes with a local NI added")
    nids = ctx.nids["client"] + [ctx.result(add)["new"]]
    since = traffic.moved(ctx.result(add)["added"], end, "nis", nids=nids)
    print(f"sends per local NI since the add: {since}")
    return {"since add": traffic.even(since, "sends per local NI"),
            "before add": ctx.result(add)["before add"]}


@test.step(role="server", after=[add, takes_traffic], timeout=120)
def server_knows(ctx):
    """The server's peer for the client lists the new NID too (pushed by the client)."""
    new = ctx.result(add)["new"]
    return traffic.wait_for("the server's peer NIDs of the client",
                            lambda: new in ((traffic.peer(ctx.nids["client"][0]) or {})
                                            .get("nids") or []), True)
