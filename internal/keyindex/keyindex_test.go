package keyindex

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestIndex(t *testing.T) {
	ix := In(filepath.Join(t.TempDir(), "awsrole"))
	if all, err := ix.All(); err != nil || len(all) != 0 {
		t.Fatalf("missing index: %v %v", all, err)
	}
	_, err := ix.Lookup("bob")
	var nf *NotFoundError
	if !errors.As(err, &nf) || !strings.Contains(err.Error(), "store them with: awsrole keys add bob") {
		t.Fatalf("empty lookup: %v", err)
	}
	if err := ix.Put("bob", Entry{AccessKeyID: "AKIABOB", MFASerial: "arn:aws:iam::1:mfa/bob", Backend: "file", Added: time.Unix(0, 0)}); err != nil {
		t.Fatal(err)
	}
	ix.Put("carol", Entry{AccessKeyID: "AKIACAROL", Backend: "file"})
	k, err := ix.Lookup("bob")
	if err != nil || k.AccessKeyID != "AKIABOB" || k.MFASerial != "arn:aws:iam::1:mfa/bob" {
		t.Fatalf("lookup = %+v, %v", k, err)
	}
	if _, err := ix.Lookup("bbo"); err == nil || !strings.Contains(err.Error(), `did you mean "bob"?`) {
		t.Errorf("near miss: %v", err)
	}
	if _, err := ix.Lookup("zed"); err == nil || !strings.Contains(err.Error(), "stored are: bob, carol") {
		t.Errorf("far miss: %v", err)
	}
	fi, err := os.Stat(ix.Path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("index mode: %v %v", fi.Mode(), err)
	}
	ix.Remove("bob")
	if all, _ := ix.All(); len(all) != 1 {
		t.Errorf("after remove: %v", all)
	}
	os.WriteFile(ix.Path, []byte("{"), 0o600)
	if _, err := ix.All(); err == nil || !strings.Contains(err.Error(), "is damaged") {
		t.Errorf("damaged: %v", err)
	}
}
