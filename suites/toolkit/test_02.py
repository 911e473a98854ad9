"""A drop rule at rate 1 between two NIDs makes pings fail and the drop counters move; removed, pings answer again."""
from lutf import Test, faults, lnet, stats
from lutf.provision import LNet

test = Test(
    roles=["client", "server"],
    lnet=LNet({"client": {"nets": {"tcp": [0]}}, "server": {"nets": {"tcp": [0]}}}),
)


def ping(nid):
    """Whether `nid` answers one LNet ping within 2 s."""
    try:
        lnet.ping(nid, timeout=2)
        return True
    except lnet.LnetError as e:
        print(f"ping {nid}: {e.description} (errno {e.errno})")
        return False


@test.step(role="client", timeout=240)
def drop(ctx):
    """Ping, drop everything the client sends to the server, ping, remove the rule, ping."""
    me, server = ctx.nids["client"][0], ctx.nids["server"][0]
    assert ping(server), f"{server} does not answer before any rule"
    before = stats.snapshot()
    faults.drop(src=me, dst=server, rate=1)
    rules = faults.list()
    ctx.log("rules:", rules)
    assert rules["drop"], "the drop rule is not listed"
    answered = [ping(server) for _ in range(3)]
    after = stats.snapshot()
    d = stats.delta(before, after)
    assert not any(answered), f"pings answered through a drop-everything rule: {answered}"
    dropped = d["global"].get("drop_count", 0)
    assert dropped > 0, f"LNet's drop_count did not move: {d['global']}"
    faults.clear()
    assert not faults.list()["drop"], "the drop rule is still listed after clear()"
    assert ping(server), f"{server} does not answer once the rule is removed"
    return {"dropped": dropped, "send_count": d["global"].get("send_count")}
