"""Shared helpers of the multi-rail configuration tests (test_01 to test_20).

These tests check how LNet keeps a multi-rail configuration: several NIs on a net and NIs on
several nets, ip2nets rules, multi-rail peers with several NIDs (through liblnetconfig and
through YAML), the limits and refusals on them, and numa_range. Each runs on one node: LNet
is started by `start` (lo only), the test configures what it checks, reads LNet's own view
of it (``net show -v``, ``peer show -v``, ``export --backup``, ``global show``), and a
cleanup step takes LNet down again with `stop`. A refusal must come with LNet's own errno
and leave ``export --backup`` exactly as it was (`refused`).

Peers use documentation addresses (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24) that no
node has: the tests only configure them, never send to them.

The LNet VMs (docs/lnet-vms.md) give each guest NIC k an address on its own subnet
198.19.<4*slot+k>.0/24; tests needing several interfaces say so (`Test(interfaces=N)`).

What LNet does that a reader may not expect (checked by the tests, not bugs):

- ip2nets rules given to ``net add --ip2net`` (and `lnet.add_ni(ip2net=...)`) are matched by
  the kernel against every local address: ``tcp(eth1) PATTERN`` makes an NI on eth1 when any
  local address matches PATTERN; a rule without an address pattern never matches (ENOENT).
- Deleting a local net deletes the peers that are only on it; a peer with a NID on another
  local net keeps every NID, and its primary NID moves to a surviving one unless it is
  locked (lnet_peer_table_cleanup_locked, LNet's comment there says why).
- The NID limit is per operation (LNET_MAX_NIDS_PER_PEER in liblnetconfig); the kernel keeps
  none per peer, so a peer grows past 128 NIs over several calls.

LNet bugs met on 2.17.57 (no LU ticket found; the tests leave these cases out):

- A NID list of exactly LNET_MAX_NIDS_PER_PEER (128) NIDs is refused: "'10.1.0.[1-128]@tcp1'
  specifies more than the 128 NIDs allowed by this operation" (EINVAL), so one operation
  takes at most 127 NIDs besides the primary. cfs_ip_addr_range_gen (lib/libcfs/nidstrings.c)
  starts its index at count - 1 and returns it after the last address it stores: when the
  list fills the array exactly the index is -1, which libcfs_ip_addr_range_expand takes for
  "out of space". test_15 checks 127 (taken) and 129 (refused), not 128.
- ``lnetctl peer add`` (netlink) with more than about 112 NIDs fails silently: it prints
  nothing and exits 234 (-EINVAL). Its request is capped at one page (strace: nlmsg_len
  4092), the last NID is cut, and the kernel answers "invalid secondary NID". Its own check
  (``count++ > LNET_MAX_NIDS_PER_PEER``) would let 129 through. The tests add large peers
  through liblnetconfig (`lnet.add_peer`), which sends them by ioctl.
- ``lnetctl net add --ip2net RULE`` crashes (SIGSEGV, "segfault at 0 ... in
  liblnetconfig.so.4.0.0") when RULE has a bracket or a comma, e.g. ``tcp1(eth1,eth2)
  198.19.[1-2].*`` or ``tcp(eth0, eth1)[1,3]``; lustre_lnet_config_ni, which lutf calls
  (the legacy ip2nets string in the ioctl), takes the same rules and the kernel answers
  right (test_07 to test_09).
- numa_range is never range-checked: ``lnetctl set numa_range -1`` (whose help says "VALUE
  must be at least 0") is taken and shown as 4294967295, and 4294967296 as 0. jt_set_numa
  passes its long to lustre_lnet_config_numa_range's int, and the kernel
  (IOC_LIBCFS_SET_NUMA_RANGE, or the netlink "numa" command) stores the value unchecked.
  test_19 only checks values from 0 to 2^31-1 and values that are no number.
"""
from lutf import fail, lnet, provision, skip

#: Tests LNet is known to get wrong, as sanity-lnet.sh's ALWAYS_EXCEPT: "test_NN" -> the
#: LU ticket; `start` SKIPs them naming it. Empty: the bugs above have no LU ticket, and the
#: tests leave their cases out instead.
ALWAYS_EXCEPT = {}

#: Errnos as LNet reports them (negative).
ENOENT = -2
E2BIG = -7
ENOMEM = -12
EFAULT = -14
EEXIST = -17
ENODEV = -19
EINVAL = -22
ERANGE = -34
ENETDOWN = -100

#: LNET_MAX_NIDS_PER_PEER (lnet/utils/lnetconfig/liblnetconfig.h): the most NIDs one peer
#: operation of liblnetconfig (and lnetctl) takes.
MAX_NIDS_PER_PEER = 128

