"""LNet starts with no selection rules: `udsp show` (lnetctl and liblnetconfig) is empty, and so is `udsp show --idx 0`."""
from lutf import Test

import common

test = Test(interfaces=1)


@test.step(timeout=300)
def empty(ctx):
    """LNet up with tcp on the first interface: both shows list no rule."""
    common.start(ctx)
    common.expect([], "fresh LNet")
    assert common.rules(idx=0) == [], f"udsp show --idx 0: {common.rules(idx=0)}"
    return common.rules()


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
