"""A peer NI set to health 0 goes on the peer recovery queue and, with its recovery pings failing, ages out of it after recovery_limit seconds (ping count back to 0); with no limit and pings passing, one set to 500 recovers to 1000 and leaves the queue.

Like sanity-lnet 211. recovery_limit is 10 s (LNet's default 0 means "for ever"); the drop
rules report remote_error on GETs from the client to the server, so the recovery pings fail
without lowering anything else; the server is multi-rail so that a remote status counts."""
from lutf import Test, faults, lnet
from lutf.provision import LNet

import common

LIMIT = 10

test = Test(roles=["client", "server"], lnet=LNet(
    {"client": {"nets": common.MR}, "server": {"nets": common.MR}},
    globals=dict(common.GLOBALS, recovery_limit=LIMIT)))
common.begin(test)


def queued():
    return common.in_recovery("peer")


@test.step(role="client", timeout=600)
def ages_out(ctx):
    """Rules client -> server remote_error; peer set --health 0 --nid server: queued, then out within the limit (+ one ping interval), ping_count 0."""
    common.fresh(ctx)
    server = ctx.nids["server"]
    assert common.discover(server[0]) == sorted(server), "the server is not one peer of 2 NIs"
    common.health_rules("remote_error", sorted(ctx.nids["client"]), server)
    common.set_health("peer", 0, server[0])
    assert server[0] in queued(), f"{server[0]} is not on the peer recovery queue"
    common.wait_for(f"{server[0]} aged out of recovery", queued,
                    lambda q: server[0] not in q, timeout=3 * LIMIT + 20)
    ni = common.peer_nis(server[0])[server[0]]
    assert ni["ping_count"] == 0, f"ping_count not reset on aging out: {ni}"
    faults.clear()
    return ni


@test.step(role="client", after=[ages_out], timeout=600)
def recovers(ctx):
    """No rule, recovery_limit 0: peer set --health 500: queued, then back to 1000 and off the queue."""
    server = ctx.nids["server"][0]
    lnet.lnetctl("set", "recovery_limit", 0)
    common.set_health("peer", 500, server)
    assert server in queued(), f"{server} at health 500 is not on the peer recovery queue"
    common.wait_for(f"{server} off the recovery queue", queued, lambda q: server not in q,
                    timeout=90, interval=2)
    ni = common.peer_nis(server)[server]
    assert ni["health"] == common.MAX_HEALTH, f"{server} left recovery at {ni}"
    return ni
