"""Routes both ways: lnet_selftest brw of 4 KiB from the client to the server and back through the router, with no errors."""
from selftest_both_ways import make

test = make("4k")
