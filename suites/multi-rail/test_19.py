"""numa_range: values from 0 to 2^31-1 (set or imported) are shown by global show and the module parameter; a value that is no number is refused and changes nothing."""
from lutf import Test, lnet

import common

test = Test()

PARAM = "/sys/module/lnet/parameters/lnet_numa_range"
#: lnetctl's own errno for a value it cannot parse (jt_set_numa builds the error with -1).
PARSE_ERRNO = -1


def shown():
    """numa_range as global show has it and as the lnet module parameter has it."""
    with open(PARAM) as f:
        return int(common.globals_now()["numa_range"]), int(f.read().strip())


@test.step(timeout=300)
def numa_range(ctx):
    """set numa_range 100, 1, 2147483647, 0, lnetctl set 42, import of numa range 7: each shown; lnetctl set numa_range abc / 12x: refused, 7 kept."""
    common.start(ctx)
    for value in (100, 1, 2 ** 31 - 1, 0):
        lnet.set_global("numa_range", value)
        assert shown() == (value, value), f"after set numa_range {value}: {shown()}"
    lnet.lnetctl("set", "numa_range", 42)
    assert shown() == (42, 42), f"after lnetctl set numa_range 42: {shown()}"
    lnet.yaml_config("numa:\n    range: 7\n")
    assert shown() == (7, 7), f"after import of numa range 7: {shown()}"
    out = {}
    for bad in ("abc", "12x"):
        out[bad] = common.refused(PARSE_ERRNO, f"lnetctl set numa_range {bad}",
                                  lnet.lnetctl, "set", "numa_range", bad)
        assert shown() == (7, 7), f"after set numa_range {bad}: {shown()}"
    return out


@test.cleanup(timeout=300)
def down(ctx):
    """numa_range back to 0, LNet unconfigured."""
    try:
        lnet.set_global("numa_range", 0)
    except lnet.LnetError as e:
        ctx.log(f"numa_range not reset: {e}")
    common.stop(ctx)
