// klipper-lb stand-in: what each pod of k3s's service load balancer (servicelb) runs. k3s v1.32
// starts one svclb pod per node for every LoadBalancer Service, with a hostPort per Service port
// and this image; the container forwards what reaches that port to the Service. It is configured
// by environment (k3s pkg/cloudprovider/servicelb.go):
//
//	SRC_PORT    the port traffic arrives on (the hostPort)
//	SRC_RANGES  comma-separated CIDRs allowed in (loadBalancerSourceRanges; 0.0.0.0/0 by default)
//	DEST_PROTO  TCP, UDP or SCTP
//	DEST_PORT   the Service port (or its nodePort under externalTrafficPolicy: Local)
//	DEST_IPS    comma-separated: the Service's cluster IPs (or the node's IPs under Local)
//
// The forwarding is kernel NAT in the pod's own network namespace: one nftables table per address
// family, a DNAT to the first destination of that family and a masquerade so that replies come
// back through the pod. The pod needs NET_ADMIN and ip_forward, which k3s's DaemonSet sets.
package main

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

const tableName = "svclb"

// family is what differs between IPv4 and IPv6: the table family, where the addresses sit in the
// network header, and the sysctl that lets the namespace forward.
type family struct {
	name          string
	table         nftables.TableFamily
	natFamily     uint32
	sourceOffset  uint32
	destOffset    uint32
	addressLength uint32
	forwardSysctl string
}

var ipv4 = family{"IPv4", nftables.TableFamilyIPv4, unix.NFPROTO_IPV4, 12, 16, 4, "/proc/sys/net/ipv4/ip_forward"}
var ipv6 = family{"IPv6", nftables.TableFamilyIPv6, unix.NFPROTO_IPV6, 8, 24, 16, "/proc/sys/net/ipv6/conf/all/forwarding"}

func familyOf(addr netip.Addr) family {
	if addr.Is4() {
		return ipv4
	}
	return ipv6
}

// protocols: DEST_PROTO's values and their IP protocol numbers.
var protocols = map[string]byte{"TCP": unix.IPPROTO_TCP, "UDP": unix.IPPROTO_UDP, "SCTP": unix.IPPROTO_SCTP}

type config struct {
	sourcePort   uint16
	destPort     uint16
	protocolName string
	protocol     byte
	sources      []netip.Prefix
	dests        []netip.Addr
}

func main() {
	cfg, err := readConfig(os.Getenv)
	if err != nil {
		fmt.Fprintf(os.Stderr, "klipper-lb: %v\n", err)
		os.Exit(2)
	}
	conn, err := nftables.New()
	if err != nil {
		fmt.Fprintf(os.Stderr, "klipper-lb: netlink: %v\n", err)
		os.Exit(1)
	}
	tables, err := install(conn, cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "klipper-lb: %v\n", err)
		os.Exit(1)
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
	for _, table := range tables {
		conn.DelTable(table)
	}
	if err := conn.Flush(); err != nil {
		fmt.Fprintf(os.Stderr, "klipper-lb: removing the rules: %v\n", err)
	}
}

func readConfig(getenv func(string) string) (config, error) {
	var cfg config
	var err error
	if cfg.sourcePort, err = port(getenv, "SRC_PORT"); err != nil {
		return cfg, err
	}
	if cfg.destPort, err = port(getenv, "DEST_PORT"); err != nil {
		return cfg, err
	}
	cfg.protocolName = strings.ToUpper(getenv("DEST_PROTO"))
	if cfg.protocolName == "" {
		cfg.protocolName = "TCP"
	}
	var known bool
	if cfg.protocol, known = protocols[cfg.protocolName]; !known {
		return cfg, fmt.Errorf("DEST_PROTO %q is not TCP, UDP or SCTP", cfg.protocolName)
	}
	ranges := getenv("SRC_RANGES")
	if strings.TrimSpace(ranges) == "" {
		ranges = "0.0.0.0/0"
	}
	for _, text := range fields(ranges) {
		prefix, err := netip.ParsePrefix(text)
		if err != nil {
			return cfg, fmt.Errorf("SRC_RANGES: %q is not a CIDR", text)
		}
		cfg.sources = append(cfg.sources, prefix.Masked())
	}
	for _, text := range fields(getenv("DEST_IPS")) {
		addr, err := netip.ParseAddr(text)
		if err != nil {
			return cfg, fmt.Errorf("DEST_IPS: %q is not an IP address", text)
		}
		cfg.dests = append(cfg.dests, addr.Unmap())
	}
	if len(cfg.dests) == 0 {
		return cfg, fmt.Errorf("DEST_IPS is empty")
	}
	return cfg, nil
}

func port(getenv func(string) string, name string) (uint16, error) {
	value, err := strconv.ParseUint(strings.TrimSpace(getenv(name)), 10, 16)
	if err != nil || value == 0 {
		return 0, fmt.Errorf("%s %q is not a port", name, getenv(name))
	}
	return uint16(value), nil
}

