"""`lutf.provision`: LNet described per role, applied on a node and undone.

A test declares the LNet it needs as data, so that ``lutf list`` and ``--dry-run`` show it
and the master applies it on every node before the first step::

    from lutf import Test
    from lutf.provision import LNet

    test = Test(roles=["client", "router", "server"], lnet=LNet({
        "client": {"nets": {"tcp": [0]}, "routes": {"tcp1": "router"}},
        "router": {"nets": {"tcp": [0], "tcp1": [1]}, "routing": True,
                   "buffers": {"tiny": 512, "small": 512, "large": 64}},
        "server": {"nets": {"tcp1": [0]}, "routes": {"tcp": "router"}},
    }, globals={"discovery": 1}))

Per role: ``nets`` maps a net to the node's interfaces, by index among its usable interfaces
(``0`` is the first) or by name (``"eth1"``); ``routes`` maps a remote net to the role (or
NID) routing to it, or is a list of ``{"net", "via", "hops", "priority"}``; ``peers`` lists
roles (all their NIDs, one multi-rail peer) or NIDs; ``routing`` turns routing on;
``buffers`` sets router buffers (``tiny``, ``small``, ``large``; also given to the lnet
module as options, so that turning routing on never allocates the large defaults).
For the whole test: ``globals`` (``lnetctl set`` names: discovery, retry_count,
health_sensitivity, ...) and ``modules`` (module -> options, loaded in that order:
``{"lnet": {"lnet_peer_discovery_disabled": 0}, "lnet_selftest": {}}``).

A node with fewer usable interfaces than its role's nets name makes the test SKIP with the
reason: lutf never adds IP aliases or changes a node's network configuration.

The same description applies from inside a step: ``provision.apply(ctx, lnet)`` configures
this node's role, ``provision.undo()`` takes LNet down.
"""

import os
import time

from . import errors, lnet as _lnet, process

__all__ = ["LNet", "apply", "undo", "nids", "planned_nids", "render_yaml", "load_modules",
           "unload_modules", "LNET_MODULES", "interfaces", "start_bare", "stop"]

# The LNet modules in the order they unload (users first).
LNET_MODULES = ["lnet_selftest", "ksocklnd", "ko2iblnd", "kkfilnd", "lnet", "libcfs"]

_ROLE_KEYS = ("nets", "routes", "peers", "routing", "buffers")
_BUFFER_KEYS = ("tiny", "small", "large")
_BUFFER_OPTIONS = {"tiny": "tiny_router_buffers", "small": "small_router_buffers",
                   "large": "large_router_buffers"}


def _bad(message):
    raise errors.DeclarationError(f"LNet(...): {message}")


def _check_nets(role, nets):
    if not isinstance(nets, dict) or not nets:
        _bad(f"role {role!r}: nets must map a net to interfaces, such as {{\"tcp\": [0]}}")
    out = {}
    for net, ifs in nets.items():
        if not isinstance(net, str) or not net or "@" in net:
            _bad(f"role {role!r}: {net!r} is not a net name (tcp, tcp1, o2ib, ...)")
        if isinstance(ifs, (int, str)) and not isinstance(ifs, bool):
            ifs = [ifs]
        if not isinstance(ifs, (list, tuple)) or not ifs:
            _bad(f"role {role!r}: net {net!r} needs a list of interfaces (indexes or names)")
        for i in ifs:
            if isinstance(i, bool) or not isinstance(i, (int, str)) or (
                    isinstance(i, int) and i < 0) or i == "":
                _bad(f"role {role!r}: net {net!r}: {i!r} is not an interface index or name")
        out[net] = list(ifs)
    return out


