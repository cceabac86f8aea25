package kafka_test

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/causeway/causeway/internal/testkey"

	"github.com/IBM/sarama"
	kafkago "github.com/segmentio/kafka-go"
	kgosasl "github.com/segmentio/kafka-go/sasl"
	kgoplain "github.com/segmentio/kafka-go/sasl/plain"
	kgoscram "github.com/segmentio/kafka-go/sasl/scram"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
	xscram "github.com/xdg-go/scram"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/auth"
	"github.com/causeway/causeway/broker/tlsutil"
	"github.com/causeway/causeway/server"
)

// secureNode starts a node with authentication on (and mutate's changes);
// it returns the node and its superuser key.
func secureNode(t *testing.T, mutate func(*broker.Config)) (*server.Server, string) {
	t.Helper()
	srv := startNode(t, func(c *broker.Config) {
		on := true
		c.Auth.Enabled = &on
		if mutate != nil {
			mutate(c)
		}
	})
	return srv, srv.Auth.BootstrapKey()
}

// httpDo calls the node's HTTP API as cred.
func httpDo(t *testing.T, srv *server.Server, client *http.Client, method, path, cred string, body any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, err := http.NewRequest(method, srv.URL()+path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+cred)
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

// newKey creates a key of tenant with perms and returns it and its id.
func newKey(t *testing.T, srv *server.Server, client *http.Client, cred, tenant string, perms ...string) (key, id string) {
	t.Helper()
	code, out := httpDo(t, srv, client, "POST", "/_tenant/"+tenant+auth.KeysPath, cred, auth.KeyRequest{Permissions: perms})
	if code != http.StatusCreated {
		t.Fatalf("create key: %d %v", code, out)
	}
	r := out["result"].(map[string]any)
	return r["key"].(string), r["id"].(string)
}

// roundTrip produces n records to topic and consumes them back with the
// client options given, through a consumer group.
func franzRoundTrip(t *testing.T, addr, topic string, n int, opts ...kgo.Opt) {
	t.Helper()
	ctx := testCtx(t)
	prod, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr), kgo.AllowAutoTopicCreation()}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	for i := 0; i < n; i++ {
		if err := prod.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte(fmt.Sprint("v", i))}).FirstErr(); err != nil {
			t.Fatalf("produce: %v", err)
		}
	}
	cons, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr), kgo.ConsumerGroup(topic + "-group"), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	got := 0
	for got < n {
		fs := cons.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatalf("consumed %d of %d: %v", got, n, err)
		}
		got += fs.NumRecords()
	}
}

