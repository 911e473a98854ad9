"""Shared helpers of the udsp suite (discovery only takes `test_*.py`, so this is no test).

User Defined Selection Policies (``lnetctl udsp``) are rules that rank LNet's choices when it
sends: ``--src`` ranks local nets and NIs, ``--dst`` ranks peer nets and peer NIs, ``--src
--dst`` pairs a local NI with peer NIs, ``--dst --rte`` pairs peer NIs with routers. Priority
0 is the best; what no rule names has the lowest (shown as -1).

Two kinds of tests:

- rule bookkeeping on one node (tests 01-13): LNet up with `start`, rules added, shown,
  refused and deleted, the priorities LNet derives from them (``udsp info`` in ``net show``
  and ``peer show``); a cleanup step takes LNet down with `stop`.
- rules acting on traffic (tests 14 and up): the toolkit's declared LNet on 2 or 4 nodes, a
  known number of LNet pings, and the send/receive counters of the local NIs (``net show
  -v``) and of the peer NIs (``peer show -v``) before and after: a rule is working when the
  counters it should steer moved by exactly the number of pings and the others did not move
  at all. The toolkit's ``lutf.undo`` takes LNet down after the test, and the rules with it
  (test 11 shows that unconfiguring LNet drops the rules).

LNet bugs met on 2.17.57 (no LU ticket found; the tests leave these cases out):

- ``lnetctl udsp show --idx N`` with a rule at N aborts (``free(): double free detected``,
  exit 134): lustre_lnet_show_udsp frees the rule and its ioctl buffer in its loop, breaks
  out, and frees them again at ``out:``. With no rule at N it prints nothing (test 01).
- ``udsp add --src tcp99999999999`` is accepted as ``tcp1215752191`` (the net number
  wraps at 2^32) instead of being refused.
- ``udsp add --rte NID`` alone is accepted and listed, though LNet applies no rule with a
  router and no destination.
- ``lnetctl import`` of the ``udsp`` section ``export --backup`` wrote does not give the
  rules back: handle_udsp_sequences keeps the last priority it read for the next rules and
  passes action type "" for priority 0, so a priority-0 rule is refused (EINVAL) and a NID
  pair or router rule comes back as a priority rule (the previous rule's priority, or
  4294967295), which LNet then ignores. Test 11 round-trips priority rules above 0 only.
- A NID pair rule matching two local NIs (``--src *.*.*.*@tcp --dst PEER_NID`` on a node
  with two tcp NIs) corrupts the peer NI's first preferred NID (shown as
  ``fa4921ff@<155:1283>``), so the first NI is not preferred: lnet_peer_add_pref_nid, moving
  the one stored NID into a list, runs INIT_LIST_HEAD on ``lpni_pref.nids`` (a union with
  ``lpni_pref.nid``) before copying the NID out of it. Test 19 pairs patterns matching one
  NI each.
- A router rule naming a gateway by a NID other than its primary NID (``--rte`` with the
  NID the server's route names, on tcp1, while the router's primary NID is on tcp) is
  accepted and listed but has no effect: LNet compares ``--rte`` with primary NIDs only
  (`router_nid`).
- ``lnetctl peer show -v 5`` (netlink) shows no "Preferred source NIDs" and prints the
  preferred gateways as ``NID-0: {0@lo: GATEWAY}``; liblnetconfig's ioctl show is right.

The LNet VMs (docs/lnet-vms.md) put NIC k of every guest on its own subnet,
198.19.<4*slot+k>.0/24, so a node's eth0 and eth1 are on different subnets. A single tcp
net over eth0 and eth1 on two nodes (MR_NETS) gives each node two NIs and each peer two
NIDs; LNet then picks any local NI with any peer NI, and a cross pair (eth0 -> the peer's
eth1) is carried by IP as well: the guests route by destination and do not filter on the
source address (rp_filter 0), so socklnd's connection from eth0's address to the peer's
eth1 address leaves by eth1 and the answer comes back to eth0. So every combination works
and only the rules decide which pair carries a message: the counters show the rules, not
the wiring. Every traffic test needs at most 2 interfaces per node (scripts/test boots its
guests with 2 NICs); a node with fewer makes the test SKIP saying so.
"""
import time

from lutf import fail, lnet, provision, skip, stats, wait_for  # noqa: F401 (wait_for: the suite's tests use it)

#: Tests LNet is known to get wrong, as sanity-lnet.sh's ALWAYS_EXCEPT: "test_NN" -> the
#: LU ticket; `start` and `always_except` SKIP them naming it. Empty: no udsp test has met a
#: known LNet bug on the VMs.
ALWAYS_EXCEPT = {}