def _check_routes(role, routes):
    if routes is None:
        return []
    if isinstance(routes, dict):
        routes = [{"net": net, "via": via} for net, via in routes.items()]
    if not isinstance(routes, (list, tuple)):
        _bad(f"role {role!r}: routes must be {{net: gateway}} or a list of "
             "{\"net\", \"via\", \"hops\", \"priority\"}")
    out = []
    for r in routes:
        if not isinstance(r, dict) or "net" not in r or "via" not in r:
            _bad(f"role {role!r}: route {r!r} needs \"net\" and \"via\"")
        unknown = set(r) - {"net", "via", "hops", "priority"}
        if unknown:
            _bad(f"role {role!r}: route {r!r}: unknown key(s) {', '.join(sorted(unknown))}")
        vias = r["via"] if isinstance(r["via"], (list, tuple)) else [r["via"]]
        for via in vias:
            out.append({"net": r["net"], "via": via, "hops": r.get("hops"),
                        "priority": r.get("priority")})
    return out


class LNet:
    """The LNet a test needs, per role (see the module's documentation)."""

    def __init__(self, roles, *, globals=None, modules=None):
        if not isinstance(roles, dict) or not roles:
            _bad("give a dict of role -> {\"nets\": ..., \"routes\": ..., ...}")
        self.roles = {}
        for role, spec in roles.items():
            if not isinstance(spec, dict):
                _bad(f"role {role!r}: expected a dict with nets, routes, peers, routing, buffers")
            unknown = set(spec) - set(_ROLE_KEYS)
            if unknown:
                _bad(f"role {role!r}: unknown key(s) {', '.join(sorted(unknown))}; "
                     f"known: {', '.join(_ROLE_KEYS)}")
            buffers = dict(spec.get("buffers") or {})
            for k, v in buffers.items():
                if k not in _BUFFER_KEYS or isinstance(v, bool) or not isinstance(v, int) or v < 0:
                    _bad(f"role {role!r}: buffers take tiny/small/large counts, got {k}={v!r}")
            peers = spec.get("peers") or []
            if isinstance(peers, str) or not isinstance(peers, (list, tuple)):
                _bad(f"role {role!r}: peers must be a list of roles or NIDs")
            self.roles[role] = {
                "nets": _check_nets(role, spec.get("nets")),
                "routes": _check_routes(role, spec.get("routes")),
                "peers": list(peers),
                "routing": bool(spec.get("routing", False)),
                "buffers": buffers,
            }
        self.globals = dict(globals or {})
        for k, v in self.globals.items():
            if not isinstance(k, str) or isinstance(v, bool) or not isinstance(v, int):
                _bad(f"globals: {k}={v!r}: a setting name and a whole number")
        self.modules = {}
        for module, options in (modules or {}).items():
            if isinstance(options, str):
                options = dict(o.split("=", 1) for o in options.split() if "=" in o)
            if not isinstance(options, dict):
                _bad(f"modules: {module}: options must be a dict or a string of k=v")
            self.modules[module] = dict(options)

    def check_roles(self, roles):
        """Raises DeclarationError when the description names a role the test lacks."""
        for role, spec in self.roles.items():
            if role not in roles:
                _bad(f"role {role!r} is not a role of the test ({', '.join(roles)})")
            for r in spec["routes"]:
                via = r["via"]
                if "@" not in str(via) and via not in roles:
                    _bad(f"role {role!r}: route to {r['net']} via {via!r}: not a role or a NID")
            for p in spec["peers"]:
                if "@" not in str(p) and p not in roles:
                    _bad(f"role {role!r}: peer {p!r}: not a role or a NID")

    def interfaces_needed(self):
        """role -> the usable interfaces its node needs for the role's nets: the highest
        index plus one, and at least one per distinct interface it names (a name counts
        apart from the indexes: ``tcp: [0], tcp1: ["eth1"]`` needs 2). A router on
        ``tcp: [0], tcp1: [1]`` needs 2, an end on ``tcp: [0]`` needs 1."""
        out = {}
        for role, spec in self.roles.items():
            indexes, names = set(), set()
            for ifs in spec["nets"].values():
                for i in ifs:
                    (indexes if isinstance(i, int) else names).add(i)
            out[role] = max(max(indexes, default=-1) + 1, len(indexes) + len(names))
        return out

    def to_json(self):
        """The description as plain data."""
        return {"roles": self.roles, "globals": self.globals, "modules": self.modules}

    @classmethod
    def from_json(cls, data):
        """The inverse of `to_json`."""
        return cls(data["roles"], globals=data.get("globals"), modules=data.get("modules"))

    def summary(self):
        """One line per role, for `lutf list` and `--dry-run`."""
        lines = []
        for role, spec in self.roles.items():
            parts = [", ".join(f"{net} on {'+'.join(str(i) for i in ifs)}"
                               for net, ifs in spec["nets"].items())]
            if spec["routes"]:
                parts.append("routes " + ", ".join(f"{r['net']} via {r['via']}"
                                                  for r in spec["routes"]))
            if spec["peers"]:
                parts.append("peers " + ", ".join(spec["peers"]))
            if spec["routing"]:
                parts.append("routing")
            if spec["buffers"]:
                parts.append("buffers " + " ".join(f"{k}={v}" for k, v in
                                                   sorted(spec["buffers"].items())))
            lines.append(f"lnet {role}: " + "; ".join(parts))
        if self.globals:
            lines.append("lnet globals: " + " ".join(f"{k}={v}" for k, v in
                                                     sorted(self.globals.items())))
        if self.modules:
            lines.append("modules: " + ", ".join(
                m + ("(" + " ".join(f"{k}={v}" for k, v in o.items()) + ")" if o else "")
                for m, o in self.modules.items()))
        return lines


