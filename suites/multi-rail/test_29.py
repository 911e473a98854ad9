"""Static multi-rail peers deleted (discovery off) come back from traffic as non-multi-rail peers of one NID each: writes spread over the server's three NIDs; after ``peer del`` on both nodes the next writes re-create the peer of the server's first NID not multi-rail with that NID alone, carrying the sends, and any other server NID the client hears from is a one-NID non-MR peer of its own (never merged back)."""
from lutf import Test, lnet
from lutf.provision import LNet

import traffic

test = Test(roles=["client", "server"], lnet=LNet(
    traffic.static_peers(), globals={"discovery": 0}, modules=traffic.MODULES))


@test.step(role="client", timeout=300)
def spread(ctx):
    """12 s of writes to the static MR peer: all three server NIDs carry sends."""
    server = ctx.nids["server"]
    before = traffic.snap()
    traffic.write(ctx, seconds=12)
    to = traffic.moved(before, traffic.snap(), nids=server)
    assert all(to.values()), f"a NID of the MR peer carried no send: {to}"
    return to


@test.step(role=["client", "server"], after=[spread], timeout=120)
def deleted(ctx):
    """Each node deletes its peer of the other: no peer left."""
    other = ctx.nids["server" if ctx.role == "client" else "client"]
    lnet.lnetctl("peer", "del", "--prim_nid", other[0])
    left = [n for n in other if traffic.peer(n)]
    assert not left, f"peers still hold {left}"
    return True


@test.step(role="client", after=[deleted], timeout=300)
def non_mr(ctx):
    """12 s of writes to the server's first NID: the peer comes back non-MR with that NID alone, which carries every send."""
    server = ctx.nids["server"]
    before = traffic.snap()
    r = traffic.write(ctx, seconds=12)
    after = traffic.snap()
    traffic.no_new_drops(before, after, "writes to re-created peers")
    p = traffic.peer(server[0])
    assert p and not p["mr"] and p["nids"] == [server[0]], (
        f"re-created peer {p}: expected non-MR with {server[0]} only")
    others = [traffic.peer(n) for n in server[1:]]
    for o in others:  # the server may send from another NID: that is a peer of its own
        assert o is None or (not o["mr"] and len(o["nids"]) == 1), (
            f"a NID of the server came back in a multi-NID or MR peer: {others}")
    to = traffic.moved(before, after, nids=server)
    assert to[server[0]] >= 10, f"few sends to {server[0]}: {to}"
    return {"selftest": r, "peer": p, "others": others, "sends": to}


@test.step(role="server", after=[non_mr], timeout=120)
def server_view(ctx):
    """The server's re-created peer of the client is non-MR with one of the client's NIDs."""
    client = ctx.nids["client"]
    shown = lnet.lnetctl("peer", "show")["output"] or {}
    peers = [traffic.peer(p["primary nid"]) for p in shown.get("peer") or []]
    assert peers, "the server has no peer"
    for p in peers:
        assert not p["mr"] and len(p["nids"]) == 1 and p["nids"][0] in client, (
            f"re-created peers {peers}: expected non-MR ones with one client NID each")
    return peers
