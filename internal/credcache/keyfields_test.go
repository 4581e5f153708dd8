package credcache

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/awsrole/awsrole/internal/credreq"
)

// filled is a value of t with every field, element and entry set to
// something other than its zero value, recursively.
func filled(t *testing.T, typ reflect.Type) reflect.Value {
	v := reflect.New(typ).Elem()
	switch typ.Kind() {
	case reflect.String:
		v.SetString("a")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64:
		v.SetInt(1)
	case reflect.Slice:
		v.Set(reflect.Append(v, filled(t, typ.Elem())))
	case reflect.Map:
		v.Set(reflect.MakeMap(typ))
		v.SetMapIndex(filled(t, typ.Key()), filled(t, typ.Elem()))
	case reflect.Pointer:
		v.Set(reflect.New(typ.Elem()))
		v.Elem().Set(filled(t, typ.Elem()))
	case reflect.Struct:
		for i := range typ.NumField() {
			if !typ.Field(i).IsExported() {
				t.Fatalf("%s.%s is unexported: no key can see it; export it or keep it out of %s", typ, typ.Field(i).Name, typ)
			}
			v.Field(i).Set(filled(t, typ.Field(i).Type))
		}
	default:
		t.Fatalf("%s: a %s field; teach filled and variants this kind", typ, typ.Kind())
	}
	return v
}

// variants are copies of v with one leaf changed each (a field, an
// element, a map entry's key or value; one more element or entry), named
// by the path to the change. skip says which struct fields to leave alone.
func variants(t *testing.T, v reflect.Value, path string, skip func(reflect.StructField) bool) map[string]reflect.Value {
	out := map[string]reflect.Value{}
	clone := func() reflect.Value { c := reflect.New(v.Type()).Elem(); c.Set(deepCopy(v)); return c }
	switch v.Kind() {
	case reflect.String:
		c := clone()
		c.SetString(v.String() + "x")
		out[path] = c
	case reflect.Bool:
		c := clone()
		c.SetBool(!v.Bool())
		out[path] = c
	case reflect.Int, reflect.Int64:
		c := clone()
		c.SetInt(v.Int() + 1)
		out[path] = c
	case reflect.Slice:
		c := clone()
		c.Set(reflect.Append(c, filled(t, v.Type().Elem())))
		out[path+"+"] = c
		for i := range v.Len() {
			for p, e := range variants(t, v.Index(i), fmt.Sprintf("%s[%d]", path, i), skip) {
				c := clone()
				c.Index(i).Set(e)
				out[p] = c
			}
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			for p, nk := range variants(t, k, fmt.Sprintf("%s{key %v}", path, k), skip) {
				c := clone()
				c.SetMapIndex(k, reflect.Value{})
				c.SetMapIndex(nk, v.MapIndex(k))
				out[p] = c
			}
			for p, e := range variants(t, v.MapIndex(k), fmt.Sprintf("%s[%v]", path, k), skip) {
				c := clone()
				c.SetMapIndex(k, e)
				out[p] = c
			}
		}
	case reflect.Struct:
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if skip(f) {
				continue
			}
			for p, e := range variants(t, v.Field(i), path+"."+f.Name, skip) {
				c := clone()
				c.Field(i).Set(e)
				out[p] = c
			}
		}
	default:
		t.Fatalf("%s: a %s; teach variants this kind", path, v.Kind())
	}
	return out
}

// deepCopy copies v with its own slices and maps, so a variant never
// changes the base it came from.
func deepCopy(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			c.Index(i).Set(deepCopy(v.Index(i)))
		}
		return c
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		c := reflect.MakeMap(v.Type())
		for _, k := range v.MapKeys() {
			c.SetMapIndex(k, deepCopy(v.MapIndex(k)))
		}
		return c
	case reflect.Struct:
		c := reflect.New(v.Type()).Elem()
		for i := range v.NumField() {
			c.Field(i).Set(deepCopy(v.Field(i)))
		}
		return c
	}
	return v
}

func noSkip(reflect.StructField) bool { return false }

// TestKeysCountEveryField: a change to any field of a hop, anywhere in it
// (a tag's key or value, one more policy ARN), gives the role step
// another key; a field that no key would see fails here, so no one has to
// remember to list it.
func TestKeysCountEveryField(t *testing.T) {
	cache := Cache{Dir: t.TempDir(), Endpoints: Endpoints{STS: "https://sts.example"}}
	roleKey := func(h credreq.Hop) string {
		return cache.newStep(h.RoleARN, stepKey{Kind: "role", From: "id", Hop: &h}).id
	}
	base := filled(t, reflect.TypeFor[credreq.Hop]())
	baseKey := roleKey(base.Interface().(credreq.Hop))
	vs := variants(t, base, "Hop", noSkip)
	if len(vs) < reflect.TypeFor[credreq.Hop]().NumField() {
		t.Fatalf("only %d variants of a Hop", len(vs))
	}
	for path, v := range vs {
		if roleKey(v.Interface().(credreq.Hop)) == baseKey {
			t.Errorf("%s changed and the role step kept its key: two hops would share a cache entry", path)
		}
	}

	// Every field of a Request reaches the key of the credentials handed
	// out, unless its key tag says why not (see credreq.Request).
	src := credreq.Source{Kind: credreq.SourceEnv, Identity: "env\x00AKIA1"}
	final := func(r credreq.Request) string { return cache.Final(r, src).id }
	req := filled(t, reflect.TypeFor[credreq.Request]())
	reqKey := final(req.Interface().(credreq.Request))
	tagged := func(f reflect.StructField) bool {
		switch tag := f.Tag.Get("key"); tag {
		case "", "-", "source":
			return tag != ""
		default:
			t.Fatalf("Request.%s: key tag %q, want \"-\", \"source\" or none", f.Name, tag)
			return true
		}
	}
	for path, v := range variants(t, req, "Request", tagged) {
		if final(v.Interface().(credreq.Request)) == reqKey {
			t.Errorf("%s changed and the credentials handed out kept their key: count it in the key, or tag it key:\"-\" with why", path)
		}
	}
	// key:"source" fields count through the source's identity.
	other := src
	other.Identity += "x"
	if cache.Final(req.Interface().(credreq.Request), other).id == reqKey {
		t.Error("another source identity kept the key")
	}
}
