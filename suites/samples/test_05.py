"""Interface discovery: the usable interfaces in the facts are as the OS reports them."""
import fcntl
import os
import socket
import struct
import time

from lutf import Test

test = Test(interfaces=1)

SIOCGIFADDR = 0x8915  # from <linux/sockios.h>: an interface's primary IPv4 address
IFF_UP = 0x1


def os_view(name):
    """(up, primary IPv4 address, MTU) as the kernel says now, or None if it is gone."""
    try:
        with open(f"/sys/class/net/{name}/flags") as f:
            up = bool(int(f.read(), 16) & IFF_UP)
        with open(f"/sys/class/net/{name}/mtu") as f:
            mtu = int(f.read())
    except OSError:
        return None
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            answer = fcntl.ioctl(s.fileno(), SIOCGIFADDR, struct.pack("256s", name.encode()))
            address = socket.inet_ntoa(answer[20:24])
        except OSError:
            address = None
    return up, address, mtu


def disagreement(iface):
    """What the OS says differently about a usable interface from the facts, or None."""
    view = os_view(iface.name)
    if view is None:
        return None  # removed since the facts were gathered: nothing to compare
    up, address, mtu = view
    addresses = [a.address for a in iface.ipv4]
    if not up:
        return f"{iface.name} is down"
    if address not in addresses:
        return f"{iface.name}: the kernel's address {address} is not among the facts' {addresses}"
    if mtu != iface.mtu:
        return f"{iface.name}: facts say MTU {iface.mtu}, the kernel says {mtu}"
    return None


@test.step
def interfaces(ctx):
    """Compare each usable interface with sysfs and the kernel's address."""
    usable = ctx.node.usable_interfaces
    ctx.log("usable interfaces:", ", ".join(i.name for i in usable))
    for iface in usable:
        problem = disagreement(iface)
        if problem:
            # Interfaces may be changing right now (being set up or torn down): look again.
            time.sleep(1)
            problem = disagreement(iface)
        assert problem is None, problem
    present = [i for i in usable if os.path.exists(f"/sys/class/net/{i.name}")]
    assert present, "none of the usable interfaces in the facts exists any more"
    return [
        {"name": i.name, "mtu": i.mtu, "ipv4": [f"{a.address}/{a.prefix}" for a in i.ipv4]}
        for i in present
    ]
