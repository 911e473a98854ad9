"""The toolkit modules: command construction, declarations, and parsing of real lnetctl output.

Parsing runs the real lutf-helper (target/debug/lutf-helper, or $LUTF_TEST_HELPER) on the
captured outputs of tests/fixtures/lnet-2.17.57 through a stand-in lnetctl that prints them;
those tests skip, saying why, when the helper is not built or the fixtures are absent.
"""

import json
import os
import shutil
import stat as stat_mode
import tempfile
import unittest

import harness
import lutf

from lutf import DeclarationError, Skipped, Test, clean, faults, fs, logs, provision, selftest
from lutf import stats, lnet
from lutf.context import Node
from lutf.fs import FileSystem
from lutf.provision import LNet

ROOT = harness.ROOT


def find_fixtures():
    env = os.environ.get("LUTF_FIXTURES")
    if env and os.path.isdir(env):
        return env
    here = os.path.join(ROOT, "tests", "fixtures", "lnet-2.17.57")
    if os.path.isdir(here):
        return here
    d = ROOT
    while True:
        cand = os.path.join(d, "shared", "fixtures", "lnet-2.17.57")
        if os.path.isdir(cand):
            return cand
        parent = os.path.dirname(d)
        if parent == d:
            return None
        d = parent


def find_helper():
    env = os.environ.get("LUTF_TEST_HELPER")
    if env and os.access(env, os.X_OK):
        return env
    for rel in ("target/debug/lutf-helper", "target/release/lutf-helper"):
        p = os.path.join(ROOT, rel)
        if os.access(p, os.X_OK):
            return p
    return None


def iface(name, address, up=True):
    return {"name": name, "flags": {"up": up, "loopback": False},
            "ipv4": [{"address": address, "prefix": 24}]}


def node(name, role, *addresses):
    return Node(name, role, {"interfaces": [iface(f"eth{i}", a) for i, a in enumerate(addresses)]})


ROUTED = LNet({
    "client": {"nets": {"tcp": [0]}, "routes": {"tcp1": "router"}},
    "router": {"nets": {"tcp": [0], "tcp1": ["eth1"]}, "routing": True,
               "buffers": {"tiny": 512, "small": 512, "large": 64}},
    "server": {"nets": {"tcp1": [1]}, "routes": [{"net": "tcp", "via": "router", "hops": 2}],
               "peers": ["router"]},
}, globals={"discovery": 0, "retry_count": 2})

NODES = {
    "client": node("vm1", "client", "10.0.0.1", "10.1.0.1"),
    "router": node("vm2", "router", "10.0.0.2", "10.1.0.2"),
    "server": node("vm3", "server", "10.0.0.3", "10.1.0.3"),
}


class TestFaults(unittest.TestCase):
    def test_drop_rule_arguments(self):
        self.assertEqual(
            faults.rule_args("drop", "10.0.0.1@tcp", "10.0.0.2@tcp", rate=1, message="put",
                             health="remote_dropped"),
            ["fault", "drop", "add", "--source", "10.0.0.1@tcp", "--dest", "10.0.0.2@tcp",
             "--rate", "1", "--message", "PUT", "--health_error", "remote_dropped"])
        self.assertEqual(
            faults.rule_args("delay", "*@tcp", "*@tcp1", interval=5, latency=3),
            ["fault", "delay", "add", "--source", "*@tcp", "--dest", "*@tcp1",
             "--interval", "5", "--latency", "3"])

    def test_bad_rules_are_refused(self):
        with self.assertRaisesRegex(ValueError, "not both"):
            faults.rule_args("drop", "a@tcp", "b@tcp", rate=1, interval=1)
        with self.assertRaisesRegex(ValueError, "not both"):
            faults.rule_args("drop", "a@tcp", "b@tcp")
        with self.assertRaisesRegex(ValueError, "health must be one of"):
            faults.rule_args("drop", "a@tcp", "b@tcp", rate=1, health="sad")
        with self.assertRaisesRegex(ValueError, "for drop rules"):
            faults.rule_args("delay", "a@tcp", "b@tcp", rate=1, health="local_error")
        with self.assertRaisesRegex(ValueError, "message must be"):
            faults.rule_args("drop", "a@tcp", "b@tcp", rate=1, message="hello")

    def test_the_same_rule_for_lctl(self):
        argv = faults.rule_args("drop", "a@tcp", "b@tcp", rate=2, message="get",
                                health="local_timeout")
        self.assertEqual(faults._lctl_args(argv),
                         ["net_drop_add", "-s", "a@tcp", "-d", "b@tcp", "-r", "2", "-m", "get",
                          "-e", "local_timeout"])