func fields(list string) []string {
	return strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ' ' })
}

// install writes one table per destination family in one netlink batch and returns the tables.
func install(conn *nftables.Conn, cfg config) ([]*nftables.Table, error) {
	var tables []*nftables.Table
	done := map[nftables.TableFamily]bool{}
	for _, dest := range cfg.dests {
		fam := familyOf(dest)
		if done[fam.table] {
			continue
		}
		done[fam.table] = true
		var sources []netip.Prefix
		for _, prefix := range cfg.sources {
			if prefix.Addr().Is4() == dest.Is4() {
				sources = append(sources, prefix)
			}
		}
		if len(sources) == 0 {
			fmt.Fprintf(os.Stderr, "klipper-lb: no %s source range, so %s is not forwarded\n", fam.name, dest)
			continue
		}
		if forwarding, err := os.ReadFile(fam.forwardSysctl); err == nil && strings.TrimSpace(string(forwarding)) != "1" {
			fmt.Fprintf(os.Stderr, "klipper-lb: %s is off: forwarded packets will be dropped\n", fam.forwardSysctl)
		}
		// A restarted container finds its namespace's table from before: replaced in the same batch.
		if old, err := conn.ListTableOfFamily(tableName, fam.table); err == nil {
			conn.DelTable(old)
		}
		table := conn.AddTable(&nftables.Table{Name: tableName, Family: fam.table})
		prerouting := conn.AddChain(&nftables.Chain{
			Name: "prerouting", Table: table, Type: nftables.ChainTypeNAT,
			Hooknum: nftables.ChainHookPrerouting, Priority: nftables.ChainPriorityNATDest,
		})
		postrouting := conn.AddChain(&nftables.Chain{
			Name: "postrouting", Table: table, Type: nftables.ChainTypeNAT,
			Hooknum: nftables.ChainHookPostrouting, Priority: nftables.ChainPriorityNATSource,
		})
		for _, source := range sources {
			conn.AddRule(&nftables.Rule{Table: table, Chain: prerouting, Exprs: dnat(fam, source, cfg, dest)})
		}
		conn.AddRule(&nftables.Rule{Table: table, Chain: postrouting, Exprs: masquerade(fam, cfg, dest)})
		tables = append(tables, table)
		fmt.Printf("forwarding %s port %d from %s to %s port %d\n", cfg.protocolName, cfg.sourcePort, joinPrefixes(sources), dest, cfg.destPort)
	}
	if len(tables) == 0 {
		return nil, fmt.Errorf("nothing to forward: no address in DEST_IPS has a source range of its family")
	}
	if err := conn.Flush(); err != nil {
		return nil, fmt.Errorf("writing the nftables rules: %w", err)
	}
	return tables, nil
}

// matchProtocolAndPort loads the layer-4 protocol and destination port and compares them.
func matchProtocolAndPort(protocol byte, port uint16) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{protocol}},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: bigEndian16(port)},
	}
}

// dnat: saddr within source, protocol and SRC_PORT -> dnat to dest:DEST_PORT.
func dnat(fam family, source netip.Prefix, cfg config, dest netip.Addr) []expr.Any {
	mask := make([]byte, fam.addressLength)
	for bit := 0; bit < source.Bits(); bit++ {
		mask[bit/8] |= 0x80 >> (bit % 8)
	}
	exprs := []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: fam.sourceOffset, Len: fam.addressLength},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: fam.addressLength, Mask: mask, Xor: make([]byte, fam.addressLength)},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: source.Addr().AsSlice()},
	}
	exprs = append(exprs, matchProtocolAndPort(cfg.protocol, cfg.sourcePort)...)
	return append(exprs,
		&expr.Immediate{Register: 1, Data: dest.AsSlice()},
		&expr.Immediate{Register: 2, Data: bigEndian16(cfg.destPort)},
		&expr.NAT{Type: expr.NATTypeDestNAT, Family: fam.natFamily, RegAddrMin: 1, RegProtoMin: 2},
	)
}

// masquerade: daddr dest, protocol and DEST_PORT -> masquerade (replies return through this pod).
func masquerade(fam family, cfg config, dest netip.Addr) []expr.Any {
	exprs := []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: fam.destOffset, Len: fam.addressLength},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: dest.AsSlice()},
	}
	exprs = append(exprs, matchProtocolAndPort(cfg.protocol, cfg.destPort)...)
	return append(exprs, &expr.Masq{})
}

func bigEndian16(value uint16) []byte {
	return binary.BigEndian.AppendUint16(nil, value)
}

func joinPrefixes(prefixes []netip.Prefix) string {
	texts := make([]string, len(prefixes))
	for i, prefix := range prefixes {
		texts[i] = prefix.String()
	}
	return strings.Join(texts, ",")
}