# -- interfaces and NIDs ---------------------------------------------------------------------


def _interface(node, spec):
    """The interface `spec` (index among usable interfaces, or name) of `node`, or the
    reason it has none."""
    usable = node.usable_interfaces
    if isinstance(spec, int):
        if spec >= len(usable):
            return None, (f"needs {spec + 1} usable interface{'s' if spec else ''} on node "
                          f"{node.name} (role {node.role}), has {len(usable)}")
        return usable[spec], None
    for iface in usable:
        if iface.get("name") == spec:
            return iface, None
    names = ", ".join(i.get("name", "?") for i in usable) or "none"
    return None, (f"needs interface {spec} on node {node.name} (role {node.role}), "
                  f"which has {names} usable")


def _role_nids(node, spec):
    """[(net, interface name, NID)] of `node` under `spec`, or raise Skipped."""
    out = []
    for net, ifs in spec["nets"].items():
        for i in ifs:
            iface, why = _interface(node, i)
            if iface is None:
                raise errors.Skipped(why)
            out.append((net, iface["name"], f"{iface['ipv4'][0]['address']}@{net}"))
    return out


def planned_nids(nodes, description):
    """role -> the NIDs `description` gives it on `nodes` (role -> Node), from their
    interfaces; roles the description leaves out have their current NIDs."""
    out = {}
    for role, node in nodes.items():
        spec = description.roles.get(role) if description else None
        if spec is None:
            out[role] = list(((node.facts.get("lnet") or {}).get("nids")) or [])
        else:
            out[role] = [nid for _, _, nid in _role_nids(node, spec)]
    return out


def nids(shown=None):
    """This node's NIDs as LNet shows them now (``0@lo`` left out)."""
    if shown is None:
        shown = _lnet.lnetctl("net", "show")["output"] or {}
    return [ni["nid"] for net in (shown.get("net") or [])
            for ni in (net.get("local NI(s)") or [])
            if ni.get("nid") and ni["nid"] != "0@lo"]


def _gateway(nodes, description, my_nets, via):
    """The NID of gateway `via` (a role or NID) on a net this node has."""
    if "@" in str(via):
        return via
    gw = nodes[via]
    for net, _, nid in _role_nids(gw, description.roles[via]):
        if net in my_nets:
            return nid
    raise errors.Failed(f"route via {via}: it shares no net with this node "
                        f"({', '.join(sorted(my_nets))})")


# -- YAML for `lnetctl import` --------------------------------------------------------------


