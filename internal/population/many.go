package population

import "context"

// MaxMany bounds the persons of one PersonDocs call.
const MaxMany = 1000

// Many is a Store that reads many persons by number in one query: a batch consultation
// reads a chunk of its persons at a time (civil.Source.SearchPersons). A Store without
// it is read one person at a time.
type Many interface {
	// PersonDocs calls fn with the document of each person of numbers (at most MaxMany,
	// each a valid person number) the register holds, in any order: the person as JSON,
	// as json.Marshal writes a Person (DecodePerson reads it), valid only during the
	// call. Unknown numbers are left out; an error of fn stops it.
	PersonDocs(ctx context.Context, numbers []string, fn func(doc []byte) error) error
}
