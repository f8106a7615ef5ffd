// netpol-eval answers "is this connection allowed?" for a set of NetworkPolicies, pods and
// namespaces, with the decision of sigs.k8s.io/kube-network-policies: its Controller is built on
// informer stores filled from the input (no cluster, no nftables) and each query is the first packet
// of a connection given to the controller's own evaluatePacket (see evaluate.go).
//
// stdin (JSON):
//
//	{"policies":   [<networking.k8s.io/v1 NetworkPolicy>, ...],
//	 "namespaces": [{"name": "ns", "labels": {...}}, ...],
//	 "pods":       [{"name": "p", "namespace": "ns", "labels": {...}, "ip": "10.0.0.1",
//	                 "containers": [<core/v1 Container>, ...]}, ...],
//	 "queries":    [{"name": "q", "from": {"pod": "ns/p"} | {"ip": "1.2.3.4"},
//	                 "to": {"pod": "ns/p"} | {"ip": "1.2.3.4"}, "port": 8000, "protocol": "TCP"}, ...]}
//
// stdout (JSON): {"verdicts": [{"name": "q", "allowed": true}, ...]}
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"runtime/debug"
	"strings"

	v1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/klog/v2"
	"sigs.k8s.io/kube-network-policies/pkg/networkpolicy"
)

const (
	libraryModule = "sigs.k8s.io/kube-network-policies"
	// pinnedLibraryVersion: the version whose packet type evaluate.go mirrors.
	pinnedLibraryVersion = "v0.8.0"
)

type input struct {
	Policies   []networkingv1.NetworkPolicy `json:"policies"`
	Namespaces []struct {
		Name   string            `json:"name"`
		Labels map[string]string `json:"labels"`
	} `json:"namespaces"`
	Pods []struct {
		Name       string            `json:"name"`
		Namespace  string            `json:"namespace"`
		Labels     map[string]string `json:"labels"`
		IP         string            `json:"ip"`
		Containers []v1.Container    `json:"containers"`
	} `json:"pods"`
	Queries []query `json:"queries"`
}

type endpoint struct {
	Pod string `json:"pod,omitempty"` // namespace/name of a pod in "pods"
	IP  string `json:"ip,omitempty"`  // any other address (outside the cluster)
}

type query struct {
	Name     string      `json:"name"`
	From     endpoint    `json:"from"`
	To       endpoint    `json:"to"`
	Port     int         `json:"port"`
	Protocol v1.Protocol `json:"protocol"`
}

type verdict struct {
	Name    string `json:"name"`
	Allowed bool   `json:"allowed"`
}

// libraryVersion: the kube-network-policies version linked in, which is this tool's version.
func libraryVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == libraryModule {
				return d.Version
			}
		}
	}
	return "unknown"
}

func main() {
	version := flag.Bool("version", false, "print the kube-network-policies version and exit")
	klog.InitFlags(nil) // -v=2 shows the library's own trace of every decision on stderr
	flag.Parse()
	if *version {
		fmt.Printf("netpol-eval %s (%s %s)\n", libraryVersion(), libraryModule, libraryVersion())
		return
	}
	if v := libraryVersion(); v != pinnedLibraryVersion {
		fmt.Fprintf(os.Stderr, "netpol-eval: linked %s %s, but evaluate.go mirrors %s\n", libraryModule, v, pinnedLibraryVersion)
		os.Exit(2)
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "netpol-eval:", err)
		os.Exit(1)
	}
}

