"""A peer NI deleted mid-traffic (static multi-rail peers, discovery off): ``peer del --nid`` of one of the server's three NIDs while lnet_selftest writes run; selftest counts no error, LNet drops nothing, the peer keeps the other two NIDs and they carry the rest of the traffic."""
from lutf import Test, lnet
from lutf.provision import LNet

import traffic

test = Test(roles=["client", "server"], lnet=LNet(
    traffic.static_peers(), globals={"discovery": 0}, modules=traffic.MODULES))


@test.step(role="client")
def before(ctx):
    """The client's counters before the traffic."""
    traffic.known_bug(ctx)
    return traffic.snap()


@test.step(role="client", after=[before], timeout=300)
def writes(ctx):
    """24 s of 1 MiB writes to the server's first NID, with no error."""
    return traffic.write(ctx, seconds=24)


@test.step(role="client", after=[before], timeout=200)
def delete(ctx):
    """Once the writes flow, the server's third NID is deleted from its peer."""
    server = ctx.nids["server"]
    flowing = traffic.wait_traffic(ctx.result(before), server)
    lnet.lnetctl("peer", "del", "--prim_nid", server[0], "--nid", server[2])
    done = traffic.snap()
    p = traffic.peer(server[0])
    assert p and p["mr"] and sorted(p["nids"]) == sorted(server[:2]), (
        f"after deleting {server[2]} the peer is {p}")
    return {"flowing": flowing, "deleted": done,
            "before delete": traffic.moved(ctx.result(before), flowing, nids=server)}


@test.step(role="client", after=[before, writes, delete], timeout=120)
def carried_on(ctx):
    """No drop; since the delete the two NIDs left carried sends (each near half), the deleted one none."""
    server = ctx.nids["server"]
    end = traffic.snap()
    split = traffic.peer(server[2])
    traffic.no_new_drops(ctx.result(before), end,
                         f"writes with a peer NI deleted (the deleted {server[2]} is now held "
                         f"by the peer {split})")
    deleted = ctx.result(delete)["deleted"]
    since = traffic.moved(deleted, end, nids=server)
    print(f"sends per server NI since the delete: {since}")
    p = traffic.peer(server[0])
    assert p and sorted(p["nids"]) == sorted(server[:2]), f"the peer is now {p}"
    assert since[server[2]] == 0, f"sends to the deleted {server[2]}: {since}"
    rest = traffic.even({n: since[n] for n in server[:2]}, "sends per NI left")
    return {"since delete": rest, "before delete": ctx.result(delete)["before delete"],
            "peer": p, "other peer": traffic.peer(server[2])}
