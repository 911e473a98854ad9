"""A source net rule without net number (`udsp add --src tcp`), with or without `--priority 0`, gets index 0 and priority 0; deleted by index, none is left (lnetctl and liblnetconfig)."""
from lutf import Test, lnet

import common

test = Test(interfaces=1)


@test.step(timeout=300)
def add_del(ctx):
    """add --src tcp; add --src tcp --priority 0; add_udsp(src=tcp): each shows idx 0 prio 0, del --idx 0 empties."""
    common.start(ctx)
    want = [{"idx": 0, "src": "tcp", "priority": 0}]
    common.add(src="tcp")
    shown = common.expect(want, "udsp add --src tcp")
    common.delete(0)
    common.expect([], "udsp del --idx 0")
    common.add(src="tcp", priority=0)
    common.expect(want, "udsp add --src tcp --priority 0")
    common.delete(0)
    common.expect([], "udsp del --idx 0")
    lnet.add_udsp(src="tcp")
    common.expect(want, "add_udsp(src=tcp)")
    lnet.del_udsp(idx=0)
    common.expect([], "del_udsp(idx=0)")
    return shown


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
