"""Each kind of rule is shown as added, through lnetctl and liblnetconfig: src and dst net and NID priority rules, src+dst NID pair rules and dst+rte router rules; each deleted leaves none."""
from lutf import Test, lnet

import common

test = Test(interfaces=1)


@test.step(timeout=300)
def each_kind(ctx):
    """For each rule, lnetctl then liblnetconfig: add, show lists exactly it at index 0, del --idx 0 leaves none."""
    nid = common.start(ctx)[0]
    far = "1.1.1.1@tcp"
    cases = [
        ({"src": "tcp", "priority": 1}, {"src": "tcp", "priority": 1}),
        ({"src": nid, "priority": 1}, {"src": nid, "priority": 1}),
        ({"dst": "tcp", "priority": 1}, {"dst": "tcp", "priority": 1}),
        ({"dst": far, "priority": 1}, {"dst": far, "priority": 1}),
        ({"src": "tcp1", "priority": 7}, {"src": "tcp1", "priority": 7}),
        # a pair rule and a router rule rank nothing: no priority shown
        ({"src": nid, "dst": far}, {"src": nid, "dst": far}),
        ({"dst": far, "rte": "1.1.1.2@tcp"}, {"dst": far, "rte": "1.1.1.2@tcp"}),
        ({"dst": "tcp1", "rte": "1.1.1.2@tcp"}, {"dst": "tcp1", "rte": "1.1.1.2@tcp"}),
    ]
    for args, shown in cases:
        common.add(**args)
        common.expect([dict(shown, idx=0)], f"udsp add {args}")
        common.delete(0)
        common.expect([], f"udsp del --idx 0 after {args}")
        lnet.add_udsp(**args)
        common.expect([dict(shown, idx=0)], f"add_udsp({args})")
        lnet.del_udsp(idx=0)
        common.expect([], f"del_udsp(idx=0) after {args}")
    return len(cases)


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
