// Package tlsutil owns the TLS settings of a node's listeners: the
// certificate and key paths of the configuration, optional client
// certificates (mutual TLS), a development mode that generates a
// self-signed certificate into the data directory at the first start, and
// the development fabric of `causeway dev`: one CA and a certificate per
// region signed by it, for mutual TLS between regions (fabric.go).
// GenerateSelfSigned, GenerateCA and IssueCert are pure (time and
// randomness are arguments); the file handling around them is small.
package tlsutil
