"""A peer added with two NIDs shows as one multi-rail peer with both; deleting one NID, then the peer, shows each change."""
from lutf import Test, lnet

import common

test = Test()

PRIMARY, SECOND = "192.0.2.1@tcp", "192.0.2.2@tcp"


def peer_nids(primary):
    shown = lnet.show_peer(nid=primary)
    peers = shown.get("peer") or []
    assert len(peers) == 1, shown
    return peers[0], sorted(ni["nid"] for ni in peers[0].get("peer ni") or [])


@test.step(timeout=300)
def peer_add_del(ctx):
    """peer add of two NIDs; show: primary, Multi-Rail, both NIDs; del of one NID; del of the peer."""
    common.start(ctx)
    lnet.add_peer([SECOND], primary=PRIMARY)
    peer, nids = peer_nids(PRIMARY)
    assert peer["primary nid"] == PRIMARY, peer
    assert peer.get("Multi-Rail") in (True, "True"), peer
    assert nids == sorted([PRIMARY, SECOND]), nids
    lnet.del_peer(PRIMARY, [SECOND])
    assert peer_nids(PRIMARY)[1] == [PRIMARY]
    lnet.del_peer(PRIMARY)
    left = lnet.list_peers()
    assert PRIMARY not in str(left), f"peer list after delete: {left}"
    return nids


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
