package main

// The decision itself: kube-network-policies' (*Controller).evaluatePacket, the function its
// dataplane calls for the first packet of every connection queued by nftables. It and its argument
// type are unexported, and the go command refuses -overlay files under GOMODCACHE, so it is pulled in
// by name with go:linkname (allowed for packages outside the standard library). Nothing here decides.

import (
	"context"
	"net"
	_ "unsafe" // go:linkname

	v1 "k8s.io/api/core/v1"
	"sigs.k8s.io/kube-network-policies/pkg/networkpolicy"
)

// packet mirrors networkpolicy.packet field for field (pkg/networkpolicy/packet.go at the pinned
// version; main refuses to run against any other version, see pinnedLibraryVersion).
type packet struct {
	id      uint32
	family  v1.IPFamily
	srcIP   net.IP
	dstIP   net.IP
	proto   v1.Protocol
	srcPort int
	dstPort int
	payload []byte
}

//go:linkname evaluatePacket sigs.k8s.io/kube-network-policies/pkg/networkpolicy.(*Controller).evaluatePacket
func evaluatePacket(c *networkpolicy.Controller, ctx context.Context, p packet) bool

// allowed: what the dataplane does with the first packet from src:srcPort to dst:dstPort.
func allowed(ctx context.Context, c *networkpolicy.Controller, src net.IP, srcPort int, dst net.IP, dstPort int, proto v1.Protocol) bool {
	family := v1.IPv4Protocol
	if src.To4() == nil {
		family = v1.IPv6Protocol
	}
	return evaluatePacket(c, ctx, packet{family: family, srcIP: src, srcPort: srcPort, dstIP: dst, dstPort: dstPort, proto: proto})
}
