"""Shared helpers of the multi-rail traffic tests (test_21 and up); no test itself.

Two guests ("client", "server"), each with LNet on its three NICs. The LNet VMs
(docs/lnet-vms.md) put NIC k of every guest on its own subnet, so NIC k of the client talks
to NIC k of the server; a cross pair (client eth0 -> server eth1) is carried too (the guests
route by destination, rp_filter 0), so every local NI can reach every peer NI and only LNet's
selection decides which pair carries a message. The verdicts come from LNet's own counters:
``net show -v`` (local NIs), ``peer show -v`` (peer NIs) and ``stats show`` (drops), read
through `lutf.stats`, and from lnet_selftest's own error counts.

Spread tolerance (`SPREAD_TOLERANCE`, +-50 %): for a multi-rail peer LNet picks, among the
peer NIs of equal health and priority, the one with the most send credits, and only among
equal credits the one used least recently (``lpni_seq``, lnet_select_peer_ni); likewise for
its local NIs. So the spread is a round robin only while no NI has messages queued; under
load it follows how fast each NI drains, which on the emulated NICs of a loaded host varies.
Each of the N NIs must carry its even share (total / N) within +-50 % of that share, and
every NI must carry some: an NI LNet left out, or one taking two shares, fails. Measured on
test_21: 176/190/193 sends per peer NI on a quiet host (within 6 %), 97/121/71 on a host
at load 12 (-26 % .. +26 %), so +-25 % failed on a spread LNet got right. Upstream's
test_mr_UT_0175 allowed the same +-50 % and let 30 % of the NIs miss altogether.

Selftest's error count alone would miss a lost message: a brw RPC whose reply is lost
expires only after selftest's RPC timeout (64 s), after `write` has read the error counts.
So every test also checks LNet's drop counters (`no_new_drops`).

A testbed failure, not LNet's (seen once, test_23 in the check run of 2026-12-07): the emulated
link of the guests' third NICs (tcp1 there) went dead as the writes started, and selftest
counted an error node a side. The server's socklnd timed the connection out with nothing
received for 48 s (``Completing partial receive from 12345-C2@tcp1 ... last alive is 48 secs
ago``; its brw_server failed the bulk with -5), then could not even reach C2's address
(``Error -113 connecting``: no ARP answer) while the first two NICs carried on; the client's
brw RPCs that LNet had sent that way expired after 64 s (-110). LNet did what it should: both sides put the NI
and the peer NI into recovery. Three runs of test_23 since (at load 8-15) met nothing of the
kind. So an error of `write` with a ``last alive`` line and -113 on one NIC is the testbed's
NIC, not multi-rail.

An LNet race met by test_26 (1 run in 2 on 2026-12-07; in `KNOWN_BUGS`, since a test that
FAILs one run in two proves nothing either way): a GET
that arrives on a local NI while ``net del`` is removing it gets no REPLY. The client's
debug log, right at the delete: ``lnet_handle_spec_local_mr_dst()) Can't send to S0@tcp:
src C2@tcp is not a local nid`` and ``lnet_parse_get()) C2@tcp: Unable to send REPLY for GET
from 12345-S0@tcp: -22`` (the reply is pinned to the NI the GET came in on, already unlinked,
and no other NI is tried), then ``Removed LNI C2@tcp`` a second later. The server's bulk GET
fails 72 s later (``Bulk transfer from 12345-C2@tcp has failed: -108``) and the client's brw
RPC expires after 64 s (-110): selftest counts an error node on the client.

LNet bugs met on 2.17.57 (no LU ticket found): the tests stay as they are, and SKIP naming
the bug (`KNOWN_BUGS`) unless the run asks for them (``--param known_bugs=1``), where they
FAIL on 2.17.57 and show the bug:

- test_24: a NID deleted from a static multi-rail peer (``peer del --prim_nid S0 --nid S2``,
  discovery off) while the peer still sends from it loses messages. The server keeps the
  client as a multi-rail peer and keeps picking its local NI S2; the client now finds no peer
  for S2, so lnet_parse (lnet_peerni_by_nid_locked) makes a new non-MR peer with primary NID
  S2, and lnet_parse_put matches the message's initiator (msg_initiator, the primary NID of
  the sender's peer: now S2) against the MEs. selftest posted each reply buffer for its
  RPC's destination S0 (srpc_post_passive_rdma with crpc_dest), so the server's reply PUT
  from S2 matches nothing and is dropped: the client's debug log says
  ``lnet_parse_put()) Dropping PUT from 12345-S2@tcp portal 52 match ... length 160: 4``,
  ``stats show`` drop_count goes 0 -> 1 (drop_length 160, on the local NI it arrived on) and
  64 s later ``srpc_client_rpc_expired ... BRW RPC to 12345-S0@tcp failed with -110``.
  After the test the client lists S2 as a peer of its own (``primary nid: S2``, not
  multi-rail). Upstream's test_mr_UT_0310 expected no drop here. All three runs of test_24
  met the drop (and the -110 where the log was read; the first run's debug log holds the
  Dropping PUT line).
- test_28: ``lnetctl peer add --prim_nid S0 --nid S1,S2 --non_mr`` makes a multi-rail peer
  (``peer show``: Multi-Rail True, three NIDs). lnetctl sends the peer over netlink with
  ``Multi-Rail: False``, but the kernel's handler (api-ni.c, the "primary nid" branch near
  line 7170) creates the primary peer with ``lnet_user_add_peer_ni(&pnid, &LNET_ANY_NID,
  true, lock_prim)``, multi-rail hard-coded, whatever Multi-Rail says; the ioctl path
  (api-ni.c:4853) passes the flag (``cfg->prcfg_mr``). Met in the one run of test_28.
"""
import time