class TestProvision(unittest.TestCase):
    def test_routed_yaml(self):
        router = provision.render_yaml(ROUTED.roles["router"], NODES, ROUTED, "router")
        self.assertIn("    - net type: tcp1\n      local NI(s):\n        - interfaces:\n"
                      "              0: eth1\n", router)
        self.assertIn("buffers:\n    tiny: 512\n    small: 512\n    large: 64\n", router)
        self.assertIn("routing:\n    enable: 1\n", router)
        self.assertLess(router.index("buffers:"), router.index("routing:"))
        self.assertIn("global:\n    discovery: 0\n    retry_count: 2\n", router)
        client = provision.render_yaml(ROUTED.roles["client"], NODES, ROUTED, "client")
        # The gateway is the router's NID on the net the client shares with it.
        self.assertIn("route:\n    - net: tcp1\n      gateway: 10.0.0.2@tcp\n", client)
        server = provision.render_yaml(ROUTED.roles["server"], NODES, ROUTED, "server")
        self.assertIn("gateway: 10.1.0.2@tcp1\n      hop: 2\n", server)
        self.assertIn("peer:\n    - primary nid: 10.0.0.2@tcp\n      Multi-Rail: True\n"
                      "      peer ni:\n        - nid: 10.0.0.2@tcp\n        - nid: 10.1.0.2@tcp1\n",
                      server)

    def test_nids_follow_the_interfaces(self):
        self.assertEqual(provision.planned_nids(NODES, ROUTED), {
            "client": ["10.0.0.1@tcp"],
            "router": ["10.0.0.2@tcp", "10.1.0.2@tcp1"],
            "server": ["10.1.0.3@tcp1"],
        })

    def test_a_missing_interface_skips(self):
        small = dict(NODES, router=node("vm2", "router", "10.0.0.2"))
        with self.assertRaises(Skipped) as e:
            provision.planned_nids(small, ROUTED)
        self.assertIn("needs interface eth1 on node vm2 (role router), which has eth0 usable",
                      e.exception.reason)
        one = LNet({"client": {"nets": {"tcp": [3]}}})
        with self.assertRaises(Skipped) as e:
            provision.planned_nids({"client": NODES["client"]}, one)
        self.assertIn("needs 4 usable interfaces on node vm1 (role client), has 2",
                      e.exception.reason)

    def test_buffers_go_to_the_module_too(self):
        description = LNet(
            {"router": {"nets": {"tcp": [0]}, "routing": True, "buffers": {"large": 64}}},
            modules={"lnet_selftest": {}, "lnet": {"lnet_health_sensitivity": 1}})
        mods = provision._module_plan(description, description.roles["router"])
        self.assertEqual(list(mods), ["lnet", "lnet_selftest"])
        self.assertEqual(mods["lnet"], {"lnet_health_sensitivity": 1,
                                        "large_router_buffers": 64})
        self.assertEqual(provision.modprobe_argv("lnet", mods["lnet"]),
                         ["modprobe", "lnet", "lnet_health_sensitivity=1",
                          "large_router_buffers=64"])

    def test_unload_order_follows_users(self):
        loaded = {"libcfs": ["lnet", "obdclass"], "lnet": ["ksocklnd", "lnet_selftest", "ptlrpc"],
                  "ksocklnd": [], "lnet_selftest": [], "obdclass": ["ptlrpc", "lustre"],
                  "ptlrpc": ["lustre"], "lustre": [], "ext4": []}
        order = provision.unload_order(loaded)
        self.assertNotIn("ext4", order)
        for module, users in loaded.items():
            for user in users:
                if module in order:
                    self.assertLess(order.index(user), order.index(module), (user, module))
        self.assertEqual(order[-1], "libcfs")

    def test_declaration_errors(self):
        with self.assertRaisesRegex(DeclarationError, "unknown key"):
            LNet({"a": {"nets": {"tcp": [0]}, "route": {}}})
        with self.assertRaisesRegex(DeclarationError, "not an interface index"):
            LNet({"a": {"nets": {"tcp": [-1]}}})
        with self.assertRaisesRegex(DeclarationError, "not a role of the test"):
            Test(roles=["a"], lnet=LNet({"b": {"nets": {"tcp": [0]}}}))
        with self.assertRaisesRegex(DeclarationError, "not a role or a NID"):
            Test(roles=["a"], lnet=LNet({"a": {"nets": {"tcp": [0]}, "routes": {"tcp1": "gw"}}}))


