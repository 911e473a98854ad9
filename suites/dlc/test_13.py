"""export --backup, then unconfigure, configure and import of that export, gives the same export (nets, tunables, peers, routes)."""
from lutf import Test, lnet

import common

test = Test(interfaces=2)


@test.step(timeout=300)
def round_trip(ctx):
    """Two nets with tunables, a multi-rail peer and a route exported, LNet reset, the export imported: identical."""
    ifaces = common.start(ctx)
    lnet.add_ni("tcp", [ifaces[0]], tunables={"peer_credits": 16, "credits": 128})
    lnet.add_ni("tcp1", [ifaces[1]])
    lnet.add_peer(["192.0.2.2@tcp"], primary="192.0.2.1@tcp")
    gateway = common.fake_gateway(ctx)
    lnet.add_route("tcp9", gateway, hops=2, priority=1)
    exported = lnet.lnetctl("export", "--backup")
    before = common.backup(exported["output"])
    for section in ("net", "peer", "route"):
        assert before.get(section), f"export lacks {section}: {before}"
    lnet.unconfigure()
    lnet.configure()
    assert common.nets() == ["lo"], common.nets()
    lnet.lnetctl("import", stdin=exported["text"])
    after = common.backup()
    assert after == before, f"export after import differs:\nbefore {before}\nafter {after}"
    return sorted(before)


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
