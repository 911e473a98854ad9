"""dynamic_nids=0 on the MDS and the client: after the OST server's NID changes (moved to its second interface) neither import learns the new NID: a write to a new file has not ended after 60 s while the client's OSC is not FULL and has no connection to the new NID (the write is then ended by deactivating the OSC).

The OST stays mounted (wbcfs targets live in RAM) and LNet moves underneath it: the OSS deletes net tcp and adds it again on its second interface; the target tells the MGS its new NIDs and the MGS's imperative recovery passes them on (see common.py). LNet discovery is off, so only Lustre can redirect the imports. Needs 3 nodes, 2 interfaces on the OSS."""
import common

test = common.moved_nid_test({"mds": False, "client": False})