class TestPlanOfAToolkitTest(unittest.TestCase):
    def test_system_steps_and_setup(self):
        t = Test(roles=["client", "router", "server"], lnet=ROUTED, debug="+net",
                 fs=FileSystem(mdt="server", ost=["router"], client=["client"]))

        @t.step(role="client")
        def work(ctx):
            return 1

        plan = t.plan("d")
        # Per role, from the interfaces each role's nets use.
        self.assertEqual(plan["needs"]["interfaces"], 0)
        self.assertEqual(plan["needs"]["role_interfaces"],
                         {"client": 1, "router": 2, "server": 2})
        self.assertTrue(plan["needs"]["lnet"])
        self.assertEqual([s["name"] for s in plan["steps"]], ["work"])
        names = [s["name"] for s in plan["system"]]
        self.assertEqual(names[:3], ["lutf.clean@client", "lutf.clean@router", "lutf.clean@server"])
        self.assertIn("lutf.fs_servers@server", names)
        fs_ost = [s for s in plan["system"] if s["name"] == "lutf.fs_ost@router"][0]
        self.assertEqual(fs_ost["after"], ["lutf.fs_servers@server"])
        undo = [s for s in plan["system"] if s["name"].startswith("lutf.undo")]
        self.assertTrue(all(s["cleanup"] for s in undo) and len(undo) == 3)
        self.assertIn("debug mask: +net", plan["setup"])
        self.assertIn("lnet router: tcp on 0, tcp1 on eth1; routing; buffers large=64 "
                      "small=512 tiny=512", plan["setup"])
        # The runner finds lutf's steps by name.
        step, role = t.instance("lutf.setup@router")
        self.assertEqual((step.name, role), ("lutf.setup", "router"))

    def test_a_routed_test_needs_two_interfaces_on_the_router_only(self):
        routed = LNet({
            "client": {"nets": {"tcp": [0]}, "routes": {"tcp1": "router"}},
            "router": {"nets": {"tcp": [0], "tcp1": [1]}, "routing": True},
            "server": {"nets": {"tcp1": [0]}, "routes": {"tcp": "router"}},
        })
        self.assertEqual(routed.interfaces_needed(), {"client": 1, "router": 2, "server": 1})
        t = Test(roles=["client", "router", "server"], lnet=routed)

        @t.step(role="client")
        def work(ctx):
            return 1

        needs = t.plan("d")["needs"]
        self.assertEqual((needs["interfaces"], needs["role_interfaces"]),
                         (0, {"client": 1, "router": 2, "server": 1}))
        # interfaces=1 for every role: only the router is named, with its 2.
        t = Test(roles=["client", "router", "server"], lnet=routed, interfaces=1)

        @t.step(role="client")
        def work2(ctx):
            return 1

        needs = t.plan("d")["needs"]
        self.assertEqual((needs["interfaces"], needs["role_interfaces"]), (1, {"router": 2}))
        # A role's own need given in Test() beside the description's: the most of both.
        t = Test(roles=["client", "router", "server"], lnet=routed, interfaces={"server": 3})

        @t.step(role="client")
        def work3(ctx):
            return 1

        self.assertEqual(t.plan("d")["needs"]["role_interfaces"],
                         {"client": 1, "router": 2, "server": 3})

    def test_interfaces_by_name_count_apart_from_indexes(self):
        self.assertEqual(LNet({"r": {"nets": {"tcp": [0], "tcp1": ["eth1"]}},
                               "a": {"nets": {"tcp": ["eth0"], "tcp1": ["eth0"]}},
                               "b": {"nets": {"tcp": [0, 2]}}}).interfaces_needed(),
                         {"r": 2, "a": 1, "b": 3})

    def test_no_clean(self):
        t = Test(lnet=True, clean=False)

        @t.step
        def work(ctx):
            return 1

        plan = t.plan("d")
        self.assertEqual([s["name"] for s in plan["system"]],
                         ["lutf.setup@node1", "lutf.logs@node1"])
        self.assertIn("no cleaning before the test", plan["setup"])

    def test_a_test_that_leaves_lustre_alone_gets_no_steps_of_lutfs(self):
        t = Test()

        @t.step
        def work(ctx):
            return 1

        plan = t.plan("d")
        self.assertNotIn("system", plan)
        self.assertNotIn("setup", plan)
        # Asked for, a plain test is cleaned and its logs collected too.
        t = Test(clean=True)

        @t.step
        def work2(ctx):
            return 1

        names = [s["name"] for s in t.plan("d")["system"]]
        self.assertEqual(names, ["lutf.clean@node1", "lutf.logs@node1"])


