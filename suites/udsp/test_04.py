"""Rules are appended in order with indexes 0, 1, 2; `show --idx N` shows rule N alone; deleting the middle one renumbers the next."""
from lutf import Test

import common

test = Test(interfaces=1)


@test.step(timeout=300)
def order(ctx):
    """Add --src tcp1, --src NID, --dst NID; show; show --idx 1; del --idx 1; show."""
    nid = common.start(ctx)[0]
    a = {"src": "tcp1", "priority": 0}
    b = {"src": nid, "priority": 1}
    c = {"dst": "1.1.1.1@tcp", "priority": 2}
    for rule in (a, b, c):
        common.add(**rule)
    common.expect([dict(a, idx=0), dict(b, idx=1), dict(c, idx=2)], "three rules added")
    one = common.rules(idx=1)
    assert one == [dict(b, idx=1)], f"udsp show --idx 1: {one}"
    common.delete(1)
    common.expect([dict(a, idx=0), dict(c, idx=1)], "rule 1 deleted")
    common.delete(0)
    common.expect([dict(c, idx=0)], "rule 0 deleted")
    return common.rules()


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