#: Errnos as LNet reports them (negative).
ENOENT = -2
EINVAL = -22
ENETDOWN = -100
EALREADY = -114
#: lustre_lnet_add_udsp returns a failed ioctl's errno unsigned (``rc = errno``) where every
#: other call returns it negative: lnetctl prints ``errno: 114`` and exits 114 for a rule
#: already there. lutf's liblnetconfig calls report -114 (and rc 114).
EALREADY_UNSIGNED = 114

#: LNet pings each traffic test sends.
PINGS = 10

#: What ``udsp info`` shows for a net or NID no rule ranks (the lowest priority).
NO_PRIORITY = -1

#: Two nodes each with both of their first two interfaces on tcp: two NIs, two peer NIDs.
MR_NETS = {"tcp": [0, 1]}
#: Two nodes each with tcp on the first interface and tcp1 on the second.
TWO_NETS = {"tcp": [0], "tcp1": [1]}

#: lnet module options of the routed tests: router checks every 5 s, 5 s ping timeout, so
#: routes come up in seconds (routing suite's FAST_CHECKS).
FAST_CHECKS = {"alive_router_check_interval": 5, "router_ping_timeout": 5}
#: A router between tcp (first interface) and tcp1 (second), with buffers a guest can hold.
ROUTER = {"nets": {"tcp": [0], "tcp1": [1]}, "routing": True,
          "buffers": {"tiny": 512, "small": 512, "large": 64}}
#: The two ends of the routed tests, each routing to the other's net over both routers.
CLIENT = {"nets": {"tcp": [0]}, "routes": [{"net": "tcp1", "via": ["router1", "router2"]}]}
SERVER = {"nets": {"tcp1": [1]}, "routes": [{"net": "tcp", "via": ["router1", "router2"]}]}


def always_except(ctx):
    """SKIP the test when LNet is known to get it wrong, naming the ticket."""
    ticket = ALWAYS_EXCEPT.get(ctx.test.rsplit("/", 1)[-1])
    if ticket:
        skip(f"always_except: LNet bug {ticket}")


# -- one node: LNet up and down ----------------------------------------------------------


def start(ctx, nets=("tcp",)):
    """LNet up (`lutf.provision.start_bare`) with one NI per net in `nets`, all on the
    node's first usable interface; SKIP where Lustre is absent. Returns the NIDs, in the
    order of `nets`."""
    always_except(ctx)
    names = provision.start_bare(ctx, 1)
    assert rules() == [], f"LNet on {ctx.node.name} started with rules: {rules()}"
    out = []
    for net in nets:
        lnet.add_ni(net, [names[0]])
        out.append(f"{ctx.node.addresses[0]}@{net}")
    return out


def stop(ctx):
    """Takes LNet down (`lutf.provision.stop`), and the rules with it."""
    provision.stop(ctx)


# -- rules -----------------------------------------------------------------------------------


def rule_of(r):
    out = {"idx": int(r["idx"])}
    for key in ("src", "dst", "rte"):
        if r.get(key) is not None:
            out[key] = str(r[key])
    action = r.get("action") or {}
    if isinstance(action, dict) and "priority" in action:
        out["priority"] = int(action["priority"])
    return out


def rules(idx=None):
    """The rules as ``lnetctl udsp show`` lists them: [{"idx", "src"/"dst"/"rte",
    "priority" (priority rules only)}], in index order."""
    argv = ["udsp", "show"] + (["--idx", idx] if idx is not None else [])
    shown = lnet.lnetctl(*argv)["output"] or {}
    return [rule_of(r) for r in shown.get("udsp") or []]


def lib_rules():
    """The rules as liblnetconfig's show_udsp gives them, in the shape of `rules`."""
    shown = lnet.show_udsp() or {}
    return [rule_of(r) for r in shown.get("udsp") or []]


def add(src=None, dst=None, rte=None, priority=None, idx=None):
    """``lnetctl udsp add`` with the options given (a pair or router rule has no priority)."""
    argv = ["udsp", "add"]
    for key, value in (("src", src), ("dst", dst), ("rte", rte), ("priority", priority),
                       ("idx", idx)):
        if value is not None:
            argv += [f"--{key}", value]
    return lnet.lnetctl(*argv)


def delete(idx):
    """``lnetctl udsp del --idx IDX``."""
    return lnet.lnetctl("udsp", "del", "--idx", idx)