class TestClean(unittest.TestCase):
    def test_unmount_order(self):
        with tempfile.NamedTemporaryFile("w", delete=False) as f:
            f.write("/dev/vda / ext4 rw 0 0\n"
                    "lustre-wbcfs /mnt/lutf-mdt0 lustre rw,svname=lutf-MDT0000,mgs,osd=osd-wbcfs 0 0\n"
                    "10.0.0.1@tcp:/lutf /mnt/lutf lustre rw,flock 0 0\n"
                    "lustre-wbcfs /mnt/lutf-ost0 lustre rw,svname=lutf-OST0000,osd=osd-wbcfs 0 0\n"
                    "lustre-wbcfs /mnt/mgt lustre rw,svname=MGS,osd=osd-wbcfs 0 0\n")
        self.addCleanup(os.unlink, f.name)
        found = clean.mounts(f.name)
        self.assertEqual([m["point"] for m in found],
                         ["/mnt/lutf", "/mnt/lutf-ost0", "/mnt/lutf-mdt0", "/mnt/mgt"])
        self.assertTrue(found[0]["client"])
        self.assertEqual(clean.mounts("/nonexistent"), [])


class TestFileSystem(unittest.TestCase):
    def test_declaration(self):
        f = FileSystem(mdt="mds", ost=["oss1", "oss2"], client="c")
        self.assertEqual(f.roles(), ["mds", "oss1", "oss2", "c"])
        self.assertEqual(f.mgs_nid({"mds": ["10.0.0.1@tcp"]}), "10.0.0.1@tcp")
        self.assertEqual(f.ost_index("oss2"), 1)
        with self.assertRaisesRegex(DeclarationError, "up to 8"):
            FileSystem(mdt="a", ost="b", client="c", fsname="much-too-long")
        with self.assertRaisesRegex(DeclarationError, "not a role of the test"):
            Test(roles=["mds", "oss"], fs=FileSystem(mdt="mds", ost="oss", client="c"))

    def test_target_environment(self):
        self.assertEqual(fs.target_env("MDT", "lutf", 0, "10.0.0.1@tcp", primary_mdt=True), {
            "OSD_WBC_TGT_TYPE": "MDT", "OSD_WBC_FSNAME": "lutf", "OSD_WBC_INDEX": "0",
            "OSD_WBC_MGS_NID": "10.0.0.1@tcp", "OSD_WBC_PRIMARY_MDT": "1"})
        self.assertNotIn("OSD_WBC_PRIMARY_MDT", fs.target_env("OST", "lutf", 1, "n@tcp"))

    def test_mkfs_commands_for_block_devices(self):
        nid = "10.0.0.1@tcp"
        # The MDT holding the MGS: no --mgsnode.
        self.assertEqual(fs.mkfs_argv("MDT", "lutf", 0, nid, "/dev/sdb", primary_mdt=True),
                         ["mkfs.lustre", "--reformat", "--fsname=lutf", "--mgs", "--mdt",
                          "--index=0", "--backfstype=ldiskfs", "/dev/sdb"])
        self.assertEqual(fs.mkfs_argv("MDT", "lutf", 0, nid, "/dev/sdb"),
                         ["mkfs.lustre", "--reformat", "--fsname=lutf", "--mdt", "--index=0",
                          "--mgsnode=10.0.0.1@tcp", "--backfstype=ldiskfs", "/dev/sdb"])
        self.assertEqual(fs.mkfs_argv("MGT", "lutf", 0, nid, "/dev/sdd"),
                         ["mkfs.lustre", "--reformat", "--mgs", "--backfstype=ldiskfs",
                          "/dev/sdd"])
        self.assertEqual(fs.mkfs_argv("OST", "lutf", 2, nid, "/dev/sdc"),
                         ["mkfs.lustre", "--reformat", "--fsname=lutf", "--ost", "--index=2",
                          "--mgsnode=10.0.0.1@tcp", "--backfstype=ldiskfs", "/dev/sdc"])
        # ZFS: a pool made on the device, named after the target; or a given pool/dataset.
        self.assertEqual(fs.mkfs_argv("OST", "lutf", 1, nid, "/dev/sdc", backfs="zfs"),
                         ["mkfs.lustre", "--reformat", "--fsname=lutf", "--ost", "--index=1",
                          "--mgsnode=10.0.0.1@tcp", "--backfstype=zfs", "lutf-ost1/ost1",
                          "/dev/sdc"])
        self.assertEqual(fs.mkfs_argv("OST", "lutf", 1, nid, "tank/ost1", backfs="zfs")[-2:],
                         ["--backfstype=zfs", "tank/ost1"])
        self.assertEqual(fs.mount_argv("OST", "lutf", 1, "/dev/sdc", "zfs", "/mnt/lutf-ost1"),
                         ["mount", "-t", "lustre", "lutf-ost1/ost1", "/mnt/lutf-ost1"])
        self.assertEqual(fs.mount_argv("MDT", "lutf", 0, "/dev/sdb", "ldiskfs", "/mnt/m"),
                         ["mount", "-t", "lustre", "/dev/sdb", "/mnt/m"])
        with self.assertRaises(ValueError):
            fs.mkfs_argv("OST", "lutf", 0, nid, "/dev/sdc", backfs="xfs")

    def test_the_node_says_which_device(self):
        plain = Node("vm1", "oss", {})
        self.assertEqual(fs.target_device(plain, "OST"), (None, None))
        oss = Node("oss1", "oss", {}, {"ost": "/dev/sdc"})
        self.assertEqual(fs.target_device(oss, "OST"), ("/dev/sdc", "ldiskfs"))
        with self.assertRaises(Skipped) as e:
            fs.target_device(oss, "MDT")
        self.assertIn("an MDT on node oss1 (role oss), whose targets: in the cluster file "
                      "has no mdt: device (it has ost)", e.exception.reason)
        zfs = Node("oss2", "oss", {}, {"ost": "tank/ost0", "backfs": "zfs"})
        self.assertEqual(fs.target_device(zfs, "OST"), ("tank/ost0", "zfs"))

    def test_set_up_formats_where_the_node_has_devices(self):
        from unittest import mock
        base = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, base)
        ran = []

        def run(argv, **kw):
            ran.append((list(argv), sorted((kw.get("env") or {}).items())))
            return ""

        class Ctx:
            nids = {"mds": ["10.0.0.1@tcp"]}

        f = FileSystem(mdt="mds", ost=["oss1", "oss2"], client="c")
        with mock.patch.object(fs, "BASE", base), \
                mock.patch.object(fs, "_writable_base", lambda log=print: False), \
                mock.patch.object(fs.process, "run", run):
            ctx = Ctx()
            ctx.role, ctx.node = "mds", Node("mds1", "mds", {}, {"mdt": "/dev/sdb"})
            self.assertEqual(fs.set_up(ctx, f, "servers")["mounted"], [base + "/lutf-mdt0"])
            ctx.role, ctx.node = "oss2", Node("oss2", "oss2", {})
            fs.set_up(ctx, f, "ost")
        self.assertEqual([argv for argv, _ in ran], [
            ["modprobe", "lustre"],
            ["mkfs.lustre", "--reformat", "--fsname=lutf", "--mgs", "--mdt", "--index=0",
             "--backfstype=ldiskfs", "/dev/sdb"],
            ["mount", "-t", "lustre", "/dev/sdb", base + "/lutf-mdt0"],
            ["modprobe", "lustre"],
            # No targets: on this node: a wbcfs OST, as on the VMs.
            ["mount", "-t", "lustre", "-v", "lustre-wbcfs", base + "/lutf-ost1"],
        ])
        self.assertIn(("OSD_WBC_INDEX", "1"), ran[-1][1])

    def test_write_read_check(self):
        d = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, d)
        r = fs.write_read_check(os.path.join(d, "f"), 3 << 20, block=1 << 20)
        self.assertEqual(r["bytes"], 3 << 20)
        self.assertEqual(os.path.getsize(os.path.join(d, "f")), 3 << 20)
        self.assertEqual(len(r["sha256"]), 64)


