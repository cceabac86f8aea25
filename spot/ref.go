package spot

import (
	"fmt"

	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/collections"
)

// Ref names a collection: tenant, fabric and collection name.
type Ref struct {
	Tenant     string `json:"tenant"`
	Fabric     string `json:"fabric"`
	Collection string `json:"collection"`
}

// String renders the ref as tenant/fabric/collection.
func (r Ref) String() string { return r.Tenant + "/" + r.Fabric + "/" + r.Collection }

// Validate checks the three names.
func (r Ref) Validate() error {
	if err := validateFabric(r.Tenant, r.Fabric); err != nil {
		return err
	}
	if err := collections.ValidateCollectionName(r.Collection); err != nil {
		return fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	return nil
}

func validateFabric(tenant, fabric string) error {
	if err := naming.Validate("tenant", tenant); err != nil {
		return fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	if err := naming.Validate("fabric", fabric); err != nil {
		return fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	return nil
}

func validateName(kind, name string) error {
	if err := naming.Validate(kind, name); err != nil {
		return fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	return nil
}