// TestSASLClients: franz-go, kafka-go, sarama and kcat log in with PLAIN
// (an API key or a token as password) and SCRAM-SHA-256 (the key id and
// the key), then produce and consume.
func TestSASLClients(t *testing.T) {
	srv, root := secureNode(t, nil)
	key, id := newKey(t, srv, nil, root, "_mm", "write:fabric/_system")
	_, out := httpDo(t, srv, nil, "POST", auth.TokenPath, key, auth.TokenRequest{ExpiresIn: "10m"})
	token := out["result"].(map[string]any)["token"].(string)
	addr := srv.KafkaAddr()

	t.Run("franz-go", func(t *testing.T) {
		for name, mech := range map[string]sasl.Mechanism{
			"plain-key":   plain.Auth{User: id, Pass: key}.AsMechanism(),
			"plain-token": plain.Auth{User: "app", Pass: token}.AsMechanism(),
			"scram":       scram.Auth{User: id, Pass: key}.AsSha256Mechanism(),
		} {
			franzRoundTrip(t, addr, "franz-"+name, 20, kgo.SASL(mech))
		}
	})

	t.Run("kafka-go", func(t *testing.T) {
		sm, err := kgoscram.Mechanism(kgoscram.SHA256, id, key)
		if err != nil {
			t.Fatal(err)
		}
		for name, mech := range map[string]kgosasl.Mechanism{"plain": kgoplain.Mechanism{Username: id, Password: key}, "scram": sm} {
			ctx := testCtx(t)
			topic := "kafkago-" + name
			w := &kafkago.Writer{Addr: kafkago.TCP(addr), Topic: topic, RequiredAcks: kafkago.RequireAll, AllowAutoTopicCreation: true,
				Transport: &kafkago.Transport{SASL: mech}}
			if err := w.WriteMessages(ctx, kafkago.Message{Value: []byte("a")}, kafkago.Message{Value: []byte("b")}); err != nil {
				t.Fatalf("%s write: %v", name, err)
			}
			_ = w.Close()
			r := kafkago.NewReader(kafkago.ReaderConfig{Brokers: []string{addr}, Topic: topic, MaxWait: 100e6,
				Dialer: &kafkago.Dialer{Timeout: testTimeout, SASLMechanism: mech}})
			for i := 0; i < 2; i++ {
				if _, err := r.ReadMessage(ctx); err != nil {
					t.Fatalf("%s read: %v", name, err)
				}
			}
			_ = r.Close()
		}
	})

	t.Run("sarama", func(t *testing.T) {
		for _, mech := range []sarama.SASLMechanism{sarama.SASLTypePlaintext, sarama.SASLTypeSCRAMSHA256} {
			cfg := sarama.NewConfig()
			cfg.Version = sarama.V2_8_0_0
			cfg.Producer.RequiredAcks = sarama.WaitForAll
			cfg.Producer.Return.Successes = true
			cfg.Net.SASL.Enable = true
			cfg.Net.SASL.Mechanism = mech
			cfg.Net.SASL.User, cfg.Net.SASL.Password = id, key
			cfg.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return &saramaSCRAM{} }
			prod, err := sarama.NewSyncProducer([]string{addr}, cfg)
			if err != nil {
				t.Fatalf("%s: %v", mech, err)
			}
			if _, _, err := prod.SendMessage(&sarama.ProducerMessage{Topic: "sarama-sasl", Value: sarama.StringEncoder("x")}); err != nil {
				t.Fatalf("%s send: %v", mech, err)
			}
			_ = prod.Close()
		}
	})

	t.Run("kcat", func(t *testing.T) {
		kcatPath(t)
		ctx := testCtx(t)
		for _, mech := range []string{"PLAIN", "SCRAM-SHA-256"} {
			topic := "kcat-sasl-" + strings.ToLower(mech)
			login := []string{"-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanisms=" + mech,
				"-X", "sasl.username=" + id, "-X", "sasl.password=" + key}
			runKcat(t, ctx, "one\ntwo\n", append([]string{"-P", "-b", addr, "-t", topic}, login...)...)
			got := runKcat(t, ctx, "", append([]string{"-C", "-b", addr, "-t", topic, "-o", "beginning", "-e", "-q"}, login...)...)
			if strings.Fields(got)[0] != "one" || len(strings.Fields(got)) != 2 {
				t.Fatalf("%s: consumed %q", mech, got)
			}
		}
	})
}

// saramaSCRAM is sarama's SCRAM client over xdg-go/scram.
type saramaSCRAM struct {
	conv *xscram.ClientConversation
}

func (s *saramaSCRAM) Begin(user, pass, authz string) error {
	c, err := xscram.SHA256.NewClient(user, pass, authz)
	if err != nil {
		return err
	}
	s.conv = c.NewConversation()
	return nil
}

func (s *saramaSCRAM) Step(challenge string) (string, error) { return s.conv.Step(challenge) }
func (s *saramaSCRAM) Done() bool                            { return s.conv.Done() }

// login runs SaslHandshake and one SaslAuthenticate with msg on a raw
// connection and returns the authenticate answer.
func login(t *testing.T, c *rawConn, mechanism string, msg []byte) *kmsg.SASLAuthenticateResponse {
	t.Helper()
	hs := kmsg.NewPtrSASLHandshakeRequest()
	hs.Version, hs.Mechanism = 1, mechanism
	if r := c.roundTrip(hs).(*kmsg.SASLHandshakeResponse); r.ErrorCode != 0 {
		t.Fatalf("handshake %s: %v", mechanism, kerr.ErrorForCode(r.ErrorCode))
	}
	a := kmsg.NewPtrSASLAuthenticateRequest()
	a.Version, a.SASLAuthBytes = 1, msg
	return c.roundTrip(a).(*kmsg.SASLAuthenticateResponse)
}