class TestLogs(unittest.TestCase):
    def test_kernel_log_since(self):
        text = "[    1.000000] boot\n[  100.500000] before\n[  200.000000] after\n  continued\n"
        # Booted at epoch 1000: line 200 s is epoch 1200.
        self.assertEqual(logs.kernel_log_since(text, 1150, uptime=300, now=1300),
                         "[  200.000000] after\n  continued\n")
        self.assertEqual(logs.kernel_log_since(text, 5000, uptime=300, now=1300), "")


class TestSelftestSummary(unittest.TestCase):
    def test_averages_per_side(self):
        def measure(avg):
            return {"avg": avg, "min": avg, "max": avg, "unit": "MiB/s"}

        samples = [
            {"group": "lutf_src", "round": 0, "rates": {"read": measure(0), "write": measure(24)},
             "bandwidth": {"read": measure(0), "write": measure(11.64)}},
            {"group": "lutf_dst", "round": 0, "rates": {"read": measure(24), "write": measure(0)},
             "bandwidth": {"read": measure(11.68), "write": measure(0)}},
            {"group": "lutf_src", "round": 1, "rates": {"read": measure(0), "write": measure(23)},
             "bandwidth": {"read": measure(0), "write": measure(11.25)}},
        ]
        out = selftest.summarise({"samples": samples}, {"src": "lutf_src", "dst": "lutf_dst"})
        self.assertEqual(out["src"]["rates"]["write"], 23.5)
        self.assertEqual(out["src"]["bandwidth"]["write"], 11.445)
        self.assertEqual(out["dst"]["bandwidth"]["read"], 11.68)

    def test_roles_become_nids(self):
        class Ctx:
            nids = {"client": ["10.0.0.1@tcp", "10.1.0.1@tcp1"]}

        self.assertEqual(selftest.resolve(Ctx(), ["client", "9.9.9.9@tcp"]),
                         ["10.0.0.1@tcp", "10.1.0.1@tcp1", "9.9.9.9@tcp"])


