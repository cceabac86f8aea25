package httpapi

// arangoRoutes are the routes ArangoDB's drivers use beyond the
// collections API proper: the bulk import (import.go) and the collection
// statistics (arangocollection.go). p is the fabric prefix of New.
func (h *Handler) arangoRoutes(p string) []route {
	return []route{
		{"POST " + p + "import", paramsImport, h.importDocuments},
		{"GET " + p + "collection/{name}/figures", paramsFigures, h.collectionFigures},
		{"GET " + p + "collection/{name}/checksum", paramsChecksum, h.collectionChecksum},
	}
}

// arangoLocators say where those routes are served in a region of several
// nodes: on the node serving the collection.
func arangoLocators(p string) map[string]locator {
	return map[string]locator{
		"POST " + p + "import":                    byCollectionParam,
		"GET " + p + "collection/{name}/figures":  byPath("name"),
		"GET " + p + "collection/{name}/checksum": byPath("name"),
	}
}
