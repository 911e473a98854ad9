"""numa_range set with `set` shows in global show and in export; it is set back afterwards."""
from lutf import Test, lnet

import common

test = Test()


@test.step(timeout=300)
def saved(ctx):
    """LNet up; numa_range as it was."""
    common.start(ctx)
    return common.globals_now()["numa_range"]


@test.step(after=[saved], timeout=300)
def numa_range(ctx):
    """set numa_range 100: global show and export --backup both say 100."""
    assert ctx.result(saved) != 100, ctx.result(saved)
    lnet.set_global("numa_range", 100)
    assert common.globals_now()["numa_range"] == 100, common.globals_now()
    exported = common.backup()["global"]["numa_range"]
    assert exported == 100, exported
    return exported


@test.cleanup(after=[saved], timeout=300)
def down(ctx):
    """numa_range restored, LNet unconfigured."""
    before = ctx.results.get("saved")
    if before is not None:
        lnet.lnetctl("set", "numa_range", before)  # shown as u32: may exceed set_global's i32
    common.stop(ctx)
