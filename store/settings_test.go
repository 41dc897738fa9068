package store

import (
	"archive/zip"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.etcd.io/bbolt"
)

func TestSettingsRoundTrip(t *testing.T) {
	db, path := openTest(t)
	got, err := db.Settings(42)
	if err != nil || got != (Settings{}) {
		t.Fatalf("Settings of a chat without any = %+v, %v; want the defaults", got, err)
	}
	want := Settings{OnlyDown: true, NoRecoveries: true, QuietFrom: "22:00", QuietTo: "07:00", TimeZone: "Europe/Rome", TopicID: 7}
	if err := db.SetSettings(42, want); err != nil {
		t.Fatal(err)
	}
	db = reopen(t, db, path)
	got, err = db.Settings(42)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("settings after a restart (-want +got):\n%s", diff)
	}
	if other, err := db.Settings(43); err != nil || other != (Settings{}) {
		t.Errorf("Settings of another chat = %+v, %v; want the defaults", other, err)
	}
	// Back to the defaults leaves nothing behind.
	if err := db.SetSettings(42, Settings{}); err != nil {
		t.Fatal(err)
	}
	if got, err := db.Settings(42); err != nil || got != (Settings{}) {
		t.Errorf("Settings after resetting = %+v, %v; want the defaults", got, err)
	}
}

