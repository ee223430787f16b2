#!/usr/bin/env python3
"""Send one udev-format (libudev) uevent to netlink multicast group 2, as systemd-udevd re-broadcasts it.

Usage: send-uevent.py KEY=VALUE ...   (ACTION, DEVPATH, SUBSYSTEM, DEVTYPE, BUSNUM, DEVNUM, ...)
Needs root (only root may send to a netlink multicast group); run inside the test's network namespace.
"""
import socket
import struct
import sys

props = b"".join(arg.encode() + b"\0" for arg in sys.argv[1:])
# struct udev_monitor_netlink_header: "libudev\0", magic 0xfeedcafe in network order, header size,
# properties offset and length, subsystem/devtype hashes and tag bloom (unused here: 0 = no filter).
HEADER_SIZE = 40
header = b"libudev\0" + struct.pack("!I", 0xFEEDCAFE) + struct.pack(
    "=IIIIIII", HEADER_SIZE, HEADER_SIZE, len(props), 0, 0, 0, 0
)
assert len(header) == HEADER_SIZE
sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 15)  # NETLINK_KOBJECT_UEVENT
sock.bind((0, 0))
sock.sendto(header + props, (0, 2))  # groups bitmask 2 = udev's multicast group
sock.close()
