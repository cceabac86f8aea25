// Package tlsutil owns the TLS settings of a node's listeners: the
// certificate and key paths of the configuration, optional client
// certificates (mutual TLS), and a development mode that generates a
// self-signed certificate into the data directory at the first start.
// GenerateSelfSigned is pure (time and randomness are arguments); the
// file handling around it is small.
package tlsutil