func plainMsg(user, pass string) []byte { return []byte("\x00" + user + "\x00" + pass) }

// TestSASLRefusals: requests before a login close the connection; wrong,
// revoked, expired and foreign-tenant credentials fail with
// SASL_AUTHENTICATION_FAILED (saying nothing more) and close it.
func TestSASLRefusals(t *testing.T) {
	srv, root := secureNode(t, nil)
	key, id := newKey(t, srv, nil, root, "_mm", "read:*")
	revoked, revokedID := newKey(t, srv, nil, root, "_mm", "read:*")
	if code, _ := httpDo(t, srv, nil, "DELETE", auth.KeysPath+"/"+revokedID, root, nil); code != http.StatusOK {
		t.Fatalf("revoke: %d", code)
	}
	_, code := httpDoCode(t, srv, "POST", "/_api/tenant/acme", root)
	if code != http.StatusCreated {
		t.Fatalf("tenant: %d", code)
	}
	foreign, _ := newKey(t, srv, nil, root, "acme", "admin:*")
	code2, out := httpDo(t, srv, nil, "POST", auth.KeysPath, root, auth.KeyRequest{Permissions: []string{"read:*"}, ExpiresIn: "1ms"})
	if code2 != http.StatusCreated {
		t.Fatal(code2)
	}
	expired := out["result"].(map[string]any)["key"].(string)
	time.Sleep(2 * time.Millisecond) // let the 1 ms key expire (a clock, not a synchronisation)

	// A request before any login closes the connection; ApiVersions is
	// answered.
	c := dialRaw(t, srv.KafkaAddr())
	av := kmsg.NewPtrApiVersionsRequest()
	if r := c.roundTrip(av).(*kmsg.ApiVersionsResponse); r.ErrorCode != 0 {
		t.Fatalf("ApiVersions: %d", r.ErrorCode)
	}
	c.send(kmsg.NewPtrMetadataRequest())
	c.expectClosed()

	for name, msg := range map[string]func() (string, []byte){
		"wrong password":  func() (string, []byte) { return "PLAIN", plainMsg(id, testkey.Wrong(key)) },
		"revoked key":     func() (string, []byte) { return "PLAIN", plainMsg(revokedID, revoked) },
		"expired key":     func() (string, []byte) { return "PLAIN", plainMsg("x", expired) },
		"other tenant":    func() (string, []byte) { return "PLAIN", plainMsg("x", foreign) },
		"garbage":         func() (string, []byte) { return "PLAIN", []byte("no separators") },
		"scram bad first": func() (string, []byte) { return "SCRAM-SHA-256", []byte("n,,n=nobody,r=abc") },
	} {
		mech, m := msg()
		c := dialRaw(t, srv.KafkaAddr())
		r := login(t, c, mech, m)
		if r.ErrorCode != kerr.SaslAuthenticationFailed.Code || r.ErrorMessage == nil || strings.Contains(*r.ErrorMessage, "acme") {
			t.Errorf("%s: error %d %v", name, r.ErrorCode, r.ErrorMessage)
		}
		c.expectClosed()
	}

	// SCRAM with a wrong password fails at the proof.
	cl, err := xscram.SHA256.NewClient(id, testkey.Wrong(key), "")
	if err != nil {
		t.Fatal(err)
	}
	conv := cl.NewConversation()
	first, _ := conv.Step("")
	c = dialRaw(t, srv.KafkaAddr())
	r := login(t, c, "SCRAM-SHA-256", []byte(first))
	if r.ErrorCode != 0 {
		t.Fatalf("scram first step: %d", r.ErrorCode)
	}
	final, err := conv.Step(string(r.SASLAuthBytes))
	if err != nil {
		t.Fatal(err)
	}
	a := kmsg.NewPtrSASLAuthenticateRequest()
	a.Version, a.SASLAuthBytes = 1, []byte(final)
	if r := c.roundTrip(a).(*kmsg.SASLAuthenticateResponse); r.ErrorCode != kerr.SaslAuthenticationFailed.Code {
		t.Fatalf("scram with a wrong password: %d", r.ErrorCode)
	}
	c.expectClosed()

	// A mechanism we do not serve.
	c = dialRaw(t, srv.KafkaAddr())
	hs := kmsg.NewPtrSASLHandshakeRequest()
	hs.Version, hs.Mechanism = 1, "GSSAPI"
	if r := c.roundTrip(hs).(*kmsg.SASLHandshakeResponse); r.ErrorCode != kerr.UnsupportedSaslMechanism.Code ||
		strings.Join(r.SupportedMechanisms, ",") != "PLAIN,SCRAM-SHA-256" {
		t.Fatalf("GSSAPI: %d %v", r.ErrorCode, r.SupportedMechanisms)
	}
}

