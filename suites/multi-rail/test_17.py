"""Peers on a net the node does not have yet: their NIs have no credits and an extra reference; once the net is added they get the NI's credits and the extra reference goes."""
import time

from lutf import Test, lnet

import common

test = Test(interfaces=2)

A = common.PEER_NET_A


def credits(primary):
    """NID -> (refcount, max_ni_tx_credits, available_tx_credits) from peer show -v."""
    return {n: (int(ni["refcount"]), int(ni["max_ni_tx_credits"]),
                int(ni["available_tx_credits"]))
            for n, ni in common.peer_ni_details(primary).items()}


@test.step(timeout=300)
def remote_then_local(ctx):
    """tcp on if1; peer A.1@tcp1 + A.2@tcp1: refcount 2, credits 0; net add tcp1 on if2: refcount 1, credits = tcp1's peer_credits."""
    i0, i1 = common.start(ctx, 2)[:2]
    lnet.add_ni("tcp", [i0])
    primary = f"{A}.1@tcp1"
    lnet.add_peer([f"{A}.2@tcp1"], primary=primary)
    before = credits(primary)
    assert before == {n: (2, 0, 0) for n in common.host_nids(A, [1, 2], "tcp1")}, before
    lnet.add_ni("tcp1", [i1])
    peer_credits = int(common.local_nis("tcp1")[common.nid(ctx, i1, "tcp1")]
                       ["tunables"]["peer_credits"])
    want = {n: (1, peer_credits, peer_credits) for n in before}
    deadline = time.monotonic() + 60
    after = credits(primary)
    while after != want and time.monotonic() < deadline:
        time.sleep(2)  # a message in flight holds a reference and a credit for a moment
        after = credits(primary)
    assert after == want, f"after net add tcp1: {after}, expected {want} (before: {before})"
    return {"before": before, "after": after}


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