def expect(want, what):
    """The rules lnetctl and liblnetconfig show are `want` (a list of rule dicts)."""
    got = rules()
    assert got == want, f"{what}: udsp show lists {got}, expected {want}"
    lib = lib_rules()
    assert lib == want, f"{what}: liblnetconfig show_udsp lists {lib}, expected {want}"
    return got


def refused(errno, what, fn, *args, **kwargs):
    """Calls fn, which must fail with LNet's `errno` and leave the rules unchanged.

    Returns the error's description."""
    return lnet.refused(errno, what, fn, *args, state=rules, **kwargs)


# -- priorities LNet derived from the rules --------------------------------------------------


def _udsp_info(entry):
    info = entry.get("udsp info") or {}
    pref = info.get("Preferred gateway NIDs") or {}
    src = info.get("Preferred source NIDs") or {}
    return {"net": int(info.get("net priority", NO_PRIORITY)),
            "nid": int(info.get("nid priority", NO_PRIORITY)),
            "gateways": sorted(str(v) for v in pref.values()) if isinstance(pref, dict) else [],
            "sources": sorted(str(v) for v in src.values()) if isinstance(src, dict) else []}


def ni_priorities():
    """Local NID -> {"net", "nid", "gateways", "sources"} from the udsp info of liblnetconfig's
    show_net (detail 4, as ``lnetctl net show -v 4`` through ioctls)."""
    shown = lnet.show_net(detail=4) or {}
    out = {}
    for net in shown.get("net") or []:
        for ni in net.get("local NI(s)") or []:
            if ni.get("nid") and ni["nid"] != "0@lo":
                out[ni["nid"]] = _udsp_info(ni)
    return out


def peer_priorities():
    """Peer NID -> {"net", "nid", "gateways", "sources"} from the udsp info of liblnetconfig's
    show_peer (detail 4). Not from ``lnetctl peer show -v 5``: its netlink answer leaves the
    preferred source NIDs out and mangles the preferred gateways (LNet bugs met). "sources"
    also holds the one NID LNet always uses to reach a non-MR peer (a gateway, say)."""
    shown = lnet.show_peer(detail=4) or {}
    out = {}
    for peer in shown.get("peer") or []:
        for ni in peer.get("peer ni") or peer.get("peer_ni") or []:
            if ni.get("nid"):
                out[ni["nid"]] = _udsp_info(ni)
    return out


# -- traffic ---------------------------------------------------------------------------------


def counters():
    """{"nis": {local NID: {"send", "recv"}}, "peers": {peer NID: {"send", "recv"}}}, from
    ``net show -v`` and ``peer show -v``."""
    out = {"nis": {}, "peers": {}}
    shown = lnet.lnetctl("net", "show", "-v")["output"] or {}
    for net in shown.get("net") or []:
        for ni in net.get("local NI(s)") or []:
            if ni.get("nid") and ni["nid"] != "0@lo":
                s = ni.get("statistics") or {}
                out["nis"][ni["nid"]] = {"send": int(s.get("send_count", 0)),
                                         "recv": int(s.get("recv_count", 0))}
    shown = lnet.lnetctl("peer", "show", "-v")["output"] or {}
    for peer in shown.get("peer") or []:
        for ni in peer.get("peer ni") or peer.get("peer_ni") or []:
            if ni.get("nid"):
                s = ni.get("statistics") or {}
                out["peers"][ni["nid"]] = {"send": int(s.get("send_count", 0)),
                                           "recv": int(s.get("recv_count", 0))}
    return out


def delta(before, after):
    """`after` - `before`, per counter (an entry new in `after` counts from 0)."""
    out = {}
    for kind in ("nis", "peers"):
        out[kind] = {}
        for nid, c in after[kind].items():
            was = before[kind].get(nid, {"send": 0, "recv": 0})
            out[kind][nid] = {k: c[k] - was[k] for k in ("send", "recv")}
    return out


def ping_all(nid, count=PINGS, timeout=10):
    """Pings `nid` `count` times; every ping must be answered."""
    for i in range(count):
        try:
            lnet.ping(nid, timeout=timeout)
        except lnet.LnetError as e:
            fail(f"ping {i + 1} of {count} to {nid} failed: {e.description} (errno {e.errno})")


def discover(nid):
    """Discovers the peer at `nid` (all its NIDs become one multi-rail peer) before counting:
    discovery's own messages then stay out of the counted pings. Returns the peer's NIDs."""
    reply = lnet.discover(nid)
    got = []
    for p in reply.get("discover") or []:
        for ni in p.get("peer_ni") or p.get("peer ni") or []:
            got.append(ni["nid"])
    return sorted(got)


