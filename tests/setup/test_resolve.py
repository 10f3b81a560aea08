#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The sysroot resolver (scripts/setup/resolve.py) on recorded package indexes, with no network.

fixtures/today: the indexes the mirror served when they were recorded (resolve.py --record);
fixtures/moved: ggml's 1.0.0 gone (1.1.1 and 1.2.0 served) and sid's Kokkos at 5.3;
fixtures/no-kokkos: sid without Kokkos; fixtures/newer-libc: sid's Kokkos 5.3 built against a
glibc newer than the trixie base has. Versions are compared against dpkg's own order where dpkg
is installed (the sysroot has it).
"""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
RESOLVER = os.path.join(REPO, "scripts", "setup", "resolve.py")
SPEC = os.path.join(REPO, "scripts", "setup", "packages.txt")
sys.path.insert(0, os.path.dirname(RESOLVER))
import resolve  # noqa: E402


def plan(fixture_dir):
    args = [sys.executable, RESOLVER, "plan", "--spec", SPEC, "--base", "trixie"]
    for suite in ("trixie", "sid", "trixie-backports"):
        path = os.path.join(fixture_dir, suite + ".Packages")
        if os.path.exists(path):
            args += ["--index", "%s=%s" % (suite, path)]
    p = subprocess.run(args, capture_output=True, text=True)
    picks = {}
    skips = {}
    for line in p.stdout.splitlines():
        f = line.split("\t")
        if f[0] == "pick":
            picks[f[5]] = (f[6], f[4], f[1])
        elif f[0] == "skip":
            skips[f[1]] = f[7]
    return p.returncode, picks, skips, p.stderr


def fixture(name):
    return os.path.join(HERE, "fixtures", name)


class Resolver(unittest.TestCase):
    def test_today(self):
        rc, picks, skips, err = plan(fixture("today"))
        self.assertEqual(rc, 0, err)
        self.assertEqual(skips, {})
        self.assertEqual(picks["libkokkos-dev"], ("5.2.2-2", "sid", "kokkos"))
        self.assertEqual(picks["libkokkos5.2"], ("5.2.2-2", "sid", "kokkos"))  # its library, same source
        self.assertEqual(picks["libggml-dev"], ("1.1.1-3~bpo13+1", "trixie-backports", "ggml"))
        self.assertEqual(picks["libggml1"], ("1.1.1-3~bpo13+1", "trixie-backports", "ggml"))
        for name in ("libtrilinos-kokkos-dev", "libtrilinos-kokkos-16.1", "libtrilinos-kokkos-kernels-16.1",
                     "trilinos-dev"):
            self.assertEqual(picks[name], ("16.1.0-5+b2", "sid", "trilinos"), name)
        self.assertEqual(picks["g++"][0], "4:14.2.0-1")
        self.assertEqual(picks["hipcc"][0], "5.7.1-6+deb13u1")
        self.assertNotIn("libggml0", picks)  # 0.27.0's library is still served; nothing needs it

    def test_moved_mirror(self):
        rc, picks, skips, err = plan(fixture("moved"))
        self.assertEqual(rc, 0, err)
        self.assertEqual(picks["libkokkos-dev"], ("5.3.0-1", "sid", "kokkos"))
        self.assertEqual(picks["libkokkos5.3"], ("5.3.0-1", "sid", "kokkos"))
        self.assertNotIn("libkokkos5.2", picks)
        self.assertEqual(picks["libggml-dev"][0], "1.2.0-1~bpo13+1")  # the newest in range
        self.assertEqual(picks["libggml1"][0], "1.2.0-1~bpo13+1")

    def test_no_kokkos_stops_with_the_range(self):
        rc, picks, skips, err = plan(fixture("no-kokkos"))
        self.assertEqual(rc, 1)
        self.assertIn("error: required libkokkos-dev >=5.0 <<6 from sid: the mirror offers no version", err)
        self.assertEqual(len(err.strip().splitlines()), 1, err)  # one line, the missing package

    def test_newer_libc_stops_with_the_reason(self):
        rc, picks, skips, err = plan(fixture("newer-libc"))
        self.assertEqual(rc, 1)
        self.assertIn("libkokkos-dev >=5.0 <<6 from sid: the mirror offers 5.3.0-1", err)
        self.assertIn("needs libc6 (>= 2.42); trixie has libc6 2.41-12+deb13u5", err)

    def test_optional_group_missing_is_skipped(self):
        with tempfile.TemporaryDirectory() as d:
            for suite in ("trixie", "sid"):
                shutil.copy(os.path.join(fixture("today"), suite + ".Packages"), d)
            open(os.path.join(d, "trixie-backports.Packages"), "w").close()  # ggml gone
            rc, picks, skips, err = plan(d)
        self.assertEqual(rc, 0, err)
        self.assertNotIn("libggml-dev", picks)
        self.assertIn("libggml-dev >=0.27 <<2 from trixie-backports: the mirror offers no version", skips["ggml"])
        self.assertIn("the benchmark's ggml rows", skips["ggml"])
        self.assertIn("libkokkos-dev", picks)

    def test_out_of_range_is_not_picked(self):
        with tempfile.TemporaryDirectory() as d:
            for suite in ("trixie", "trixie-backports"):
                shutil.copy(os.path.join(fixture("today"), suite + ".Packages"), d)
            text = open(os.path.join(fixture("today"), "sid.Packages")).read()
            open(os.path.join(d, "sid.Packages"), "w").write(
                text + text.replace("5.2.2-2", "6.0.0-1").replace("libkokkos5.2", "libkokkos6.0"))
            rc, picks, skips, err = plan(d)
        self.assertEqual(rc, 0, err)
        self.assertEqual(picks["libkokkos-dev"][0], "5.2.2-2")  # 6.0 lies outside >=5.0 <<6


class DebianVersions(unittest.TestCase):
    PAIRS = [("1.0", "1.0-1"), ("1.0~rc1", "1.0"), ("1:0.1", "2.0"), ("5.2.2-2", "5.3.0-1"),
             ("1.1.1-3~bpo13+1", "1.1.1-3"), ("16.1.0-5", "16.1.0-5+b2"), ("4:14.2.0-1", "4:16.1.0-3"),
             ("2.41-12+deb13u5", "2.42"), ("1.9.8+ds-2.1", "1.17.0+ds-1.1"), ("0.27", "1.0.0"),
             ("3.10", "3.9"), ("1.0a", "1.0"), ("1.0+", "1.0"), ("1.0.0", "1.0"), ("0:1.2", "1.2"),
             ("5.7.1-6+deb13u1", "8"), ("1:19.0-63", "1:22")]

    def test_against_dpkg(self):
        dpkg = shutil.which("dpkg")
        if not dpkg:
            self.skipTest("dpkg not installed: no independent order to compare with")
        for a, b in self.PAIRS + [(b, a) for a, b in self.PAIRS] + [(a, a) for a, _ in self.PAIRS]:
            for op, want in (("lt", lambda c: c < 0), ("eq", lambda c: c == 0), ("gt", lambda c: c > 0)):
                dpkg_says = subprocess.run([dpkg, "--compare-versions", a, op, b]).returncode == 0
                self.assertEqual(want(resolve.compare_versions(a, b)), dpkg_says, "%s %s %s" % (a, op, b))


if __name__ == "__main__":
    unittest.main(verbosity=2)
