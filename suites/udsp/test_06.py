"""Adding a rule already there is refused (EALREADY: lnetctl prints errno 114, liblnetconfig returns it unsigned) and the rules stay as they were; the same match with another priority updates that rule in place."""
from lutf import Test, lnet

import common

test = Test(interfaces=1)


@test.step(timeout=300)
def duplicate(ctx):
    """--src tcp1 prio 1 twice (lnetctl and liblnetconfig): EALREADY; with prio 3: rule 0 now prio 3, no new rule."""
    nid = common.start(ctx)[0]
    common.add(src="tcp1", priority=1)
    common.add(dst=nid, priority=2)
    want = [{"idx": 0, "src": "tcp1", "priority": 1}, {"idx": 1, "dst": nid, "priority": 2}]
    common.expect(want, "two rules")
    cli = common.refused(common.EALREADY_UNSIGNED, "the same rule again (lnetctl)", common.add,
                         src="tcp1", priority=1)
    lib = common.refused(common.EALREADY, "the same rule again (liblnetconfig)",
                         lnet.add_udsp, src="tcp1", priority=1)
    common.add(src="tcp1", priority=3)
    want[0]["priority"] = 3
    common.expect(want, "the same match with priority 3")
    return {"lnetctl": cli, "liblnetconfig": lib}


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
