package geo

import (
	"errors"
	"testing"
)

func TestParseFabric(t *testing.T) {
	for _, c := range []struct {
		name, in string
		want     Fabric
	}{
		{"list", `{"regions":[{"name":"us-east","http":"127.0.0.1:8081","kafka":"127.0.0.1:9091","repl":"127.0.0.1:7071"},
			{"name":"eu-west","http":"http://127.0.0.1:8082/"}],"wan":{"latency":"40ms", "loss": 0.01},"admin":"http://x","adminKey":"k1"}`,
			Fabric{Regions: []Region{{"us-east", "http://127.0.0.1:8081", "127.0.0.1:9091"}, {"eu-west", "http://127.0.0.1:8082", ""}},
				WAN: `{"latency":"40ms","loss":0.01}`, Token: "k1"}},
		{"object by name", `{"regions":{"b":{"httpAddr":"ws://h:2"},"a":{"url":"https://h:1"}}}`,
			Fabric{Regions: []Region{{"a", "https://h:1", ""}, {"b", "http://h:2", ""}}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseFabric([]byte(c.in))
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Regions) != len(c.want.Regions) || got.WAN != c.want.WAN || got.Token != c.want.Token {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
			for i := range got.Regions {
				if got.Regions[i] != c.want.Regions[i] {
					t.Errorf("region %d: %+v, want %+v", i, got.Regions[i], c.want.Regions[i])
				}
			}
		})
	}
}

func TestParseFabricRejects(t *testing.T) {
	for name, in := range map[string]string{
		"not json":        `regions`,
		"no regions":      `{"nodes":[]}`,
		"one region":      `{"regions":[{"name":"a","http":"h:1"}]}`,
		"bad name":        `{"regions":[{"name":"a b","http":"h:1"},{"name":"c","http":"h:2"}]}`,
		"duplicate":       `{"regions":[{"name":"a","http":"h:1"},{"name":"a","http":"h:2"}]}`,
		"no address":      `{"regions":[{"name":"a"},{"name":"c","http":"h:2"}]}`,
		"bad address":     `{"regions":[{"name":"a","http":"nohost"},{"name":"c","http":"h:2"}]}`,
		"bad scheme":      `{"regions":[{"name":"a","http":"ftp://h:1"},{"name":"c","http":"h:2"}]}`,
		"number name":     `{"regions":[{"name":5,"http":"h:1"},{"name":"c","http":"h:2"}]}`,
		"regions is text": `{"regions":"a,b"}`,
		"numeric key":     `{"regions":[{"name":"a","http":"h:1"},{"name":"c","http":"h:2"}],"adminKey":5}`,
	} {
		if _, err := ParseFabric([]byte(in)); !errors.Is(err, ErrInvalidFabric) {
			t.Errorf("%s: %v, want ErrInvalidFabric", name, err)
		}
	}
}

func TestParseRegions(t *testing.T) {
	f, err := ParseRegions("us-east=127.0.0.1:8081, eu-west=http://127.0.0.1:8082")
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Names(); len(got) != 2 || got[0] != "us-east" || f.Regions[1].HTTP != "http://127.0.0.1:8082" {
		t.Errorf("got %+v", f)
	}
	for _, in := range []string{"", "a", "a=h:1", "a=h:1,b"} {
		if _, err := ParseRegions(in); !errors.Is(err, ErrInvalidFabric) {
			t.Errorf("ParseRegions(%q) = %v", in, err)
		}
	}
}

// FuzzParseFabric: any input is parsed or refused without panicking; a
// parsed fabric is valid.
func FuzzParseFabric(f *testing.F) {
	f.Add([]byte(`{"regions":[{"name":"us-east","http":"127.0.0.1:8081"},{"name":"eu-west","http":"127.0.0.1:8082"}],"wan":{"latency":"40ms"}}`))
	f.Add([]byte(`{"regions":{"a":{"url":"http://h:1"},"b":{"url":"http://h:2"}}}`))
	f.Add([]byte(`{"regions":{"a":null,"b":null}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		fab, err := ParseFabric(b)
		if err != nil {
			return
		}
		if err := fab.Validate(); err != nil {
			t.Fatalf("parsed an invalid fabric: %v", err)
		}
	})
}
