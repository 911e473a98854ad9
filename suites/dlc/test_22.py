"""Two nodes on one tcp net: a ping gets the server's NID back, the client then lists it as a peer, and its send and receive counts grow."""
from lutf import Test, lnet

import common

test = Test(roles=["client", "server"], interfaces=1)


@test.step(role="server", timeout=300)
def server(ctx):
    """LNet up with tcp on the server's first interface; its NID."""
    return common.end_node(ctx, "tcp", 0)


@test.step(role="client", after=[server], timeout=300)
def ping(ctx):
    """The client pings the server's NID: the reply names it; peer show lists it; stats grew."""
    common.end_node(ctx, "tcp", 0)
    nid = ctx.result(server)
    before = common.stats()
    answered = common.ping_ok(nid)
    assert nid in answered, f"ping {nid} answered {answered}"
    after = common.stats()
    assert after["send_count"] > before["send_count"], (before, after)
    assert after["recv_count"] > before["recv_count"], (before, after)
    peers = lnet.show_peer(nid=nid).get("peer") or []
    assert [p["primary nid"] for p in peers] == [nid], peers
    return {"answered": answered, "sent": after["send_count"] - before["send_count"]}


@test.cleanup(role=test.roles, timeout=300)
def down(ctx):
    """LNet unconfigured on both, as the test found it."""
    common.stop(ctx)