#: Documentation prefixes (RFC 5737) for peers nobody has.
PEER_NET_A = "192.0.2"
PEER_NET_B = "198.51.100"
PEER_NET_C = "203.0.113"


def always_except(ctx):
    """SKIP the test when LNet is known to get it wrong, naming the bug."""
    ticket = ALWAYS_EXCEPT.get(ctx.test.rsplit("/", 1)[-1])
    if ticket:
        skip(f"always_except: LNet bug {ticket}")


# -- LNet up and down ---------------------------------------------------------------------


def start(ctx, count=0):
    """LNet up with no network but lo (`lutf.provision.start_bare`); SKIP where Lustre is
    absent or the node has fewer than `count` usable interfaces. Returns their names."""
    always_except(ctx)
    return provision.start_bare(ctx, count)


stop = provision.stop
interfaces = provision.interfaces


def address(ctx, name):
    """The (first) IPv4 address of the node's interface `name`."""
    for i in ctx.node.usable_interfaces:
        if i["name"] == name:
            return i["ipv4"][0]["address"]
    fail(f"{name} is not a usable interface of {ctx.node.name}")


def nid(ctx, name, net="tcp"):
    """The NID LNet gives the node's interface `name` on `net`."""
    return f"{address(ctx, name)}@{net}"


# -- what LNet shows ----------------------------------------------------------------------


def nets(shown=None):
    """The net types configured (sorted), from `net show`."""
    shown = lnet.show_net() if shown is None else shown
    return sorted(n["net type"] for n in (shown or {}).get("net") or [])


def local_nis(net=None, detail=1):
    """NID -> the NI's record (``net show -v``), every net but lo (or only `net`)."""
    out = {}
    for n in (lnet.show_net(net=net, detail=detail) or {}).get("net") or []:
        if n["net type"] == "lo":
            continue
        for ni in n.get("local NI(s)") or []:
            out[ni["nid"]] = dict(ni, net=n["net type"])
    return out


def layout(net=None):
    """net -> sorted [(NID, interface, status)] of the local NIs (lo left out)."""
    out = {}
    for nid_, ni in local_nis(net).items():
        ifs = ni.get("interfaces") or {}
        iface = ifs.get(0, ifs.get("0")) if isinstance(ifs, dict) else (ifs or [None])[0]
        out.setdefault(ni["net"], []).append((nid_, iface, ni.get("status")))
    return {k: sorted(v) for k, v in out.items()}


def peers(detail=0):
    """primary NID -> the peer's record (``peer show``)."""
    shown = lnet.show_peer(detail=detail) or {}
    return {p["primary nid"]: p for p in shown.get("peer") or []}


def peer_nids(primary=None):
    """primary NID -> sorted NIDs of its peer NIs (only `primary`'s peer when given: its
    NIDs, or None when there is no such peer)."""
    out = {k: sorted(ni["nid"] for ni in p.get("peer ni") or []) for k, p in peers().items()}
    if primary is not None:
        return out.get(primary)
    return out


def peer_ni_details(primary):
    """NID -> the peer NI's record (``peer show -v``) of the peer `primary`."""
    p = peers(detail=1).get(primary)
    assert p is not None, f"no peer {primary}: {sorted(peers())}"
    return {ni["nid"]: ni for ni in p.get("peer ni") or []}


def exported_peers():
    """primary NID -> (Multi-Rail, sorted NIDs), as ``export --backup`` has them."""
    out = {}
    for p in backup().get("peer") or []:
        out[p["primary nid"]] = (p.get("Multi-Rail"),
                                 sorted(ni["nid"] for ni in p.get("peer ni") or []))
    return out


#: The whole configuration, peers, their NIs and routes sorted (`lnetctl export --backup`).
backup = lnet.backup


def globals_now():
    """The global settings `global show` lists, as a dict."""
    return dict(lnet.show_global()["global"])


# -- refusals -----------------------------------------------------------------------------


#: LNet refuses a call with an errno and `export --backup` stays as it was.
refused = lnet.refused


# -- peers --------------------------------------------------------------------------------


def host_nids(prefix, hosts, net="tcp"):
    """NIDs PREFIX.H@NET for each H in `hosts`."""
    return [f"{prefix}.{h}@{net}" for h in hosts]


def peer_yaml(peers_, multi_rail=True):
    """The YAML of ``lnetctl import`` for {primary NID: [NIDs]} (the primary listed first)."""
    lines = ["peer:"]
    for primary, nids_ in peers_.items():
        lines.append(f"    - primary nid: {primary}")
        lines.append(f"      Multi-Rail: {'True' if multi_rail else 'False'}")
        lines.append("      peer ni:")
        for n in [primary] + [n for n in nids_ if n != primary]:
            lines.append(f"        - nid: {n}")
    return "\n".join(lines) + "\n"