def counted_pings(nid, count=PINGS):
    """The counter deltas (`delta`) of `count` answered pings of `nid`."""
    before = counters()
    ping_all(nid, count)
    after = counters()
    d = delta(before, after)
    print(f"counters after {count} pings of {nid}: {d}")
    return d


def only(counts, nid, count, key="send", what=""):
    """Of `counts` (nid -> {"send", "recv"}), `nid` moved by `count` on `key` and every
    other NID did not move at all."""
    got = {n: c[key] for n, c in counts.items()}
    want = {n: (count if n == nid else 0) for n in counts}
    assert nid in counts, f"{what}: {nid} is not among {sorted(counts)}"
    assert got == want, f"{what}: {key} counts moved {got}, expected {want}"
    return got


def spread(counts, nids, count, key="send", what=""):
    """`count` messages over `nids`, each of them carrying some: no rule ranks one above
    the other. Returns the counts."""
    got = {n: counts.get(n, {}).get(key, 0) for n in nids}
    assert sum(got.values()) == count, f"{what}: {key} counts {got} do not add up to {count}"
    assert all(v > 0 for v in got.values()), f"{what}: {key} counts {got}: one carried none"
    return got


# -- routes ----------------------------------------------------------------------------------


#: Messages this node has forwarded (the toolkit's `lutf.stats.route_count`).
route_count = stats.route_count


def wait_routes(ctx, count, timeout=240):
    """Waits until this node has `count` routes, all up (the gateways are pinged first, so
    they are discovered). Returns them."""
    routes = provision.wait_routes(timeout=timeout)
    assert len(routes) == count, f"{ctx.node.name}: expected {count} routes: {routes}"
    return routes


def nid_on(ctx, role, net):
    """The NID `role` has on `net` in this test."""
    found = [n for n in ctx.nids[role] if n.endswith("@" + net)]
    assert found, f"{role} has no NID on {net}: {ctx.nids[role]}"
    return found[0]


def router_nid(ctx, role, net):
    """The NID a router rule must name for router `role` on this node: its primary NID.

    LNet matches ``--rte`` against the gateway's primary NID only (lnet_udsp_apply_rte_list_on_lpni
    and lnet_find_route_locked compare ``lp_primary_nid``). Discovery makes a router's
    primary NID its first NI (here on tcp), so at the server, whose route names the router by
    its tcp1 NID, a rule with that tcp1 NID matches nothing and is silently without effect
    (LNet bugs met). The route's NID on `net` is checked to belong to that peer."""
    return primary(nid_on(ctx, role, net))


def primary(nid):
    """The primary NID of the peer that holds `nid`, as this node knows it."""
    shown = lnet.lnetctl("peer", "show")["output"] or {}
    for peer in shown.get("peer") or []:
        nis = peer.get("peer ni") or peer.get("peer_ni") or []
        if any(ni.get("nid") == nid for ni in nis):
            return peer.get("primary nid")
    fail(f"no peer holds {nid}: {shown}")




def cli_refused(what, argv, text):
    """``lnetctl ARGV`` must fail as lnetctl's own check of its arguments fails, before LNet
    is asked: printing `text` and exiting -EINVAL (234); the rules stay unchanged. Returns
    its exit code and message."""
    before = rules()
    out = lnet.lnetctl(*argv, check=False)
    printed = (out.get("text") or "") + " ".join(str(e) for e in out.get("diagnostics") or [])
    assert out["exit_code"] == 256 + EINVAL, (
        f"{what}: exit {out['exit_code']}, expected {256 + EINVAL}; printed {printed!r}")
    assert text in printed, f"{what}: printed {printed!r}, expected {text!r}"
    after = rules()
    assert after == before, f"{what} changed the rules: {before} -> {after}"
    return {"exit": out["exit_code"], "printed": printed.strip()}


def settle(seconds=3, timeout=60):
    """Waits until this node's counters have not moved for `seconds` (a net added or deleted
    makes LNet push its new NIDs to its peers, in the background): then counting starts
    clean. Returns the counters."""
    deadline = time.monotonic() + timeout
    last = counters()
    while True:
        time.sleep(seconds)
        now = counters()
        if now == last:
            return now
        if time.monotonic() > deadline:
            fail(f"LNet's counters still moving after {timeout} s: {delta(last, now)}")
        last = now
