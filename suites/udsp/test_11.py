"""Rules belong to the running LNet: `export --backup` holds them and `import` brings them back after an unconfigure, which drops them."""
from lutf import Test, lnet

import common

test = Test(interfaces=1)


@test.step(timeout=300)
def round_trip(ctx):
    """Three rules; export --backup; lnet unconfigure + configure: no rule; import the backup: the same rules."""
    nid = common.start(ctx)[0]
    for rule in ({"src": "tcp", "priority": 1}, {"dst": "1.1.1.1@tcp", "priority": 2},
                 {"src": nid, "dst": "1.1.1.1@tcp"}):
        common.add(**rule)
    want = common.rules()
    backup = lnet.lnetctl("export", "--backup")
    exported = (backup["output"] or {}).get("udsp") or []
    assert len(exported) == 3, f"export --backup has udsp {exported}"
    lnet.unconfigure()
    lnet.configure()
    common.expect([], "after lnet unconfigure and configure")
    lnet.lnetctl("import", stdin=backup["text"])
    common.expect(want, "after importing the backup")
    return want


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
