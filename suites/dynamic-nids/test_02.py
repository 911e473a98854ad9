"""dynamic_nids=1 on the MDS and the client: the OST server's NID changes (moved to its second interface) and I/O goes on: the MDS's OSP and the client's OSC connect to the new NID, a new file is written and read back.

The OST stays mounted (wbcfs targets live in RAM) and LNet moves underneath it: the OSS deletes net tcp and adds it again on its second interface; the target tells the MGS its new NIDs and the MGS's imperative recovery passes them on (see common.py). LNet discovery is off, so only Lustre can redirect the imports. Needs 3 nodes, 2 interfaces on the OSS."""
import common

test = common.moved_nid_test({"mds": True, "client": True})