import lutf
from lutf import fail, lnet, selftest, skip, stats

#: Tests that meet an LNet bug (above): test id -> what the bug is. They SKIP with it unless
#: the run has ``--param known_bugs=1``.
KNOWN_BUGS = {
    "test_24": "a NID deleted from a static multi-rail peer that still sends from it loses "
               "the replies sent from it (lnet_parse_put drops them)",
    "test_26": "a GET arriving on a local NI while net del removes it gets no REPLY "
               "(lnet_parse_get: 'Unable to send REPLY for GET', -22; no other NI is tried), "
               "met one run in two",
    "test_28": "lnetctl peer add --non_mr makes a multi-rail peer (the netlink handler "
               "hard-codes multi-rail)",
}


def known_bug(ctx):
    """SKIPs a test of `KNOWN_BUGS`, naming the bug, unless ``--param known_bugs=1``."""
    bug = KNOWN_BUGS.get(ctx.test.rsplit("/", 1)[-1].split(".")[0])
    if bug and str(ctx.params.get("known_bugs", "")) not in ("1", "true", "yes"):
        skip(f"known LNet bug (2.17.57, no LU ticket found yet): {bug}; see "
             "suites/multi-rail/traffic.py; --param known_bugs=1 runs it")

#: Each NI's share of the traffic may be this far (a fraction) from the even share.
SPREAD_TOLERANCE = 0.5

#: Every NIC of a node on one tcp net: three NIs a node, three NIDs a peer.
THREE_NIS = {"tcp": [0, 1, 2]}
#: Two nets: tcp on the first two NICs, tcp1 on the third.
TWO_NETS = {"tcp": [0, 1], "tcp1": [2]}

#: The modules every traffic test loads: lnet_selftest (lnet comes with it).
MODULES = {"lnet_selftest": {}}

#: Seconds of selftest traffic a test runs (the guests are emulated: this is plenty).
SECONDS = 16


def static_peers(nets=None):
    """Roles of a test with discovery off and each side holding the other as a static
    multi-rail peer with all of its NIDs (``peer add --prim_nid ... --nid ...``)."""
    nets = nets or THREE_NIS
    return {"client": {"nets": nets, "peers": ["server"]},
            "server": {"nets": nets, "peers": ["client"]}}


def snap():
    """`lutf.stats.snapshot()` of this node."""
    return stats.snapshot()


def moved(before, after, kind="peer_nis", key="send_count", nids=None):
    """nid -> how much `key` moved between two snapshots, for `kind` ("nis" or "peer_nis");
    `nids` limits (and orders) the NIDs (a NID missing from `after` counts 0)."""
    d = stats.delta(before, after)[kind]
    nids = nids if nids is not None else sorted(d)
    return {n: int(d.get(n, {}).get(key, 0)) for n in nids}


def drops(snapshot):
    """Messages this node has dropped: ``stats show`` drop_count, and per NI and peer NI."""
    out = {"global": int(snapshot["global"].get("drop_count", 0))}
    for kind in ("nis", "peer_nis"):
        for nid, c in snapshot[kind].items():
            out[f"{kind}:{nid}"] = int(c.get("drop_count", 0))
    return out


def no_new_drops(before, after, what):
    """No drop counter grew between the snapshots (one missing `after` is not counted)."""
    b, a = drops(before), drops(after)
    grew = {k: a[k] - b.get(k, 0) for k in a if a[k] != b.get(k, 0)}
    assert not grew, f"{what}: LNet dropped messages: {grew}"
    return a["global"] - b["global"]


def even(counts, what, tolerance=SPREAD_TOLERANCE, least=None):
    """Each NID of `counts` (nid -> messages) carried its even share within `tolerance`;
    at least `least` messages in all (default: 10 per NID). Returns the counts and shares."""
    total = sum(counts.values())
    least = least if least is not None else 10 * len(counts)
    assert total >= least, f"{what}: only {total} messages in all ({counts}), wanted {least}+"
    share = total / float(len(counts))
    off = {n: round((c - share) / share, 3) for n, c in counts.items()}
    bad = {n: v for n, v in off.items() if abs(v) > tolerance}
    assert not bad, (f"{what}: {counts} (even share {share:.1f}): off by {bad}, more than "
                     f"+-{int(tolerance * 100)} %")
    return {"counts": counts, "share": round(share, 1), "off": off}