func httpDoCode(t *testing.T, srv *server.Server, method, path, cred string) (map[string]any, int) {
	code, out := httpDo(t, srv, nil, method, path, cred, nil)
	return out, code
}

// TestSASLTopicGrants: a key with read on one topic sees and reads only
// it; producing, creating and deleting need write and admin.
func TestSASLTopicGrants(t *testing.T) {
	srv, root := secureNode(t, nil)
	rootID, _ := auth.KeyID(root)
	admin := dialRaw(t, srv.KafkaAddr())
	if r := login(t, admin, "PLAIN", plainMsg(rootID, root)); r.ErrorCode != 0 {
		t.Fatalf("root login: %d", r.ErrorCode)
	}
	createTopic(t, admin, "open", 2)
	createTopic(t, admin, "secret", 1)
	key, id := newKey(t, srv, nil, root, "_mm", "read:stream/_system/open")
	c := dialRaw(t, srv.KafkaAddr())
	if r := login(t, c, "PLAIN", plainMsg(id, key)); r.ErrorCode != 0 {
		t.Fatalf("login: %d", r.ErrorCode)
	}
	// Metadata of every topic lists only the readable one.
	md := kmsg.NewPtrMetadataRequest()
	md.Version = 7
	r := c.roundTrip(md).(*kmsg.MetadataResponse)
	var names []string
	for _, tp := range r.Topics {
		names = append(names, *tp.Topic)
	}
	if strings.Join(names, ",") != "open" {
		t.Fatalf("metadata of all topics: %v", names)
	}
	// Asked by name, the other topic is refused.
	md.Topics = []kmsg.MetadataRequestTopic{{Topic: kmsg.StringPtr("secret")}, {Topic: kmsg.StringPtr("open")}}
	r = c.roundTrip(md).(*kmsg.MetadataResponse)
	codes := map[string]int16{}
	for _, tp := range r.Topics {
		codes[*tp.Topic] = tp.ErrorCode
	}
	if codes["secret"] != kerr.TopicAuthorizationFailed.Code || codes["open"] != 0 || len(codes) != 2 {
		t.Fatalf("metadata by name: %v", codes)
	}
	// Producing needs write.
	pr := produceReq(7, "open", recordBatch(-1, -1, 0, "x"))
	if resp := c.roundTrip(pr).(*kmsg.ProduceResponse); resp.Topics[0].Partitions[0].ErrorCode != kerr.TopicAuthorizationFailed.Code {
		t.Fatalf("produce without write: %d", resp.Topics[0].Partitions[0].ErrorCode)
	}
	// Fetching the other topic is refused; the readable one is served.
	f := kmsg.NewPtrFetchRequest()
	f.Version, f.MaxWaitMillis = 11, 1
	for _, topic := range []string{"secret", "open"} {
		ft := kmsg.NewFetchRequestTopic()
		ft.Topic = topic
		fp := kmsg.NewFetchRequestTopicPartition()
		fp.PartitionMaxBytes = 1 << 20
		ft.Partitions = []kmsg.FetchRequestTopicPartition{fp}
		f.Topics = []kmsg.FetchRequestTopic{ft}
		resp := c.roundTrip(f).(*kmsg.FetchResponse)
		want := int16(0)
		if topic == "secret" {
			want = kerr.TopicAuthorizationFailed.Code
		}
		if got := resp.Topics[0].Partitions[0].ErrorCode; got != want {
			t.Fatalf("fetch %s: %d, want %d", topic, got, want)
		}
	}
	// Creating and deleting need admin.
	ct := kmsg.NewPtrCreateTopicsRequest()
	ct.Version = 4
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = "mine", 1, 1
	ct.Topics = []kmsg.CreateTopicsRequestTopic{rt}
	if resp := c.roundTrip(ct).(*kmsg.CreateTopicsResponse); resp.Topics[0].ErrorCode != kerr.TopicAuthorizationFailed.Code {
		t.Fatalf("create without admin: %d", resp.Topics[0].ErrorCode)
	}
	dt := kmsg.NewPtrDeleteTopicsRequest()
	dt.Version, dt.TopicNames = 4, []string{"open"}
	if resp := c.roundTrip(dt).(*kmsg.DeleteTopicsResponse); resp.Topics[0].ErrorCode != kerr.TopicAuthorizationFailed.Code {
		t.Fatalf("delete without admin: %d", resp.Topics[0].ErrorCode)
	}
	// The superuser still sees both topics: nothing was deleted.
	md.Topics = nil
	r = admin.roundTrip(md).(*kmsg.MetadataResponse)
	if len(r.Topics) < 2 {
		t.Fatalf("topics after the refusals: %d", len(r.Topics))
	}
}

