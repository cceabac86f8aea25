package fabric

import (
	"errors"
	"testing"
)

func TestChangeValidation(t *testing.T) {
	deployment := []string{"ap-south", "eu-central", "eu-west", "us-east"}
	cur := Membership{Fabric: "eu", Version: 3, Regions: []string{"eu-central", "eu-west"}, Home: "eu-west"}
	for _, tc := range []struct {
		name    string
		regions []string
		spot    []string
		want    error
		next    []string
	}{
		{"add", []string{"eu-west", "eu-central", "us-east"}, nil, nil, []string{"eu-central", "eu-west", "us-east"}},
		{"remove", []string{"eu-west"}, nil, nil, []string{"eu-west"}},
		{"duplicates collapse", []string{"eu-west", "eu-west", "ap-south"}, nil, nil, []string{"ap-south", "eu-west"}},
		{"empty", nil, nil, ErrEmptyList, nil},
		{"empty name", []string{""}, nil, ErrEmptyList, nil},
		{"unknown", []string{"eu-west", "mars-1"}, nil, ErrUnknownRegion, nil},
		{"disjoint", []string{"us-east", "ap-south"}, nil, ErrHomeRemoved, nil},
		{"home removed", []string{"eu-central"}, nil, ErrHomeRemoved, nil},
		{"unchanged", []string{"eu-west", "eu-central"}, nil, ErrUnchanged, nil},
		{"spot home removed", []string{"eu-west"}, []string{"eu-central"}, ErrSpotHome, nil},
		{"spot home kept", []string{"eu-central", "eu-west"}, []string{"eu-central"}, ErrUnchanged, nil},
		{"spot home kept, one added", []string{"eu-central", "eu-west", "us-east"}, []string{"eu-central"}, nil, []string{"eu-central", "eu-west", "us-east"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			next, err := Change(cur, tc.regions, deployment, tc.spot)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			if err != nil {
				return
			}
			if next.Version != 4 || DomainKey(next.Regions) != DomainKey(tc.next) {
				t.Fatalf("next %+v, want version 4 regions %v", next, tc.next)
			}
		})
	}
	if _, err := Change(Membership{Fabric: SystemFabric, Version: 1, Regions: deployment}, deployment[:1], deployment, nil); !errors.Is(err, ErrSystemFabric) {
		t.Fatalf("changing _system: %v", err)
	}
	if _, err := Create("eu", "", nil, deployment); !errors.Is(err, ErrEmptyList) {
		t.Fatalf("create empty: %v", err)
	}
	if _, err := Create("eu", "us-east", []string{"eu-west"}, deployment); !errors.Is(err, ErrUnknownRegion) {
		t.Fatalf("create with a home outside the list: %v", err)
	}
	if m, err := Create("eu", "", []string{"eu-west", "eu-central"}, deployment); err != nil || m.Home != "eu-west" || m.Regions[0] != "eu-central" {
		t.Fatalf("create: %+v %v", m, err)
	}
}

func TestDomainKey(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want string
	}{
		{[]string{"b", "a"}, "a,b"},
		{[]string{"a", "b", "a"}, "a,b"},
		{[]string{"x"}, "x"},
	} {
		if got := DomainKey(tc.in); got != tc.want {
			t.Errorf("DomainKey(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
