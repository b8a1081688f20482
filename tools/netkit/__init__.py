"""tools/netkit - the HIL kit's network back-end (issue 11): a network
namespace with a tap device, dnsmasq and a seeded relay that impairs the
link between it and the twin's NIC (namespace.py, relay.py, impair.py)."""