def write(ctx, seconds=SECONDS, src=None, dst=None, concurrency=4, size="1M", mode="write"):
    """`seconds` of selftest brw from `src` to `dst` (a NID or a list; by default the client's and the
    server's first NID, so selftest sees one node a side and any spread over the NIs is
    LNet's): selftest counts no error node on either side and the destination moved data.
    Returns the bandwidths and error counts."""
    src = src or ctx.nids["client"][0]
    dst = dst or ctx.nids["server"][0]
    src, dst = [src] if isinstance(src, str) else src, [dst] if isinstance(dst, str) else dst
    r = selftest.run(ctx, src=src, dst=dst, test="brw", mode=mode, size=size,
                     concurrency=concurrency, duration=seconds, interval=4)
    assert r["errors"] == {"src": 0, "dst": 0}, f"selftest error nodes: {r['errors']}"
    bw = r["dst"]["bandwidth"]
    assert bw.get("read", 0) + bw.get("write", 0) > 0, f"selftest moved no data: {r}"
    return {"src": r["src"]["bandwidth"], "dst": bw, "errors": r["errors"],
            "seconds": r["seconds"]}


def peer(nid):
    """This node's peer holding `nid`: {"primary", "mr" (bool), "nids" (list)}; None when
    no peer holds it (``peer show``)."""
    shown = lnet.lnetctl("peer", "show")["output"] or {}
    for p in shown.get("peer") or []:
        nis = [ni.get("nid") for ni in p.get("peer ni") or p.get("peer_ni") or []]
        if nid in nis or p.get("primary nid") == nid:
            mr = p.get("Multi-Rail")
            return {"primary": p.get("primary nid"), "nids": nis,
                    "mr": mr is True or str(mr).lower() == "true"}
    return None


def discovery():
    """LNet's discovery setting on this node (``global show``: 1 on, 0 off)."""
    shown = lnet.lnetctl("global", "show")["output"] or {}
    return int((shown.get("global") or {}).get("discovery"))


def wait_for(what, get, want, timeout=60, interval=2):
    """Polls `get()` every `interval` seconds until it returns `want` (the toolkit's
    `lutf.wait_for`, for a minute)."""
    return lutf.wait_for(what, get, want, timeout=timeout, interval=interval)


#: LNet pings a counted test sends per pair of NIDs.
PINGS = 6


def ping_from(src, dst, count=PINGS, timeout=10):
    """Pings `dst` from the local NID `src` `count` times; every ping must be answered."""
    for i in range(count):
        try:
            lnet.ping(dst, source=src, timeout=timeout)
        except lnet.LnetError as e:
            fail(f"ping {i + 1} of {count} from {src} to {dst} failed: {e.description} "
                 f"(errno {e.errno})")


def only(counts, nid, count, what):
    """Of `counts` (nid -> messages), `nid` moved by exactly `count` and no other NID moved."""
    want = {n: (count if n == nid else 0) for n in counts}
    assert nid in counts, f"{what}: {nid} is not among {sorted(counts)}"
    assert counts == want, f"{what}: moved {counts}, expected {want}"
    return counts


def pair_moved(before, after, local_nids, peer_nids):
    """The send and receive counts of the local NIs and of the peer NIs between two
    snapshots: {"nis": {"send": {nid: n}, "recv": ...}, "peer_nis": {...}}."""
    out = {}
    for kind, nids in (("nis", local_nids), ("peer_nis", peer_nids)):
        out[kind] = {k: moved(before, after, kind, f"{k}_count", nids) for k in ("send", "recv")}
    return out


def one_pair(before, after, local_nids, peer_nids, local, remote, count, what):
    """Between the snapshots, exactly `count` messages went out of and came back to the local
    NI `local`, to and from the peer NI `remote`, and no other NI moved."""
    m = pair_moved(before, after, local_nids, peer_nids)
    for k in ("send", "recv"):
        only(m["nis"][k], local, count, f"{what}: local NI {k} counts")
        only(m["peer_nis"][k], remote, count, f"{what}: peer NI {k} counts")
    return m


def wait_traffic(before, nids, kind="peer_nis", least=30, timeout=120):
    """Waits until the NIDs `nids` (of `kind`) have sent `least` messages in all since the
    snapshot `before` (the selftest of another step is flowing). Returns the snapshot."""
    deadline = time.monotonic() + timeout
    while True:
        now = snap()
        sent = sum(moved(before, now, kind, nids=nids).values())
        if sent >= least:
            return now
        if time.monotonic() > deadline:
            fail(f"no traffic: {sent} messages sent to {nids} in {timeout} s")
        time.sleep(1)


def local_nids(snapshot):
    """The local NIDs of a snapshot, without the loopback NI (0@lo), sorted."""
    return sorted(n for n in snapshot["nis"] if n != "0@lo")
