"""A local NI deleted mid-traffic (discovery on): the client deletes its NI on its third interface while lnet_selftest writes run; selftest counts no error, LNet drops nothing, the server learns the client's two NIDs left, and the two local NIs left carry the rest evenly."""
from lutf import Test, lnet
from lutf.provision import LNet

import traffic

test = Test(roles=["client", "server"], lnet=LNet(
    {"client": {"nets": traffic.THREE_NIS}, "server": {"nets": traffic.THREE_NIS}},
    globals={"discovery": 1}, modules=traffic.MODULES))


@test.step(role="client", timeout=120)
def before(ctx):
    """The server discovered (three NIDs, multi-rail); the client's counters."""
    traffic.known_bug(ctx)
    lnet.discover(ctx.nids["server"][0])
    p = traffic.peer(ctx.nids["server"][0])
    assert p and p["mr"] and len(p["nids"]) == 3, f"discovered {p}"
    return traffic.snap()


@test.step(role="client", after=[before], timeout=300)
def writes(ctx):
    """24 s of 1 MiB writes to the server's first NID, with no error."""
    return traffic.write(ctx, seconds=24)


@test.step(role="client", after=[before], timeout=200)
def delete(ctx):
    """Once the writes flow, the client deletes its NI on its third interface."""
    mine = ctx.nids["client"]
    flowing = traffic.wait_traffic(ctx.result(before), mine, kind="nis")
    lnet.lnetctl("net", "del", "--net", "tcp", "--if", ctx.node.usable_interfaces[2]["name"])
    done = traffic.snap()
    assert traffic.local_nids(done) == sorted(mine[:2]), f"local NIs now {traffic.local_nids(done)}"
    return {"deleted": done,
            "before delete": traffic.moved(ctx.result(before), flowing, "nis", nids=mine)}


@test.step(role="client", after=[before, writes, delete], timeout=120)
def carried_on(ctx):
    """No drop; since the delete the two local NIs left carried the sends, each near half."""
    mine = ctx.nids["client"]
    end = traffic.snap()
    traffic.no_new_drops(ctx.result(before), end, "writes with a local NI deleted")
    since = traffic.moved(ctx.result(delete)["deleted"], end, "nis", nids=mine[:2])
    print(f"sends per local NI since the delete: {since}")
    return {"since delete": traffic.even(since, "sends per local NI left"),
            "before delete": ctx.result(delete)["before delete"]}


@test.step(role="server", after=[carried_on], timeout=120)
def server_knows(ctx):
    """The server's peer for the client lists the client's two NIDs left (pushed by it)."""
    client = ctx.nids["client"]
    return traffic.wait_for("the server's peer NIDs of the client",
                            lambda: sorted((traffic.peer(client[0]) or {}).get("nids") or []),
                            sorted(client[:2]))
