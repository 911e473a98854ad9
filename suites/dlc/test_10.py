"""Global settings changed with `set` (retry_count, transaction_timeout, health, recovery_limit, response_tracking, discovery, max_interfaces) show as set."""
from lutf import Test, lnet

import common

test = Test()

VALUES = {
    "transaction_timeout": 70,
    "retry_count": 1,
    "health_sensitivity": 50,
    "recovery_limit": 10,
    "response_tracking": 1,
    "router_sensitivity": 60,
    "drop_asym_route": 1,
    "discovery": 0,
    "max_interfaces": 200,
}


@test.step(timeout=300)
def saved(ctx):
    """LNet up; the global settings as they were."""
    common.start(ctx)
    before = common.globals_now()
    missing = [k for k in VALUES if k not in before]
    assert not missing, f"global show lacks {missing}: {before}"
    assert all(before[k] != v for k, v in VALUES.items()), f"a test value is the current one: {before}"
    return before


@test.step(after=[saved], timeout=300)
def set_show(ctx):
    """Each setting changed with set_global; global show (and show of that one) gives the new value."""
    for key, value in VALUES.items():
        lnet.set_global(key, value)
    now = common.globals_now()
    wrong = {k: now.get(k) for k, v in VALUES.items() if now.get(k) != v}
    assert not wrong, f"global show after set: {wrong}, set {VALUES}"
    one = lnet.show_global("retry_count")["global"]
    assert one.get("retry_count") == VALUES["retry_count"], one
    return now


@test.cleanup(after=[saved], timeout=300)
def down(ctx):
    """The settings restored (transaction_timeout before retry_count), LNet unconfigured."""
    before = ctx.results.get("saved")
    if before:
        common.restore_globals(before, list(VALUES))
        now = common.globals_now()
        assert all(now[k] == before[k] for k in VALUES), f"not restored: {now} vs {before}"
    common.stop(ctx)
