"""`udsp add --idx N` inserts the rule at index N and shifts the rules after it; an index past the end appends."""
from lutf import Test

import common

test = Test(interfaces=1)


@test.step(timeout=300)
def insert(ctx):
    """A, B appended; C at --idx 0; D at --idx 2; E at --idx 9 (past the end)."""
    common.start(ctx)
    a, b, c, d, e = ({"src": f"tcp{i}", "priority": i} for i in range(1, 6))
    common.add(**a)
    common.add(**b)
    common.add(idx=0, **c)
    common.expect([dict(c, idx=0), dict(a, idx=1), dict(b, idx=2)], "C inserted at 0")
    common.add(idx=2, **d)
    common.expect([dict(c, idx=0), dict(a, idx=1), dict(d, idx=2), dict(b, idx=3)],
                  "D inserted at 2")
    common.add(idx=9, **e)
    return common.expect([dict(c, idx=0), dict(a, idx=1), dict(d, idx=2), dict(b, idx=3),
                          dict(e, idx=4)], "E at 9 appended")


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
