// Command kindnetd is the lab's minimal stand-in for kind's kindnetd.
//
// It does what a two-node kind cluster needs from it and nothing more:
//   - writes the CNI config for this node (ptp + host-local on the node's PodCIDR,
//     plus portmap), so the container runtime can wire pods;
//   - keeps a route to every other node's PodCIDR via that node's InternalIP, so pod
//     traffic crosses nodes.
//
// It does not masquerade traffic leaving the cluster (the lab has no outside network)
// and does not implement NetworkPolicy.
package main

import (
	"encoding/json"
	"fmt"
	"log"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/vishvananda/netlink"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
)

const cniConfigPath = "/etc/cni/net.d/10-kindnet.conflist"

func main() {
	hostIP := os.Getenv("HOST_IP")
	if hostIP == "" {
		log.Fatal("HOST_IP is not set (the DaemonSet passes status.hostIP)")
	}
	config, err := rest.InClusterConfig()
	if err != nil {
		log.Fatalf("in-cluster config: %v", err)
	}
	// kind passes the API server's node-network address so that the CNI does not depend
	// on kube-proxy's Service rules being in place.
	if endpoint := os.Getenv("CONTROL_PLANE_ENDPOINT"); endpoint != "" {
		config.Host = "https://" + endpoint
	}
	client := kubernetes.NewForConfigOrDie(config)

	factory := informers.NewSharedInformerFactory(client, 5*time.Minute)
	nodes := factory.Core().V1().Nodes()
	changed := make(chan struct{}, 1)
	notify := func() {
		select {
		case changed <- struct{}{}:
		default:
		}
	}
	_, err = nodes.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { notify() },
		UpdateFunc: func(any, any) { notify() },
		DeleteFunc: func(any) { notify() },
	})
	if err != nil {
		log.Fatalf("node informer: %v", err)
	}
	stop := make(chan struct{})
	factory.Start(stop)
	factory.WaitForCacheSync(stop)
	log.Printf("lab-kindnetd started on %s", hostIP)

	// Reconcile on every node change, and at least once a minute in case a route was removed.
	ticker := time.NewTicker(time.Minute)
	for {
		list, err := nodes.Lister().List(labels.Everything())
		if err != nil {
			log.Printf("listing nodes: %v", err)
		} else if err := reconcile(list, hostIP); err != nil {
			log.Printf("reconcile: %v", err)
		}
		select {
		case <-changed:
		case <-ticker.C:
		}
	}
}

func internalIP(node *corev1.Node) string {
	for _, a := range node.Status.Addresses {
		if a.Type == corev1.NodeInternalIP && net.ParseIP(a.Address).To4() != nil {
			return a.Address
		}
	}
	return ""
}

func reconcile(nodes []*corev1.Node, hostIP string) error {
	for _, node := range nodes {
		ip := internalIP(node)
		if node.Spec.PodCIDR == "" || ip == "" {
			continue
		}
		if ip == hostIP {
			if err := writeCNIConfig(node.Spec.PodCIDR); err != nil {
				return err
			}
			continue
		}
		if err := ensureRoute(node.Spec.PodCIDR, ip); err != nil {
			return fmt.Errorf("route to %s via %s (%s): %w", node.Spec.PodCIDR, ip, node.Name, err)
		}
	}
	return nil
}

func ensureRoute(podCIDR, gateway string) error {
	_, dst, err := net.ParseCIDR(podCIDR)
	if err != nil {
		return err
	}
	route := netlink.Route{Dst: dst, Gw: net.ParseIP(gateway)}
	return netlink.RouteReplace(&route)
}

func writeCNIConfig(podCIDR string) error {
	config := map[string]any{
		"cniVersion": "0.3.1",
		"name":       "kindnet",
		"plugins": []any{
			map[string]any{
				"type":   "ptp",
				"ipMasq": false,
				"mtu":    1500,
				"ipam": map[string]any{
					"type":    "host-local",
					"dataDir": "/run/cni-ipam-state",
					"routes":  []any{map[string]any{"dst": "0.0.0.0/0"}},
					"ranges":  []any{[]any{map[string]any{"subnet": podCIDR}}},
				},
			},
			map[string]any{"type": "portmap", "capabilities": map[string]any{"portMappings": true}},
		},
	}
	data, err := json.MarshalIndent(config, "", "  ")
	if err != nil {
		return err
	}
	if current, err := os.ReadFile(cniConfigPath); err == nil && string(current) == string(data) {
		return nil
	}
	// Write-then-rename: the runtime must never read a half-written config.
	tmp := filepath.Join(filepath.Dir(cniConfigPath), ".10-kindnet.conflist.tmp")
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	log.Printf("writing CNI config for %s", podCIDR)
	return os.Rename(tmp, cniConfigPath)
}