func run() error {
	var in input
	dec := json.NewDecoder(os.Stdin)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return fmt.Errorf("reading the input: %w", err)
	}

	client := fake.NewClientset()
	factory := informers.NewSharedInformerFactory(client, 0)
	// Only NetworkPolicy: no (Baseline)AdminNetworkPolicies are given, so their tiers stay off, and
	// with them off the controller never reads its network-policy-api client and informers (nil here:
	// that module's generated fakes do not build against client-go 0.37).
	// NRI stays enabled as upstream's own tests have it: the plugin is created but never run (no
	// runtime socket is touched), and it is where the controller looks up an address that no pod has.
	controller, err := networkpolicy.NewController(
		client,
		factory.Networking().V1().NetworkPolicies(),
		factory.Core().V1().Namespaces(),
		factory.Core().V1().Pods(),
		factory.Core().V1().Nodes(),
		nil, nil, nil,
		networkpolicy.Config{NodeName: "netpol-eval"},
	)
	if err != nil {
		return fmt.Errorf("creating the kube-network-policies controller: %w", err)
	}

	for i := range in.Policies {
		p := &in.Policies[i]
		// The evaluator relies on two fields the API server defaults; a policy that leaves them to
		// the server is refused here rather than defaulted by a second implementation.
		if len(p.Spec.PolicyTypes) == 0 {
			return fmt.Errorf("policy %s/%s: spec.policyTypes is not set (the API server would default it)", p.Namespace, p.Name)
		}
		for _, r := range p.Spec.Ingress {
			if err := protocolsSet(p, r.Ports); err != nil {
				return err
			}
		}
		for _, r := range p.Spec.Egress {
			if err := protocolsSet(p, r.Ports); err != nil {
				return err
			}
		}
		if err := factory.Networking().V1().NetworkPolicies().Informer().GetStore().Add(p); err != nil {
			return err
		}
	}
	for _, n := range in.Namespaces {
		labels := map[string]string{}
		for k, v := range n.Labels {
			labels[k] = v
		}
		// The API server sets this label on every namespace (NamespaceDefaultLabelName).
		labels[v1.LabelMetadataName] = n.Name
		ns := &v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: n.Name, Labels: labels}}
		if err := factory.Core().V1().Namespaces().Informer().GetStore().Add(ns); err != nil {
			return err
		}
	}
	ips := map[string]string{} // namespace/name -> IP
	for _, p := range in.Pods {
		key := p.Namespace + "/" + p.Name
		if net.ParseIP(p.IP) == nil {
			return fmt.Errorf("pod %s: ip %q is not an IP address", key, p.IP)
		}
		pod := &v1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace, Labels: p.Labels},
			Spec:       v1.PodSpec{NodeName: "netpol-eval", Containers: p.Containers},
			Status:     v1.PodStatus{Phase: v1.PodRunning, PodIP: p.IP, PodIPs: []v1.PodIP{{IP: p.IP}}},
		}
		if err := factory.Core().V1().Pods().Informer().GetStore().Add(pod); err != nil {
			return err
		}
		ips[key] = p.IP
	}

	address := func(e endpoint, q, side string) (net.IP, error) {
		s := e.IP
		if e.Pod != "" {
			var ok bool
			if s, ok = ips[e.Pod]; !ok {
				return nil, fmt.Errorf("query %q: %s pod %q is not among the pods", q, side, e.Pod)
			}
		}
		ip := net.ParseIP(s)
		if ip == nil {
			return nil, fmt.Errorf("query %q: %s needs a pod or an ip", q, side)
		}
		return ip, nil
	}
	ctx := context.Background()
	out := struct {
		Verdicts []verdict `json:"verdicts"`
	}{Verdicts: []verdict{}}
	for _, q := range in.Queries {
		src, err := address(q.From, q.Name, "from")
		if err != nil {
			return err
		}
		dst, err := address(q.To, q.Name, "to")
		if err != nil {
			return err
		}
		proto := v1.Protocol(strings.ToUpper(string(q.Protocol)))
		if proto == "" {
			proto = v1.ProtocolTCP
		}
		if q.Port <= 0 || q.Port > 65535 {
			return fmt.Errorf("query %q: port %d", q.Name, q.Port)
		}
		// Source port: any ephemeral port; NetworkPolicy never matches on it.
		ok := allowed(ctx, controller, src, 43210, dst, q.Port, proto)
		out.Verdicts = append(out.Verdicts, verdict{Name: q.Name, Allowed: ok})
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func protocolsSet(p *networkingv1.NetworkPolicy, ports []networkingv1.NetworkPolicyPort) error {
	for _, port := range ports {
		if port.Protocol == nil {
			return fmt.Errorf("policy %s/%s: a port without protocol (the API server would default it to TCP)", p.Namespace, p.Name)
		}
	}
	return nil
}
