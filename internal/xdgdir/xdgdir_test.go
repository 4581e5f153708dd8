package xdgdir

import "testing"

// TestOneRule: the same directories on every platform, an absolute XDG
// variable winning and a relative one ignored.
func TestOneRule(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want Dirs
	}{
		{"home only", map[string]string{"HOME": "/h"},
			Dirs{Config: "/h/.config/awsrole", Data: "/h/.local/share/awsrole", Cache: "/h/.cache/awsrole", State: "/h/.local/state/awsrole"}},
		{"absolute XDG", map[string]string{"HOME": "/h", "XDG_CONFIG_HOME": "/c", "XDG_DATA_HOME": "/d", "XDG_CACHE_HOME": "/k", "XDG_STATE_HOME": "/s"},
			Dirs{Config: "/c/awsrole", Data: "/d/awsrole", Cache: "/k/awsrole", State: "/s/awsrole"}},
		{"relative XDG ignored", map[string]string{"HOME": "/h", "XDG_CONFIG_HOME": "c", "XDG_STATE_HOME": "./s"},
			Dirs{Config: "/h/.config/awsrole", Data: "/h/.local/share/awsrole", Cache: "/h/.cache/awsrole", State: "/h/.local/state/awsrole"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := FromEnv(func(k string) string { return tc.env[k] }); got != tc.want {
				t.Errorf("FromEnv = %+v, want %+v", got, tc.want)
			}
		})
	}
	// A relative HOME falls back to the account's home: still absolute.
	d := FromEnv(func(k string) string { return map[string]string{"HOME": "rel"}[k] })
	for _, p := range []string{d.Config, d.Data, d.Cache, d.State} {
		if len(p) == 0 || p[0] != '/' {
			t.Errorf("relative HOME gives %q", p)
		}
	}
}
