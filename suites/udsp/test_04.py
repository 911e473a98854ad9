"""Rules are appended in order with indexes 0, 1, 2; deleting the middle one renumbers the next, deleting the first the last."""
from lutf import Test

import common

test = Test(interfaces=1)


@test.step(timeout=300)
def order(ctx):
    """Add --src tcp1, --src NID, --dst NID; show; del --idx 1; show; del --idx 0; show."""
    nid = common.start(ctx)[0]
    a = {"src": "tcp1", "priority": 0}
    b = {"src": nid, "priority": 1}
    c = {"dst": "1.1.1.1@tcp", "priority": 2}
    for rule in (a, b, c):
        common.add(**rule)
    common.expect([dict(a, idx=0), dict(b, idx=1), dict(c, idx=2)], "three rules added")
    # `udsp show --idx N` with a rule at N is not checked: liblnetconfig frees that rule
    # twice (common.py, "LNet bugs met") and lnetctl aborts.
    common.delete(1)
    common.expect([dict(a, idx=0), dict(c, idx=1)], "rule 1 deleted")
    common.delete(0)
    common.expect([dict(c, idx=0)], "rule 0 deleted")
    return common.rules()


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