func TestSetSettingsValidates(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    Settings
		want string // in the error; "" for none
	}{
		{"defaults", Settings{}, ""},
		{"quiet hours", Settings{QuietFrom: "23:30", QuietTo: "06:15", TimeZone: "America/New_York"}, ""},
		{"UTC by name", Settings{TimeZone: "UTC"}, ""},
		{"one end", Settings{QuietFrom: "22:00"}, "give both ends"},
		{"hour out of range", Settings{QuietFrom: "24:00", QuietTo: "07:00"}, `clock "24:00"`},
		{"no leading zero", Settings{QuietFrom: "7:00", QuietTo: "22:00"}, `clock "7:00"`},
		{"not a clock", Settings{QuietFrom: "22:00", QuietTo: "late"}, `clock "late"`},
		{"unknown zone", Settings{TimeZone: "Mars/Olympus_Mons"}, `time zone "Mars/Olympus_Mons"`},
		{"path in zone", Settings{TimeZone: "../../etc/passwd"}, `time zone "../../etc/passwd"`},
		{"server's zone", Settings{TimeZone: "Local"}, `time zone "Local"`},
		{"zone with a link's name", Settings{TimeZone: "Asia/Calcutta"}, ""},
		{"doubled slash", Settings{TimeZone: "Europe//Rome"}, `time zone "Europe//Rome"`},
		{"trailing slash", Settings{TimeZone: "Europe/Rome/"}, `time zone "Europe/Rome/"`},
		{"posix rules file", Settings{TimeZone: "posixrules"}, `time zone "posixrules"`},
		{"leap-second clock", Settings{TimeZone: "right/UTC"}, `time zone "right/UTC"`},
		{"posix tree", Settings{TimeZone: "posix/Europe/Rome"}, `time zone "posix/Europe/Rome"`},
		{"machine's zone file", Settings{TimeZone: "localtime"}, `time zone "localtime"`},
		{"small letters", Settings{TimeZone: "europe/rome"}, `time zone "europe/rome"`},
		{"not a zone file", Settings{TimeZone: "zone.tab"}, `time zone "zone.tab"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, _ := openTest(t)
			err := db.SetSettings(1, tc.s)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("SetSettings(%+v) = %v, want success", tc.s, err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("SetSettings(%+v) = %v, want an error containing %q", tc.s, err, tc.want)
			}
			got, err := db.Settings(1)
			if err != nil {
				t.Fatal(err)
			}
			want := tc.s
			if tc.want != "" {
				want = Settings{} // refused settings are not stored
			}
			if got != want {
				t.Errorf("stored %+v, want %+v", got, want)
			}
		})
	}
}

func TestQuietAt(t *testing.T) {
	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		t.Fatal(err)
	}
	// 21:30 UTC on a winter day is 22:30 in Rome.
	at := func(h, m int) time.Time { return time.Date(2025, 1, 10, h, m, 0, 0, time.UTC) }
	night := Settings{QuietFrom: "22:00", QuietTo: "07:00"}
	day := Settings{QuietFrom: "09:00", QuietTo: "17:30"}
	for _, tc := range []struct {
		name string
		s    Settings
		t    time.Time
		loc  *time.Location
		want bool
	}{
		{"no quiet hours", Settings{}, at(23, 0), time.UTC, false},
		{"before the night", night, at(21, 59), time.UTC, false},
		{"night starts", night, at(22, 0), time.UTC, true},
		{"after midnight", night, at(3, 0), time.UTC, true},
		{"night ends", night, at(7, 0), time.UTC, false},
		{"day inside", day, at(12, 0), time.UTC, true},
		{"day ends", day, at(17, 30), time.UTC, false},
		{"day before", day, at(8, 59), time.UTC, false},
		{"read on the chat's clock", night, at(21, 30), rome, true},
		{"the same moment in UTC", night, at(21, 30), time.UTC, false},
		{"equal ends", Settings{QuietFrom: "22:00", QuietTo: "22:00"}, at(22, 0), time.UTC, false},
		{"broken ends", Settings{QuietFrom: "late", QuietTo: "07:00"}, at(3, 0), time.UTC, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.s.QuietAt(tc.t, tc.loc); got != tc.want {
				t.Errorf("QuietAt(%s in %s) = %v, want %v", tc.t.Format(time.Kitchen), tc.loc, got, tc.want)
			}
		})
	}
}

func TestDeleteChatDropsSettings(t *testing.T) {
	db, _ := openTest(t)
	for _, id := range []int64{-5, 42} {
		if err := db.SetSettings(id, Settings{OnlyDown: true}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.DeleteChat(-5); err != nil {
		t.Fatal(err)
	}
	if got, err := db.Settings(-5); err != nil || got != (Settings{}) {
		t.Errorf("settings of a deleted chat = %+v, %v; want the defaults", got, err)
	}
	if got, err := db.Settings(42); err != nil || !got.OnlyDown {
		t.Errorf("settings of another chat = %+v, %v; want them kept", got, err)
	}
}

func TestMigrateChatMovesSettings(t *testing.T) {
	const from, to = -4321, -1004321
	for _, tc := range []struct {
		name     string
		from, to Settings
		want     Settings
	}{
		{"group had settings", Settings{NoRecoveries: true, TimeZone: "Asia/Tokyo"}, Settings{}, Settings{NoRecoveries: true, TimeZone: "Asia/Tokyo"}},
		{"group's settings win", Settings{OnlyDown: true}, Settings{TopicID: 3}, Settings{OnlyDown: true}},
		{"group had none", Settings{}, Settings{TopicID: 3}, Settings{TopicID: 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, _ := openTest(t)
			if err := db.SetSettings(from, tc.from); err != nil {
				t.Fatal(err)
			}
			if err := db.SetSettings(to, tc.to); err != nil {
				t.Fatal(err)
			}
			if err := db.MigrateChat(from, to); err != nil {
				t.Fatal(err)
			}
			if got, err := db.Settings(to); err != nil || got != tc.want {
				t.Errorf("settings of the supergroup = %+v, %v; want %+v", got, err, tc.want)
			}
			if got, err := db.Settings(from); err != nil || got != (Settings{}) {
				t.Errorf("settings of the old group = %+v, %v; want none", got, err)
			}
		})
	}
}

func TestStatusPostRoundTrip(t *testing.T) {
	db, path := openTest(t)
	if _, ok, err := db.StatusPost(); ok || err != nil {
		t.Fatalf("StatusPost of a new database = _, %v, %v; want none", ok, err)
	}
	want := StatusPost{Channel: "@outages", MessageID: 12, Text: "🟢 WhatsApp", Pinned: true}
	if err := db.SetStatusPost(want); err != nil {
		t.Fatal(err)
	}
	db = reopen(t, db, path)
	got, ok, err := db.StatusPost()
	if err != nil || !ok {
		t.Fatalf("StatusPost after a restart = _, %v, %v", ok, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("status post (-want +got):\n%s", diff)
	}
}

// TestSetSettingsKeepsAStoredZone stores a zone from before CheckTimeZone was
// strict: the chat can still change its other settings, but not choose
// another such zone.
func TestSetSettingsKeepsAStoredZone(t *testing.T) {
	db, _ := openTest(t)
	old := Settings{TimeZone: "UTC"}
	if err := db.SetSettings(1, old); err != nil {
		t.Fatal(err)
	}
	// What an older version let through, written as it stored it.
	odd := Settings{TimeZone: "Etc//UTC"}
	if _, err := odd.Location(); err != nil {
		t.Skipf("%q does not load on this machine: %v", odd.TimeZone, err)
	}
	if err := db.bolt.Update(func(tx *bbolt.Tx) error { return putSettings(tx, 1, odd) }); err != nil {
		t.Fatal(err)
	}
	odd.OnlyDown = true
	if err := db.SetSettings(1, odd); err != nil {
		t.Errorf("changing another setting of a chat with a stored zone: %v", err)
	}
	if err := db.SetSettings(1, Settings{TimeZone: "Etc//GMT"}); err == nil {
		t.Error("a newly chosen odd zone was accepted")
	}
}

// TestTimeZoneNamesAreTheEmbeddedOnes holds CheckTimeZone to the tzdata the
// binary embeds (time/tzdata is generated from $GOROOT/lib/time/zoneinfo.zip):
// every zone in it is accepted, and nothing else the system's zoneinfo
// directory holds is.
func TestTimeZoneNamesAreTheEmbeddedOnes(t *testing.T) {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Skipf("no go command to find the embedded tzdata: %v", err)
	}
	z, err := zip.OpenReader(filepath.Join(strings.TrimSpace(string(out)), "lib", "time", "zoneinfo.zip"))
	if err != nil {
		t.Skipf("no zoneinfo.zip in GOROOT: %v", err)
	}
	defer z.Close()
	embedded := make(map[string]bool, len(z.File))
	for _, f := range z.File {
		embedded[f.Name] = true
		if err := CheckTimeZone(f.Name); err != nil {
			t.Errorf("a zone of the embedded data is refused: %v", err)
		}
	}
	if len(embedded) < 400 {
		t.Fatalf("only %d zones in the embedded data", len(embedded))
	}

	const system = "/usr/share/zoneinfo"
	if _, err := os.Stat(system); err != nil {
		t.Logf("no system zoneinfo to compare with: %v", err)
		return
	}
	checked := 0
	err = filepath.WalkDir(system, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		name, err := filepath.Rel(system, path)
		if err != nil {
			return err
		}
		checked++
		if !embedded[name] && zoneName(name) {
			t.Errorf("%s/%s is not in the embedded data, yet it is written like a zone name", system, name)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d zones embedded, %d files in %s", len(embedded), checked, system)
}
