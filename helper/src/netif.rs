//! Network interfaces from `getifaddrs` (netlink inside libc, no resolver): names, flags,
//! addresses with prefix lengths, hardware addresses; MTU from `/sys/class/net`.

use std::ffi::CStr;
use std::net::{Ipv4Addr, Ipv6Addr};

use lutf_protocol::{Addr, IfFlags, Interface};

/// Every interface, in the order the kernel lists them.
pub fn interfaces() -> std::io::Result<Vec<Interface>> {
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `head` with a list we free below with freeifaddrs.
    if unsafe { libc::getifaddrs(&mut head) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let mut list: Vec<Interface> = Vec::new();
    let mut cur = head;
    while !cur.is_null() {
        // SAFETY: `cur` is a node of the list getifaddrs returned, not yet freed.
        let ifa = unsafe { &*cur };
        cur = ifa.ifa_next;
        if ifa.ifa_name.is_null() {
            continue;
        }
        // SAFETY: ifa_name is a NUL-terminated string owned by the list.
        let name = unsafe { CStr::from_ptr(ifa.ifa_name) }
            .to_string_lossy()
            .into_owned();
        let idx = match list.iter().position(|i| i.name == name) {
            Some(i) => i,
            None => {
                list.push(Interface {
                    mtu: mtu(&name),
                    name,
                    mac: None,
                    flags: flags(ifa.ifa_flags),
                    ipv4: vec![],
                    ipv6: vec![],
                });
                list.len() - 1
            }
        };
        let iface = &mut list[idx];
        if ifa.ifa_addr.is_null() {
            continue;
        }
        // SAFETY: ifa_addr points to a sockaddr whose family says which struct it is;
        // each cast below matches its family, and the netmask has the same family.
        unsafe {
            match i32::from((*ifa.ifa_addr).sa_family) {
                libc::AF_INET => {
                    let a = &*(ifa.ifa_addr as *const libc::sockaddr_in);
                    let prefix = if ifa.ifa_netmask.is_null() {
                        32
                    } else {
                        let m = &*(ifa.ifa_netmask as *const libc::sockaddr_in);
                        u32::from_be(m.sin_addr.s_addr).count_ones() as u8
                    };
                    iface.ipv4.push(Addr {
                        address: Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr)).to_string(),
                        prefix,
                    });
                }
                libc::AF_INET6 => {
                    let a = &*(ifa.ifa_addr as *const libc::sockaddr_in6);
                    let prefix = if ifa.ifa_netmask.is_null() {
                        128
                    } else {
                        let m = &*(ifa.ifa_netmask as *const libc::sockaddr_in6);
                        m.sin6_addr
                            .s6_addr
                            .iter()
                            .map(|b| b.count_ones())
                            .sum::<u32>() as u8
                    };
                    iface.ipv6.push(Addr {
                        address: Ipv6Addr::from(a.sin6_addr.s6_addr).to_string(),
                        prefix,
                    });
                }
                libc::AF_PACKET => {
                    let ll = &*(ifa.ifa_addr as *const libc::sockaddr_ll);
                    let len = usize::from(ll.sll_halen).min(ll.sll_addr.len());
                    iface.mac = mac(&ll.sll_addr[..len]);
                    iface.flags = flags(ifa.ifa_flags);
                }
                _ => {}
            }
        }
    }
    // SAFETY: `head` came from getifaddrs and is freed once.
    unsafe { libc::freeifaddrs(head) };
    Ok(list)
}

fn flags(f: libc::c_uint) -> IfFlags {
    let has = |bit: libc::c_int| f & bit as libc::c_uint != 0;
    IfFlags {
        up: has(libc::IFF_UP),
        running: has(libc::IFF_RUNNING),
        loopback: has(libc::IFF_LOOPBACK),
        broadcast: has(libc::IFF_BROADCAST),
        multicast: has(libc::IFF_MULTICAST),
    }
}

/// `aa:bb:...`, or `None` for an empty or all-zero address (loopback, tunnels).
fn mac(bytes: &[u8]) -> Option<String> {
    if bytes.iter().all(|&b| b == 0) {
        return None;
    }
    Some(
        bytes
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":"),
    )
}

fn mtu(name: &str) -> Option<u32> {
    if name.contains('/') || name.starts_with('.') {
        return None;
    }
    std::fs::read_to_string(format!("/sys/class/net/{name}/mtu"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_listed_with_its_address() {
        let list = interfaces().unwrap();
        let lo = list
            .iter()
            .find(|i| i.flags.loopback)
            .expect("a loopback interface");
        assert!(lo.flags.up);
        assert!(lo
            .ipv4
            .iter()
            .any(|a| a.address == "127.0.0.1" && a.prefix == 8));
        assert_eq!(lo.mac, None);
        assert!(lo.mtu.is_some());
    }

    #[test]
    fn mac_formats_and_zero_is_none() {
        assert_eq!(
            mac(&[0, 0x1b, 0x21, 0xaa, 0xbb, 0x0c]).as_deref(),
            Some("00:1b:21:aa:bb:0c")
        );
        assert_eq!(mac(&[0; 6]), None);
        assert_eq!(mac(&[]), None);
    }
}
