"""A drop rule at rate 1 between two NIDs makes pings fail and the drop counters move; removed, pings answer again."""
from lutf import Test, faults, lnet, stats
from lutf.provision import LNet

test = Test(
    roles=["client", "server"],
    lnet=LNet({"client": {"nets": {"tcp": [0]}}, "server": {"nets": {"tcp": [0]}}}),
)


def answers(nid, tries=1):
    """How many of `tries` LNet pings of `nid` were answered (2 s each)."""
    n = 0
    for _ in range(tries):
        try:
            lnet.ping(nid, timeout=2)
            n += 1
        except lnet.LnetError as e:
            print(f"ping {nid}: {e.description} (errno {e.errno})")
    return n


@test.step(role="client", timeout=120)
def pings_before(ctx):
    """The server answers before any rule."""
    assert answers(ctx.nids["server"][0]) == 1, "the server does not answer before any rule"


@test.step(role="server", after=[pings_before], timeout=120)
def add_rule(ctx):
    """The server drops every message from the client's NID to its own."""
    before = stats.snapshot()
    faults.drop(src=ctx.nids["client"][0], dst=ctx.nids["server"][0], rate=1)
    rules = faults.list()
    ctx.log("rules:", rules)
    assert rules["drop"], "the drop rule is not listed"
    return {"global": before["global"], "time": before["time"]}


@test.step(role="client", after=[add_rule], timeout=120)
def pings_fail(ctx):
    """Every ping is lost."""
    got = answers(ctx.nids["server"][0], tries=3)
    assert got == 0, f"{got} of 3 pings answered through a drop-everything rule"


@test.step(role="server", after=[add_rule, pings_fail], timeout=120)
def counted(ctx):
    """LNet counted the drops; then the rule is removed and no longer listed."""
    before = ctx.result(add_rule)
    after = stats.snapshot()
    d = stats.delta(dict(before, recovery={}), after)
    dropped = d["global"].get("drop_count", 0)
    ctx.log("delta:", d["global"])
    faults.clear()
    assert not faults.list()["drop"], "the drop rule is still listed after clear()"
    assert dropped > 0, f"LNet's drop_count did not move: {d['global']}"
    return {"dropped": dropped}


@test.step(role="client", after=[counted], timeout=120)
def pings_back(ctx):
    """The server answers again."""
    assert answers(ctx.nids["server"][0], tries=3) >= 1, "no answer once the rule is removed"