FAKE_LNETCTL = """#!/bin/sh
f="$FAKE_FIXTURE"
tail -n +3 "$f"
exit $(sed -n 2p "$f" | sed 's/# exit: //')
"""


class TestParsingRealOutput(unittest.TestCase):
    """lnetctl's real output, read by the real helper, parsed by lutf.stats."""

    def setUp(self):
        self.fixtures = find_fixtures()
        helper = find_helper()
        if self.fixtures is None:
            self.skipTest("no lnet-2.17.57 fixtures (tests/fixtures or ../shared/fixtures)")
        if helper is None:
            self.skipTest("lutf-helper is not built (cargo build), set LUTF_TEST_HELPER")
        self.dir = tempfile.mkdtemp(prefix="lutf-toolkit-")
        self.addCleanup(shutil.rmtree, self.dir)
        fake = os.path.join(self.dir, "lnetctl")
        with open(fake, "w") as f:
            f.write(FAKE_LNETCTL)
        os.chmod(fake, stat_mode.S_IRWXU)
        saved = {k: os.environ.get(k) for k in ("PATH", "LUTF_HELPER", "FAKE_FIXTURE",
                                                 "LUTF_WORKDIR")}

        def restore():
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

        self.addCleanup(restore)
        os.environ["PATH"] = self.dir + ":" + os.environ.get("PATH", "")
        os.environ["LUTF_HELPER"] = helper
        os.environ["LUTF_WORKDIR"] = self.dir

    def tree(self, name, *argv):
        os.environ["FAKE_FIXTURE"] = os.path.join(self.fixtures, name)
        return lnet.lnetctl(*argv)["output"]

    def test_global_counters(self):
        g = stats.parse_global(self.tree("vm1.lnetctl-stats-show.txt", "stats", "show"))
        self.assertEqual((g["send_count"], g["recv_count"], g["drop_count"]), (2, 2, 0))
        self.assertEqual(g["recv_length"], 96)

    def test_ni_health_and_counts(self):
        nis = stats.parse_nis(self.tree("vm1.lnetctl-export.txt", "export"))
        tcp = nis["10.10.0.1@tcp"]
        self.assertEqual((tcp["status"], tcp["health"], tcp["send_count"]), ("up", 1000, 2))
        self.assertEqual(tcp["dropped"], 0)
        self.assertEqual(nis["0@lo"]["health"], 0)

    def test_peer_nis(self):
        peers = stats.parse_peer_nis(self.tree("vm1.lnetctl-peer-show-v.txt", "peer", "show"))
        p = peers["10.10.0.2@tcp"]
        self.assertEqual((p["send_count"], p["recv_count"], p["primary"]),
                         (2, 2, "10.10.0.2@tcp"))
        self.assertEqual(p["min_tx_credits"], 7)

    def test_delta_between_two_moments(self):
        one = self.tree("vm1.lnetctl-stats-show.txt", "stats", "show")
        two = self.tree("vm1.lnetctl-stats-show.2.txt", "stats", "show")
        before = {"time": 1.0, "global": stats.parse_global(one), "recovery": {}}
        after = {"time": 3.5, "global": stats.parse_global(two), "recovery": {"peer": []}}
        d = stats.delta(before, after)
        self.assertEqual(d["seconds"], 2.5)
        for k, v in d["global"].items():
            self.assertEqual(v, after["global"][k] - before["global"].get(k, 0), k)
        self.assertEqual(d["recovery"], {"peer": []})