// TestKafkaTLS: with --tls-dev the Kafka listener speaks TLS; franz-go and
// kcat log in over it (SASL_SSL).
func TestKafkaTLS(t *testing.T) {
	var dataDir string
	srv, root := secureNode(t, func(c *broker.Config) { c.TLS.Dev = true; dataDir = c.DataDir })
	ca := filepath.Join(dataDir, tlsutil.DevDir, "cert.pem")
	tlsCfg, err := tlsutil.ClientConfig(ca)
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Timeout: testTimeout, Transport: &http.Transport{TLSClientConfig: tlsCfg}}
	key, id := newKey(t, srv, hc, root, "_mm", "write:*")
	host, port, _ := net.SplitHostPort(srv.KafkaAddr())
	addr := net.JoinHostPort("localhost", port)
	_ = host
	franzRoundTrip(t, addr, "tls", 10, kgo.SASL(scram.Auth{User: id, Pass: key}.AsSha256Mechanism()),
		kgo.DialTLSConfig(&tls.Config{RootCAs: tlsCfg.RootCAs, ServerName: "localhost"}))
	// Plain TCP to the TLS listener gets nowhere.
	nc, err := net.DialTimeout("tcp", srv.KafkaAddr(), testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	var f kmsg.RequestFormatter
	_, _ = nc.Write(f.AppendRequest(nil, kmsg.NewPtrApiVersionsRequest(), 1))
	_ = nc.SetReadDeadline(time.Now().Add(testTimeout))
	buf := make([]byte, 64)
	if n, _ := io.ReadFull(nc, buf[:8]); n == 8 && buf[0] == 0 {
		t.Fatal("a plain-text ApiVersions was answered on the TLS listener")
	}
	t.Run("kcat", func(t *testing.T) {
		kcatPath(t)
		ctx := testCtx(t)
		login := []string{"-X", "security.protocol=SASL_SSL", "-X", "ssl.ca.location=" + ca, "-X", "sasl.mechanisms=PLAIN",
			"-X", "sasl.username=" + id, "-X", "sasl.password=" + key}
		runKcat(t, ctx, "over-tls\n", append([]string{"-P", "-b", addr, "-t", "kcat-tls"}, login...)...)
		got := runKcat(t, ctx, "", append([]string{"-C", "-b", addr, "-t", "kcat-tls", "-o", "beginning", "-e", "-q"}, login...)...)
		if strings.TrimSpace(got) != "over-tls" {
			t.Fatalf("consumed %q", got)
		}
	})
}
