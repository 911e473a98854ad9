"""Interface discovery: the usable interfaces in the facts are the ones the OS reports."""
import fcntl
import os
import socket
import struct

from lutf import Test

test = Test(interfaces=1)

SIOCGIFADDR = 0x8915  # from <linux/sockios.h>: the primary IPv4 address of an interface
IFF_UP = 0x1
IFF_LOOPBACK = 0x8


def primary_ipv4(name):
    """The interface's primary IPv4 address, asked of the kernel, or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            answer = fcntl.ioctl(s.fileno(), SIOCGIFADDR, struct.pack("256s", name.encode()))
        except OSError:
            return None
    return socket.inet_ntoa(answer[20:24])


def sysfs(name, attribute):
    with open(f"/sys/class/net/{name}/{attribute}") as f:
        return f.read().strip()


@test.step
def interfaces(ctx):
    """Compare each usable interface with sysfs and the kernel's address."""
    usable = {i.name: i for i in ctx.node.usable_interfaces}
    ctx.log("usable interfaces:", ", ".join(sorted(usable)) or "none")

    # What the OS says is usable: up, not loopback, with an IPv4 address.
    seen = {}
    for name in sorted(os.listdir("/sys/class/net")):
        flags = int(sysfs(name, "flags"), 16)
        address = primary_ipv4(name)
        if flags & IFF_UP and not flags & IFF_LOOPBACK and address:
            seen[name] = address
    assert sorted(usable) == sorted(seen), (
        f"facts list {sorted(usable)} as usable, the OS says {sorted(seen)}"
    )

    for name, iface in usable.items():
        addresses = [a.address for a in iface.ipv4]
        assert seen[name] in addresses, (
            f"{name}: the kernel's address {seen[name]} is not among the facts' {addresses}"
        )
        mtu = int(sysfs(name, "mtu"))
        assert iface.mtu == mtu, f"{name}: facts say MTU {iface.mtu}, sysfs says {mtu}"
    return [
        {"name": i.name, "mtu": i.mtu, "ipv4": [f"{a.address}/{a.prefix}" for a in i.ipv4]}
        for i in ctx.node.usable_interfaces
    ]