if __name__ == "__main__":
    unittest.main()


class TestRuleListsAsPrinted(unittest.TestCase):
    """`lctl net_drop_list` / `net_delay_list` as captured on the VMs."""

    def read(self, name):
        with open(os.path.join(ROOT, "tests", "fixtures", "toolkit", name)) as f:
            return "".join(f.readlines()[2:])

    def test_drop_rules(self):
        rules = faults.parse_rules(self.read("vm2.lctl-net_drop_list.txt"))
        self.assertEqual([(r["src"], r["dst"], r["rate"], r["interval"]) for r in rules], [
            ("255.255.255.255@tcp", "198.19.0.12@tcp", 0, 5),
            ("198.19.0.11@tcp", "198.19.0.12@tcp", 1, 0),
        ])
        self.assertEqual(rules[1]["mask"], "4")

    def test_delay_rules_and_none(self):
        rules = faults.parse_rules(self.read("vm2.lctl-net_delay_list.txt"))
        self.assertEqual((rules[0]["rate"], rules[0]["latency"]), (2, 3))
        self.assertEqual(faults.parse_rules(self.read("vm2.lctl-net_drop_list.empty.txt")), [])


class TestContextAfterSetup(unittest.TestCase):
    def test_targets_of_the_cluster_file_reach_the_node(self):
        from lutf.context import Context

        # NodeInfo's JSON: `targets` only where the cluster file gives devices.
        nodes = {"mds": {"name": "mds1", "facts": {},
                         "targets": {"mdt": "/dev/sdb", "backfs": "ldiskfs"}},
                 "c": {"name": "cl1", "facts": {}}}
        ctx = Context(test="s/test_01", role="mds", node_name="mds1", nodes=nodes)
        self.assertEqual(ctx.node.targets, {"mdt": "/dev/sdb", "backfs": "ldiskfs"})
        self.assertIsNone(ctx.nodes["c"].targets)

    def test_nids_and_facts_follow_the_setup(self):
        from lutf.context import Context

        nodes = {"a": {"name": "vm1", "facts": {"lnet": {"module_loaded": False,
                                                         "configured": False, "nids": []},
                                                "interfaces": [iface("eth0", "10.0.0.1")]}},
                 "b": {"name": "vm2", "facts": {"interfaces": [iface("eth0", "10.0.0.2")]}}}
        ctx = Context(test="s/test_01", role="a", node_name="vm1", nodes=nodes,
                      results={"lutf.setup@a": {"nids": ["10.0.0.1@tcp"]}})
        ctx.lnet_description = LNet({"a": {"nets": {"tcp": [0]}}, "b": {"nets": {"tcp1": [0]}}})
        self.assertEqual(ctx.node.lnet.nids, ["10.0.0.1@tcp"])
        self.assertTrue(ctx.node.lnet.configured)
        # What the set-up reported, else what the description gives the node's interfaces.
        self.assertEqual(dict(ctx.nids), {"a": ["10.0.0.1@tcp"], "b": ["10.0.0.2@tcp1"]})


