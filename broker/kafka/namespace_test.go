package kafka_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap/zaptest"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/kafka"
	"github.com/causeway/causeway/broker/naming"
)

// registryListing is what a refused request must leave unchanged.
func registryListing(n *broker.Node) string {
	var out []string
	for _, tn := range n.Tenants() {
		out = append(out, "tenant "+tn)
		for _, f := range n.Fabrics(tn) {
			out = append(out, "fabric "+tn+"/"+f.Name)
		}
	}
	for _, s := range n.Streams("", "") {
		out = append(out, "stream "+s.Name().String())
	}
	slices.Sort(out)
	return strings.Join(out, "\n")
}

// TestKafkaUnknownTenantOrFabric: a Kafka listener whose tenant or fabric
// does not exist (a typo in its configuration) auto-creates nothing and
// creates no topic: franz-go's produce (metadata with auto-creation) and
// CreateTopics get UNKNOWN_TOPIC_OR_PARTITION. Once the fabric is created
// the same listener auto-creates topics.
func TestKafkaUnknownTenantOrFabric(t *testing.T) {
	srv := startNode(t, nil)
	ctx := testCtx(t)
	for _, tc := range []struct{ tenant, fabric string }{{"mm", naming.SystemFabric}, {naming.DefaultTenant, "_sytsem"}} {
		t.Run(tc.tenant+"/"+tc.fabric, func(t *testing.T) {
			k, err := kafka.New(srv.Node, kafka.Config{Tenant: tc.tenant, Fabric: tc.fabric}, zaptest.NewLogger(t))
			if err != nil {
				t.Fatal(err)
			}
			if err := k.Listen("127.0.0.1:0"); err != nil {
				t.Fatal(err)
			}
			defer func() { _ = k.Shutdown(context.Background()) }()
			before := registryListing(srv.Node)

			cl, err := kgo.NewClient(kgo.SeedBrokers(k.Addr()), kgo.AllowAutoTopicCreation(), kgo.UnknownTopicRetries(2))
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			err = cl.ProduceSync(ctx, &kgo.Record{Topic: "orders", Value: []byte("x")}).FirstErr()
			if !errors.Is(err, kerr.UnknownTopicOrPartition) {
				t.Fatalf("produce with auto-creation: %v, want UNKNOWN_TOPIC_OR_PARTITION", err)
			}
			res, err := kadm.NewClient(cl).CreateTopic(ctx, 1, 1, nil, "made")
			if err == nil {
				err = res.Err
			}
			if !errors.Is(err, kerr.UnknownTopicOrPartition) {
				t.Fatalf("CreateTopics: %v, want UNKNOWN_TOPIC_OR_PARTITION", err)
			}
			if after := registryListing(srv.Node); after != before {
				t.Fatalf("refused requests changed the node:\nbefore:\n%s\nafter:\n%s", before, after)
			}

			// Created explicitly, the listener's fabric takes topics by use.
			if err := srv.Node.EnsureTenant(tc.tenant); err != nil {
				t.Fatal(err)
			}
			if _, err := srv.Node.EnsureFabric(tc.tenant, tc.fabric); err != nil {
				t.Fatal(err)
			}
			if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "orders", Value: []byte("x")}).FirstErr(); err != nil {
				t.Fatalf("produce once the fabric exists: %v", err)
			}
			if _, err := srv.Node.Stream(naming.Stream{Persistent: true, Tenant: tc.tenant, Fabric: tc.fabric, Name: "orders"}); err != nil {
				t.Fatal(fmt.Errorf("auto-created topic: %w", err))
			}
		})
	}
}
