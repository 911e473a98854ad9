"""Deleting one NI of a three-NI net removes only that NI; the others stay as they were, and so does the net."""
from lutf import Test, lnet

import common

test = Test(interfaces=3)


def without_counters(nis):
    """The NI records without what traffic changes."""
    return {n: {k: v for k, v in ni.items() if k not in ("statistics", "health stats")}
            for n, ni in nis.items()}


@test.step(timeout=300)
def del_one(ctx):
    """tcp over three interfaces; net del --if the second: two NIs left, unchanged; then the first: one left."""
    i0, i1, i2 = common.start(ctx, 3)[:3]
    lnet.add_ni("tcp", [i0, i1, i2])
    before = without_counters(common.local_nis())
    assert len(before) == 3, before
    lnet.del_ni("tcp", [i1])
    after = without_counters(common.local_nis())
    gone = common.nid(ctx, i1)
    assert sorted(after) == sorted(n for n in before if n != gone), sorted(after)
    for n, ni in after.items():
        assert ni == before[n], f"{n} changed when {gone} was deleted: {before[n]} -> {ni}"
    lnet.del_ni("tcp", [i0])
    assert common.layout() == {"tcp": [(common.nid(ctx, i2), i2, "up")]}, common.layout()
    return sorted(after)


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
