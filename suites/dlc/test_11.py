"""Out-of-range global values (health_sensitivity 2000, retry_count -1) are refused (ENODATA) and the settings stay as they were."""
from lutf import Test, lnet

import common

test = Test()

# lnetctl reports these with errno -61 (ENODATA) and the text "Invalid argument".
ENODATA = -61


@test.step(timeout=300)
def bad_globals(ctx):
    """lnetctl set health_sensitivity 2000 / retry_count -1 fail with -ENODATA; global show unchanged."""
    common.start(ctx)
    before = common.globals_now()
    out = {}
    for key, value in (("health_sensitivity", 2000), ("retry_count", -1)):
        try:
            lnet.lnetctl("set", key, value)
        except lnet.LnetError as e:
            assert e.kind == "lnet" and e.errno == ENODATA, f"set {key} {value}: {e} ({e.errno})"
            out[key] = {"errno": e.errno, "description": e.description}
        else:
            ctx.fail(f"lnetctl set {key} {value} succeeded; LNet must refuse it")
        assert common.globals_now() == before, f"set {key} {value} changed the settings"
    return out


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