def _scalar(v):
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, int):
        return str(v)
    s = str(v)
    return s if s and all(c.isalnum() or c in "@._-[]," for c in s) else '"' + s + '"'


def render_yaml(spec, nodes, description, role):
    """The `lnetctl import` YAML for `role` of `description` (nodes: role -> Node)."""
    my = _role_nids(nodes[role], spec)
    lines = ["net:"]
    for net, ifs in spec["nets"].items():
        lines.append(f"    - net type: {_scalar(net)}")
        lines.append("      local NI(s):")
        for n, ifname, _ in my:
            if n == net:
                lines.append("        - interfaces:")
                lines.append(f"              0: {_scalar(ifname)}")
    my_nets = set(spec["nets"])
    if spec["routes"]:
        lines.append("route:")
        for r in spec["routes"]:
            lines.append(f"    - net: {_scalar(r['net'])}")
            lines.append(f"      gateway: {_scalar(_gateway(nodes, description, my_nets, r['via']))}")
            if r.get("hops") is not None:
                lines.append(f"      hop: {int(r['hops'])}")
            if r.get("priority") is not None:
                lines.append(f"      priority: {int(r['priority'])}")
    if spec["peers"]:
        lines.append("peer:")
        for p in spec["peers"]:
            if "@" in str(p):
                peer_nids = [p]
            else:
                peer_nids = [nid for _, _, nid in _role_nids(nodes[p], description.roles[p])]
            lines.append(f"    - primary nid: {_scalar(peer_nids[0])}")
            lines.append("      Multi-Rail: True")
            lines.append("      peer ni:")
            for nid in peer_nids:
                lines.append(f"        - nid: {_scalar(nid)}")
    if spec["buffers"]:
        lines.append("buffers:")
        for k in _BUFFER_KEYS:
            if k in spec["buffers"]:
                lines.append(f"    {k}: {int(spec['buffers'][k])}")
    if spec["routing"]:
        lines.append("routing:")
        lines.append("    enable: 1")
    if description.globals:
        lines.append("global:")
        for k, v in description.globals.items():
            lines.append(f"    {k}: {int(v)}")
    return "\n".join(lines) + "\n"


# -- modules ---------------------------------------------------------------------------------


def loaded_modules():
    """name -> list of the modules using it, from /proc/modules."""
    out = {}
    try:
        with open("/proc/modules") as f:
            for line in f:
                fields = line.split()
                if len(fields) >= 4:
                    users = [u for u in fields[3].strip(",").split(",") if u and u != "-"]
                    out[fields[0]] = users
    except OSError:
        pass
    return out


def modprobe_argv(module, options=None):
    """``modprobe MODULE k=v ...``."""
    return ["modprobe", module] + [f"{k}={v}" for k, v in (options or {}).items()]


def load_modules(modules, log=print):
    """Loads `modules` (name -> options) in order; returns [(action, seconds)]."""
    done = []
    for module, options in modules.items():
        if module in loaded_modules():
            if options:
                log(f"{module} is loaded already: options {options} not applied")
            continue
        t = time.monotonic()
        process.run(modprobe_argv(module, options))
        done.append((" ".join(modprobe_argv(module, options)), time.monotonic() - t))
    return done


def lustre_modules(loaded=None):
    """The loaded modules that depend (directly or not) on libcfs: Lustre's and LNet's."""
    loaded = loaded_modules() if loaded is None else loaded
    found = set()
    todo = [m for m in ("libcfs",) if m in loaded]
    while todo:
        m = todo.pop()
        if m in found:
            continue
        found.add(m)
        todo.extend(u for u in loaded.get(m, []) if u in loaded)
    return found


def unload_order(loaded):
    """The Lustre and LNet modules of `loaded` in an order each goes after its users."""
    mods = lustre_modules(loaded)
    order = []
    left = set(mods)
    while left:
        ready = sorted(m for m in left if not any(u in left for u in loaded.get(m, [])))
        if not ready:  # a cycle cannot happen; if it does, unload what is left as it is
            ready = sorted(left)
        order.extend(ready)
        left -= set(ready)
    return order


