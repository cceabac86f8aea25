package streamworkers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/causeway/causeway/collections/service"
)

// SystemCollection is the collection of a fabric that holds its stream
// worker definitions, one document per worker (_key: its name). It
// replicates to every region of the fabric like any collection.
const SystemCollection = "_streamapps"

// maxDefinitions bounds the workers of one fabric.
const maxDefinitions = 1000

// definitions reads and writes the definitions of fabrics through the
// node's collections service.
type definitions struct {
	cols *service.Service
}

func defsRef(tenant, fabric string) service.Ref {
	return service.Ref{Tenant: tenant, Fabric: fabric, Collection: SystemCollection}
}

// ensure creates the fabric's _streamapps collection when it is missing.
func (d definitions) ensure(tenant, fabric string) error {
	return d.ensureCollection(tenant, fabric, SystemCollection)
}

// ensureCollection creates a collection of the fabric when it is missing.
func (d definitions) ensureCollection(tenant, fabric, name string) error {
	ref := service.Ref{Tenant: tenant, Fabric: fabric, Collection: name}
	if _, err := d.cols.Collection(ref); err == nil {
		return nil
	}
	_, err := d.cols.CreateCollection(tenant, fabric, service.CollectionSpec{Name: name})
	if err != nil && !errors.Is(err, service.ErrCollectionExists) {
		return fmt.Errorf("streamworkers: creating %s in %s/%s: %w", name, tenant, fabric, mapColErr(err))
	}
	return nil
}

// list returns the fabric's definitions in name order (none when the
// fabric has no _streamapps collection).
func (d definitions) list(tenant, fabric string) ([]Definition, error) {
	var out []Definition
	err := d.cols.Each(defsRef(tenant, fabric), func(doc []byte) error {
		def, err := decodeDefinition(doc)
		if err != nil {
			return nil // written there by hand: not a worker (get names it)
		}
		if len(out) >= maxDefinitions {
			return fmt.Errorf("%w: more than %d stream workers in %s/%s", ErrUnavailable, maxDefinitions, tenant, fabric)
		}
		out = append(out, def)
		return nil
	})
	if errors.Is(err, service.ErrCollectionNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("streamworkers: listing %s/%s: %w", tenant, fabric, mapColErr(err))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// get returns one definition and its document revision.
func (d definitions) get(tenant, fabric, name string) (Definition, string, error) {
	doc, rev, err := d.cols.Document(defsRef(tenant, fabric), name)
	if errors.Is(err, service.ErrCollectionNotFound) || errors.Is(err, service.ErrDocumentNotFound) {
		return Definition{}, "", fmt.Errorf("%w: %s in %s/%s", ErrNotFound, name, tenant, fabric)
	}
	if err != nil {
		return Definition{}, "", fmt.Errorf("streamworkers: reading %s: %w", name, mapColErr(err))
	}
	def, err := decodeDefinition(doc)
	return def, rev, err
}

// create stores a new definition; ErrExists when the name is taken.
func (d definitions) create(tenant, fabric string, def Definition) error {
	if err := d.ensure(tenant, fabric); err != nil {
		return err
	}
	return d.write(tenant, fabric, service.Write{Kind: service.Insert, Key: def.Name, Overwrite: service.OverwriteConflict}, def)
}

// replace stores def over the revision ifRev; ErrConflict when the
// document changed since.
func (d definitions) replace(tenant, fabric string, def Definition, ifRev string) error {
	return d.write(tenant, fabric, service.Write{Kind: service.Replace, Key: def.Name, IfRev: ifRev}, def)
}

// remove deletes a definition.
func (d definitions) remove(tenant, fabric, name string) error {
	return d.write(tenant, fabric, service.Write{Kind: service.Delete, Key: name}, Definition{Name: name})
}

func (d definitions) write(tenant, fabric string, w service.Write, def Definition) error {
	if w.Kind != service.Delete {
		doc, err := toDoc(def)
		if err != nil {
			return err
		}
		w.Doc = doc
	}
	res, err := d.cols.Write(defsRef(tenant, fabric), []service.Write{w})
	if err == nil && len(res) == 1 {
		err = res[0].Err
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, service.ErrKeyExists):
		return fmt.Errorf("%w: %s", ErrExists, def.Name)
	case errors.Is(err, service.ErrPrecondition):
		return fmt.Errorf("%w: %s", ErrConflict, def.Name)
	case errors.Is(err, service.ErrDocumentNotFound), errors.Is(err, service.ErrCollectionNotFound):
		return fmt.Errorf("%w: %s in %s/%s", ErrNotFound, def.Name, tenant, fabric)
	}
	return fmt.Errorf("streamworkers: writing %s: %w", def.Name, mapColErr(err))
}

// mapColErr keeps the collections error and adds ours where one applies.
func mapColErr(err error) error {
	switch {
	case errors.Is(err, service.ErrFabricNotFound):
		return fmt.Errorf("%w: %w", ErrFabricMissing, err)
	case errors.Is(err, service.ErrUnavailable):
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	case errors.Is(err, service.ErrBadRequest):
		return fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	return err
}

// toDoc turns a definition into the attributes of its document (JSON
// numbers as json.Number, as the collections service takes them).
func toDoc(def Definition) (map[string]any, error) {
	b, err := json.Marshal(def)
	if err != nil {
		return nil, fmt.Errorf("streamworkers: encoding %s: %w", def.Name, err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("streamworkers: encoding %s: %w", def.Name, err)
	}
	return m, nil
}

// decodeDefinition reads a _streamapps document. A document that is not a
// definition (written there by hand) is an error naming it.
func decodeDefinition(doc []byte) (Definition, error) {
	var def struct {
		Definition
		Key string `json:"_key"`
	}
	if err := json.Unmarshal(doc, &def); err != nil {
		return Definition{}, fmt.Errorf("streamworkers: a %s document is not a definition: %w", SystemCollection, err)
	}
	if def.Name == "" {
		def.Name = def.Key
	}
	if def.Name != def.Key || ValidateName(def.Name) != nil {
		return Definition{}, fmt.Errorf("streamworkers: %s document %q: its name %q is not a valid worker name matching its key", SystemCollection, def.Key, def.Name)
	}
	return def.Definition, nil
}