class RefusedAndPolling(unittest.TestCase):
    """`lnet.refused` and `lutf.wait_for` / `lutf.stays`: the verdicts suites build on."""

    def lnet_refuses(self, errno, kind="lnet"):
        def fn():
            raise lnet.LnetError(kind, "refused", errno=errno, description="cannot add")
        return fn

    def test_find_takes_the_first_value_anywhere_in_a_tree(self):
        tree = {"routing": [{"cpt": {"tiny": {"npages": 0}}}, {"enable": 1}],
                "buffers": {"tiny": 512}}
        self.assertEqual(lnet.find(tree, "buffers"), {"tiny": 512})
        self.assertEqual(lnet.find(tree, "enable"), 1)
        self.assertEqual(lnet.find(tree, "npages"), 0)
        self.assertIsNone(lnet.find(tree, "missing"))
        self.assertIsNone(lnet.find(None, "enable"))

    def test_refused_passes_on_lnets_errno_with_the_state_unchanged(self):
        state = {"nets": ["lo"]}
        got = lnet.refused(-17, "add", self.lnet_refuses(-17), state=lambda: dict(state))
        self.assertEqual(got, "cannot add")

    def test_refused_fails_on_another_errno_another_kind_success_or_a_changed_state(self):
        with self.assertRaisesRegex(AssertionError, "errno -22 .* expected -17"):
            lnet.refused(-17, "add", self.lnet_refuses(-22), state=lambda: 1)
        with self.assertRaisesRegex(AssertionError, "not refused by LNet but bad_args"):
            lnet.refused(-17, "add", self.lnet_refuses(None, "bad_args"), state=lambda: 1)
        with self.assertRaisesRegex(lutf.Failed, "add succeeded; LNet should refuse"):
            lnet.refused(-17, "add", lambda: None, state=lambda: 1)
        calls = iter([1, 2])
        with self.assertRaisesRegex(AssertionError, "changed the configuration: 1 -> 2"):
            lnet.refused(-17, "add", self.lnet_refuses(-17), state=lambda: next(calls))

    def test_backup_sorts_peers_and_routes(self):
        a = {"peer": [{"primary nid": "b", "peer ni": [{"nid": "y"}, {"nid": "x"}]},
                      {"primary nid": "a"}],
             "route": [{"net": "tcp2", "gateway": "x"}, {"net": "tcp1", "gateway": "y"}]}
        b = {"peer": [{"primary nid": "a"},
                      {"primary nid": "b", "peer ni": [{"nid": "x"}, {"nid": "y"}]}],
             "route": [{"net": "tcp1", "gateway": "y"}, {"net": "tcp2", "gateway": "x"}]}
        self.assertEqual(lnet.backup(a), lnet.backup(b))

    def test_wait_for_returns_once_reached_and_fails_naming_the_last_value(self):
        values = iter(["down", "down", "up"])
        self.assertEqual(lutf.wait_for("route", lambda: next(values), "up", interval=0), "up")
        with self.assertRaisesRegex(lutf.Failed, "route: still 'down' after 0 s, wanted 'up'"):
            lutf.wait_for("route", lambda: "down", "up", timeout=0, interval=0)
        counts = iter([1, 2, 5])
        self.assertEqual(lutf.wait_for("count", lambda: next(counts), lambda c: c > 3,
                                       interval=0), 5)
        with self.assertRaisesRegex(lutf.Failed, "count: still 1 after 0 s$"):
            lutf.wait_for("count", lambda: 1, lambda c: c > 3, timeout=0, interval=0)

    def test_stays_fails_at_the_first_change(self):
        self.assertGreaterEqual(lutf.stays("x", lambda: 1, 1, seconds=0.05, interval=0.01), 1)
        values = iter([1, 1, 2])
        with self.assertRaisesRegex(lutf.Failed, "x: 2 after 3 reads, expected it to stay 1"):
            lutf.stays("x", lambda: next(values), 1, seconds=5, interval=0)