def _which(name):
    for d in (os.environ.get("PATH", "") + ":/usr/sbin:/sbin:/usr/bin:/bin").split(":"):
        if d and os.access(os.path.join(d, name), os.X_OK):
            return os.path.join(d, name)
    return None


def unload_modules(log=print):
    """Unloads Lustre's and LNet's modules: ``lustre_rmmod`` where present, else ``rmmod``
    in dependency order. Returns [(action, seconds)]; raises CommandFailed."""
    done = []
    if not lustre_modules():
        return done
    rmmod = _which("lustre_rmmod")
    t = time.monotonic()
    if rmmod:
        process.run([rmmod])
        done.append(("lustre_rmmod", time.monotonic() - t))
        if not lustre_modules():
            return done
    for module in unload_order(loaded_modules()):
        t = time.monotonic()
        process.run(["rmmod", module])
        done.append((f"rmmod {module}", time.monotonic() - t))
    return done


# -- applying --------------------------------------------------------------------------------


def _module_plan(description, spec):
    """The modules to load for `spec` on this node, options merged."""
    modules = {"lnet": {}}
    for m, o in description.modules.items():
        modules.setdefault(m, {}).update(o)
    if spec and spec["routing"] and spec["buffers"]:
        for k, v in spec["buffers"].items():
            modules["lnet"].setdefault(_BUFFER_OPTIONS[k], v)
    # lnet first: everything else (lnet_selftest, lustre) builds on it and is loaded once
    # LNet is configured.
    return dict([("lnet", modules.pop("lnet"))] + list(modules.items()))


def apply(ctx, description=None, role=None):
    """Configures this node as `role` (default: the step's) of `description` (default: the
    test's): loads the modules, ``lnetctl lnet configure``, then one ``lnetctl import``.
    Returns ``{"nids": [...], "actions": [...]}``. SKIPs when an interface is missing or
    Lustre is not installed."""
    description = description or ctx.lnet_description
    role = role or ctx.role
    if description is None:
        raise errors.Failed("provision.apply: the test declares no LNet and none was given")
    spec = description.roles.get(role)
    nodes = dict(ctx.nodes)
    if spec is not None:
        _role_nids(nodes[role], spec)  # SKIP before touching anything
    if _which("lnetctl") is None:
        raise errors.Skipped(f"LNet is not installed on {ctx.node.name} (no lnetctl)")
    modules = _module_plan(description, spec)
    # Only lnet before the import: lnet_selftest (or Lustre) brings LNet up with the module's
    # default networks as it loads, and the import would then find its nets there already.
    actions = [{"action": a, "seconds": round(s, 3)} for a, s in
               load_modules({"lnet": modules.pop("lnet")}, log=ctx.log)]
    t = time.monotonic()
    _lnet.lnetctl("lnet", "configure")
    actions.append({"action": "lnetctl lnet configure", "seconds": round(time.monotonic() - t, 3)})
    if spec is not None:
        text = render_yaml(spec, nodes, description, role)
        ctx.log("lnetctl import:\n" + text)
        t = time.monotonic()
        _lnet.lnetctl("import", stdin=text)
        actions.append({"action": "lnetctl import", "seconds": round(time.monotonic() - t, 3)})
    actions.extend({"action": a, "seconds": round(s, 3)} for a, s in
                   load_modules(modules, log=ctx.log))
    return {"nids": nids(), "actions": actions}


def undo(log=print):
    """Takes LNet down on this node: lnet_selftest unloaded (it holds LNet busy), ``lnetctl
    lnet unconfigure``, then the LNet modules unloaded. Returns [(action, seconds)]."""
    done = []
    loaded = loaded_modules()
    if "lnet_selftest" in loaded:
        t = time.monotonic()
        process.run(["rmmod", "lnet_selftest"])
        done.append(("rmmod lnet_selftest", time.monotonic() - t))
    if "lnet" in loaded and "ptlrpc" not in loaded:
        t = time.monotonic()
        out = process.run([_which("lnetctl") or "lnetctl", "lnet", "unconfigure"], check=False)
        if not out.ok:
            log(f"lnetctl lnet unconfigure exited {out.returncode}; unloading the modules")
        done.append(("lnetctl lnet unconfigure", time.monotonic() - t))
    done.extend(unload_modules(log))
    return done


