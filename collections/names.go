package collections

import "fmt"

// MaxKeyBytes bounds a document key (ArangoDB's limit).
const MaxKeyBytes = maxKeyBytes

// ValidateKey checks a document key against ArangoDB's rules: 1 to
// MaxKeyBytes bytes of ASCII letters, digits and _-:.@()+,=;$!*'%. The error
// wraps ErrInvalidName.
func ValidateKey(key string) error {
	if err := validateKey(key); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidName, err)
	}
	return nil
}

// ValidateCollectionName checks a collection name: a letter or underscore,
// then letters, digits, underscores and dashes. The error wraps
// ErrInvalidName.
func ValidateCollectionName(name string) error {
	if err := validateCollection(name); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidName, err)
	}
	return nil
}

// ValidateAttributeName checks one attribute name (at most 256 bytes of
// UTF-8). The error wraps ErrInvalidName.
func ValidateAttributeName(name string) error {
	if err := validateName(name); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidName, err)
	}
	return nil
}
