"""A ping of the node's own NID shows in stats (send and receive counts grow); stats reset sets the counters back to 0."""
from lutf import Test, lnet

import common

test = Test(interfaces=1)


@test.step(timeout=300)
def stats_reset(ctx):
    """ping own tcp NID: send_count and recv_count grow; reset_stats: both 0."""
    ifaces = common.start(ctx)
    lnet.add_ni("tcp", [ifaces[0]])
    nid = common.nid_of(ctx.node.address)
    before = common.stats()
    assert nid in common.ping_ok(nid), f"own NID {nid} did not answer"
    after = common.stats()
    for key in ("send_count", "recv_count"):
        assert after[key] > before[key], f"{key}: {before[key]} -> {after[key]}"
    lnet.reset_stats()
    reset = common.stats()
    assert reset["send_count"] == 0 and reset["recv_count"] == 0, reset
    return {"after ping": after["send_count"], "after reset": reset["send_count"]}


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
