"""dynamic_nids=1 on the client only: after the OST server's NID changes (moved to its second interface) the client's OSC learns the new NID and writes (FULL on it) but the MDS's OSP does not: once the objects the MDS precreated before the move are used up (osp prealloc_next_id/prealloc_last_id), the next create has not returned after 60 s and the MDS got no new objects.

The OST stays mounted (wbcfs targets live in RAM) and LNet moves underneath it: the OSS deletes net tcp and adds it again on its second interface; the target tells the MGS its new NIDs and the MGS's imperative recovery passes them on (see common.py). LNet discovery is off, so only Lustre can redirect the imports. Needs 3 nodes, 2 interfaces on the OSS."""
import common

test = common.moved_nid_test({"mds": False, "client": True},
                              io_fails_because="the MDS cannot reach the OST")
