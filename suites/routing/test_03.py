"""Routes both ways: lnet_selftest brw of 1 MiB from the client to the server and back through the router, with no errors."""
from selftest_both_ways import make

test = make("1M")
