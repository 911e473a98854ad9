"""`udsp del --all` deletes every rule, and so does liblnetconfig's del_udsp without an index."""
from lutf import Test, lnet

import common

test = Test(interfaces=1)


@test.step(timeout=300)
def del_all(ctx):
    """Three rules, del --all: none; three again, del_udsp(): none."""
    nid = common.start(ctx)[0]
    added = [{"src": "tcp1", "priority": 1}, {"dst": nid, "priority": 2},
             {"src": nid, "dst": "1.1.1.1@tcp"}]
    for how in ("lnetctl udsp del --all", "del_udsp()"):
        for rule in added:
            common.add(**rule)
        assert len(common.rules()) == 3, common.rules()
        if how.startswith("lnetctl"):
            lnet.lnetctl("udsp", "del", "--all")
        else:
            lnet.del_udsp()
        common.expect([], how)
    return len(added)


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