def interfaces(ctx, count=1):
    """The names of the node's usable interfaces; SKIPs the test if it has fewer than
    `count`."""
    names = [i["name"] for i in ctx.node.usable_interfaces]
    if len(names) < count:
        raise errors.Skipped(f"needs {count} usable interfaces, {ctx.node.name} has {len(names)}")
    return names


def start_bare(ctx, count=0):
    """LNet loaded and configured with no net but ``lo``, for a test that builds its LNet
    itself (the dlc, multi-rail and udsp suites). SKIPs where Lustre is absent or the node
    has fewer than `count` usable interfaces. An LNet left up with nets or peers (another
    tool, a run cut short) is taken down first, saying so; FAILs if it still does not start
    clean. Returns the usable interface names."""
    names = interfaces(ctx, count)
    lnetctl = _which("lnetctl")
    if lnetctl is None:
        raise errors.Skipped(f"Lustre is not installed on {ctx.node.name} (no lnetctl)")
    loaded = process.run(["modprobe", "lnet"], check=False)
    if not loaded.ok:
        raise errors.Skipped(f"the lnet module cannot be loaded on {ctx.node.name}: "
                             f"{loaded.stderr.strip()}")

    def leftovers():
        nets = sorted(n["net type"] for n in (_lnet.show_net() or {}).get("net") or [])
        peers = (_lnet.show_peer() or {}).get("peer") or []
        return [] if nets == ["lo"] and not peers else [f"nets {nets}", f"{len(peers)} peers"]

    _lnet.configure()
    _lnet.require()
    left = leftovers()
    if left:
        ctx.log(f"LNet on {ctx.node.name} was up with {', '.join(left)}: unconfiguring first")
        stop(ctx)
        _lnet.configure()
        left = leftovers()
        if left:
            raise errors.Failed(f"LNet on {ctx.node.name} did not start clean: {', '.join(left)}")
    return names


def stop(ctx):
    """Takes LNet down (``lnet_selftest`` unloaded first: it holds LNet), leaving the
    modules loaded; nothing to do where it is not up."""
    loaded = loaded_modules()
    if "lnet_selftest" in loaded:
        process.run(["rmmod", "lnet_selftest"])
    if "lnet" in loaded:
        try:
            _lnet.unconfigure()
        except _lnet.LnetError as e:
            if e.errno != _lnet.NOT_CONFIGURED:
                raise


def nids_or_none():
    """This node's NIDs, or [] when LNet is not configured or cannot be asked."""
    try:
        return nids()
    except _lnet.LnetError:
        return []


def wait_routes(timeout=90, interval=3, ping_gateways=True, log=print):
    """Waits until every route on this node is up (``lnetctl route show -v``), pinging the
    gateways first so that they are discovered; returns the routes. FAILs after `timeout`
    seconds naming the routes still down."""
    def routes():
        shown = _lnet.lnetctl("route", "show", "-v")["output"] or {}
        return shown.get("route") or []

    if ping_gateways:
        for gw in sorted({r.get("gateway") for r in routes() if r.get("gateway")}):
            try:
                _lnet.ping(gw, timeout=5)
            except _lnet.LnetError as e:
                log(f"ping gateway {gw}: {e.description}")
    deadline = time.monotonic() + timeout
    while True:
        current = routes()
        down = [f"{r.get('net')} via {r.get('gateway')}" for r in current
                if str(r.get("state", "up")).lower() != "up"]
        if not down:
            return current
        if time.monotonic() > deadline:
            raise errors.Failed(f"routes still down after {timeout} s: {', '.join(down)}")
        time.sleep(interval)
