"""An NI whose health reaches 0 goes down and stays on the local recovery queue while its recovery pings fail (their count grows, every max_recovery_ping_interval seconds at most); once they pass, they bring its health back to 1000 and the NI up. The node's other NI stays up throughout.

Like sanity-lnet 210 and 235: a drop rule reporting local_timeout on GETs from the first NI
to itself fails that NI's recovery pings. The node's two NIs are on two nets (tcp on its
first interface, tcp1 on its second), as in sanity-lnet 235: LNet pings an NI in recovery
from any local NI that reaches it (sanity-lnet 218), so with both NIs on one net the pings
could come from the healthy NI, which a nid1 -> nid1 rule does not match (and a rule from
any source would charge the healthy NI with the failures).
max_recovery_ping_interval is 2 s instead of 900 s, so that pings come every 2 s rather
than after 2, 4, 8, ... s and the test sees several in seconds."""
from lutf import Test, faults
from lutf.provision import LNet

import common

INTERVAL = 2

test = Test(roles=["node"], lnet=LNet(
    {"node": {"nets": {"tcp": [0], "tcp1": [1]}}},
    globals=dict(common.GLOBALS, max_recovery_ping_interval=INTERVAL)))
common.begin(test)


@test.step(role="node", timeout=600)
def down_and_back(ctx):
    """Rule nid1 -> nid1 local_timeout, net set --health 100 on nid1: down at 0, in recovery, ping_count grows; rule removed: health 1000 and up again."""
    common.fresh(ctx)
    nid1, nid2 = ctx.nids["node"]
    faults.drop(src=nid1, dst=nid1, rate=1, message="get", health="local_timeout")
    common.set_health("net", 100, nid1)
    down = common.wait_for(f"{nid1} down", common.local_nis,
                           lambda nis: nis[nid1]["status"] == "down", timeout=90)
    assert down[nid1]["health"] == 0, f"{nid1} is down with health {down[nid1]}"
    assert (down[nid2]["status"], down[nid2]["health"]) == ("up", common.MAX_HEALTH), \
        f"the other NI {nid2} changed: {down[nid2]}"
    assert nid1 in common.in_recovery("local"), f"{nid1} is not on the local recovery queue"
    first = down[nid1]["ping_count"]
    later = common.wait_for(f"{nid1}'s recovery ping count beyond {first}", common.local_nis,
                            lambda nis: nis[nid1]["ping_count"] >= first + 2,
                            timeout=6 * INTERVAL + 10)
    assert later[nid1]["status"] == "down", f"{nid1} came up with its pings failing: {later}"
    faults.clear()
    back = common.wait_for(f"{nid1} back up at health 1000", common.local_nis,
                           lambda nis: (nis[nid1]["status"], nis[nid1]["health"])
                           == ("up", common.MAX_HEALTH), timeout=120, interval=3)
    # LNet's monitor thread takes a healthy NI off the queue on its next pass, not at once.
    common.wait_for(f"{nid1} off the local recovery queue at health 1000",
                    lambda: common.in_recovery("local"), lambda q: nid1 not in q,
                    timeout=30, interval=2)
    return {"ping_count": [first, later[nid1]["ping_count"]], "back": back[nid1]}
