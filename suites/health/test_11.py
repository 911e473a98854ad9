"""lnetctl net set --health, single rail and multi-rail: --nid sets that NI only, --all every NI; 0 takes an NI down and puts it on the local recovery queue, 1000 brings it up, 500 changes no status.

health_sensitivity is 0 (as sanity-lnet 234 does), so that recovery pings, which succeed
here, do not raise a value between the set and the reading. The two roles run side by side:
`sr` has one NI (tcp on its first interface), `mr` two (tcp on both)."""
from lutf import Test
from lutf.provision import LNet

import common

test = Test(roles=["sr", "mr"], lnet=LNet(
    {"sr": {"nets": common.SR}, "mr": {"nets": common.MR}},
    globals=dict(common.GLOBALS, health_sensitivity=0)))
common.begin(test)


def states():
    return {nid: (e["health"], e["status"]) for nid, e in common.local_nis().items()}


def check(ctx, value, nid=None):
    """Sets `value` on `nid` (every NI without); returns what every NI shows."""
    before = states()
    common.set_health("net", value, nid)
    after = states()
    ctx.log(f"net set --health {value} {nid or '--all'}: {before} -> {after}")
    status = {0: "down", common.MAX_HEALTH: "up"}.get(value)
    for n, (health, st) in after.items():
        if nid is None or n == nid:
            assert health == value, f"{n}: health {health} after set --health {value}"
            if status:
                assert st == status, f"{n}: status {st} at health {value}"
            else:
                assert st == before[n][1], f"{n}: status {before[n][1]} -> {st} at health {value}"
        else:
            assert (health, st) == before[n], f"{n} changed with --nid {nid}: {before[n]} -> {(health, st)}"
    return after


@test.step(role=["sr", "mr"], timeout=600)
def net_set(ctx):
    """--nid first NI: 0, 500, 1000; --all: 0, 1000 (each checked on every NI)."""
    common.fresh(ctx)
    nids = ctx.nids[ctx.role]
    assert len(nids) == (1 if ctx.role == "sr" else 2), f"{ctx.role} has NIDs {nids}"
    assert all(s == (common.MAX_HEALTH, "up") for s in states().values()), states()
    seen = [check(ctx, 0, nids[0])]
    assert nids[0] in common.in_recovery("local"), f"{nids[0]} at 0 is not in recovery"
    seen.append(check(ctx, 500, nids[0]))
    seen.append(check(ctx, common.MAX_HEALTH, nids[0]))
    seen.append(check(ctx, 0))
    seen.append(check(ctx, common.MAX_HEALTH))
    return [{n: list(v) for n, v in s.items()} for s in seen]
