"""Steps on two nodes run at the same time."""
import time

from lutf import Test

test = Test(nodes=2)


@test.step(role=test.roles)
def nap(ctx):
    """Sleep a while on every node, and say when."""
    start = time.time()
    time.sleep(1.5)
    return {"start": start, "end": time.time(), "host": ctx.node.hostname}


@test.step(role="node1", after=[nap])
def overlapped(ctx):
    """The naps overlapped in time (the nodes' clocks agree to well under a second)."""
    naps = ctx.result(nap)  # {"node1": {...}, "node2": {...}}
    one, two = naps["node1"], naps["node2"]
    overlap = min(one["end"], two["end"]) - max(one["start"], two["start"])
    assert overlap > 0, (
        f"the naps did not overlap: node1 {one['start']:.3f}-{one['end']:.3f}, "
        f"node2 {two['start']:.3f}-{two['end']:.3f}"
    )
    return {"overlap_seconds": round(overlap, 3)}
