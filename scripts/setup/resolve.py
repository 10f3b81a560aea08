#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Picks the sysroot's packages from the package indexes the mirror serves now.

  resolve.py plan  --spec packages.txt --base trixie --index SUITE=Packages-file ... [--record DIR]
  resolve.py table PLAN [--installed FILE]

plan: for each package of the spec (scripts/setup/packages.txt), the newest version of its suite
that lies in its range and installs on the base suite: every versioned dependency is met by the
base suite, or by a package of the same suite that is itself installable (followed transitively
and added to the plan). Prints the plan (tab-separated lines, below) on stdout; one line per
required package that has no such version on stderr ("error: ..."), exit 1. An optional group
with a missing package is skipped whole, with the reason.

  pick  GROUP NEED METHOD SUITE PACKAGE VERSION RANGE
  skip  GROUP NEED METHOD -     -       -       REASON; WHAT IS LOST

--record DIR writes, per suite, the index stanzas the resolution read (the fixtures of
tests/setup are recorded this way). table prints the resolved set (package, range, installed
version, suite); --installed FILE gives `dpkg-query -W` output to compare against.

Needs nothing but Python 3: the resolver test runs it on recorded indexes, with no network.
"""
import argparse
import os
import re
import shlex
import sys

# ---- Debian versions (Debian Policy 5.6.12) -------------------------------------------------


def _order(c):
    if c == "~":
        return -1
    if c.isdigit():
        return 0
    if c.isalpha():
        return ord(c)
    return ord(c) + 256


def _compare_part(a, b):
    i = j = 0
    while i < len(a) or j < len(b):
        diff = 0
        while (i < len(a) and not a[i].isdigit()) or (j < len(b) and not b[j].isdigit()):
            ac = _order(a[i]) if i < len(a) and not a[i].isdigit() else 0
            bc = _order(b[j]) if j < len(b) and not b[j].isdigit() else 0
            if ac != bc:
                return -1 if ac < bc else 1
            i += 1
            j += 1
        while i < len(a) and a[i] == "0":
            i += 1
        while j < len(b) and b[j] == "0":
            j += 1
        while i < len(a) and a[i].isdigit() and j < len(b) and b[j].isdigit():
            if not diff:
                diff = (a[i] > b[j]) - (a[i] < b[j])
            i += 1
            j += 1
        if i < len(a) and a[i].isdigit():
            return 1
        if j < len(b) and b[j].isdigit():
            return -1
        if diff:
            return diff
    return 0


def _split(v):
    epoch, _, rest = v.partition(":") if ":" in v else ("0", "", v)
    upstream, _, revision = rest.rpartition("-") if "-" in rest else (rest, "", "")
    return int(epoch or "0"), upstream, revision


def compare_versions(a, b):
    """-1, 0 or 1 as Debian orders versions a and b (what `dpkg --compare-versions` decides)."""
    ea, ua, ra = _split(a)
    eb, ub, rb = _split(b)
    if ea != eb:
        return -1 if ea < eb else 1
    return _compare_part(ua, ub) or _compare_part(ra, rb)


_RELATIONS = {
    "<<": lambda c: c < 0, "<=": lambda c: c <= 0, "=": lambda c: c == 0,
    ">=": lambda c: c >= 0, ">>": lambda c: c > 0, "<": lambda c: c <= 0, ">": lambda c: c >= 0,
}


def satisfies(version, op, bound):
    return _RELATIONS[op](compare_versions(version, bound))


# ---- package indexes ------------------------------------------------------------------------

_FIELDS = ("Package", "Version", "Source", "Depends", "Pre-Depends", "Provides")


class Index:
    """One suite's packages: name -> [stanza], each a dict of the fields the resolver reads."""

    def __init__(self, suite, path):
        self.suite = suite
        self.packages = {}
        self.provides = {}
        self.read = set()  # (name, version) of every stanza the resolution looked at
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        for block in text.split("\n\n"):
            stanza = {}
            for line in block.split("\n"):
                if not line or line[0] in " \t":
                    continue
                key, _, value = line.partition(":")
                if key in _FIELDS:
                    stanza[key] = value.strip()
            if "Package" not in stanza or "Version" not in stanza:
                continue
            self.packages.setdefault(stanza["Package"], []).append(stanza)
            for name in _names(stanza.get("Provides", "")):
                self.provides.setdefault(name, []).append(stanza)
        for versions in self.packages.values():
            versions.sort(key=_VersionKey, reverse=True)

    def versions(self, name):
        found = self.packages.get(name, [])
        for s in found:
            self.read.add((s["Package"], s["Version"]))
        return found

    def providers(self, name):
        found = self.provides.get(name, [])
        for s in found:
            self.read.add((s["Package"], s["Version"]))
        return found

    def record(self, path):
        with open(path, "w", encoding="utf-8") as out:
            for name in sorted(self.packages):
                for s in self.packages[name]:
                    if (s["Package"], s["Version"]) in self.read:
                        out.write("".join("%s: %s\n" % (k, s[k]) for k in _FIELDS if k in s) + "\n")


class _VersionKey:
    def __init__(self, stanza):
        self.v = stanza["Version"]

    def __lt__(self, other):
        return compare_versions(self.v, other.v) < 0


def _names(field):
    return [re.split(r"[\s(:]", alt.strip(), maxsplit=1)[0] for alt in re.split(r"[,|]", field) if alt.strip()]


def _relations(field):
    """Depends -> [[(name, op, version) alternatives]]; op and version None when unversioned."""
    out = []
    for group in field.split(","):
        alts = []
        for alt in group.split("|"):
            m = re.match(r"\s*([^\s(:]+)(?::\S+)?\s*(?:\(\s*([<>=]+)\s*([^)\s]+)\s*\))?", alt)
            if m and m.group(1):
                alts.append((m.group(1), m.group(2), m.group(3)))
        if alts:
            out.append(alts)
    return out


def _source(stanza):
    src = stanza.get("Source", stanza["Package"])
    return src.split(" ")[0]


# ---- the spec -------------------------------------------------------------------------------


class Group:
    def __init__(self, name, need, method, lost):
        self.name, self.need, self.method, self.lost = name, need, method, lost
        self.packages = []  # (suite, package, [(op, version)], range text)


def read_spec(path):
    groups = []
    by_name = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            words = shlex.split(line, comments=True)
            if not words:
                continue
            where = "%s:%d" % (path, lineno)
            if words[0] == "group" and len(words) == 5 and words[2] in ("required", "optional"):
                g = Group(words[1], words[2], words[3], words[4])
                groups.append(g)
                by_name[g.name] = g
            elif words[0] == "pkg" and len(words) >= 5 and words[1] in by_name:
                bounds = []
                if words[4:] != ["any"]:
                    for r in words[4:]:
                        m = re.fullmatch(r"(<<|<=|>=|>>|=)(\S+)", r)
                        if not m:
                            sys.exit("resolve.py: %s: bad range '%s'" % (where, r))
                        bounds.append((m.group(1), m.group(2)))
                by_name[words[1]].packages.append((words[2], words[3], bounds, " ".join(words[4:])))
            else:
                sys.exit("resolve.py: %s: cannot read '%s'" % (where, line.strip()))
    return groups


# ---- resolution -----------------------------------------------------------------------------


class Resolver:
    def __init__(self, indexes, base):
        self.indexes = indexes
        self.base = indexes[base]
        self.pulled_by = {}  # package -> the package whose dependency brought it in

    def _base_meets(self, name, op, bound):
        """None when the base suite meets the relation, else why not."""
        versions = self.base.versions(name)
        if not versions:
            if op is None and self.base.providers(name):
                return None
            return "%s is not in %s" % (name, self.base.suite)
        if op is None or any(satisfies(s["Version"], op, bound) for s in versions):
            return None
        return "%s has %s %s" % (self.base.suite, name, versions[0]["Version"])

    def installable(self, index, stanza, chosen, trail=()):
        """None when stanza installs on the base suite (adding what it pulls from its own suite
        to chosen), else the first reason it does not."""
        key = (stanza["Package"], stanza["Version"])
        if key in trail or index is self.base:
            return None  # a cycle, or the base suite's own package (apt resolves it there)
        deps = _relations(stanza.get("Pre-Depends", "")) + _relations(stanza.get("Depends", ""))
        for alts in deps:
            reasons = []
            for name, op, bound in alts:
                if name in chosen:
                    v = chosen[name][1]["Version"]
                    if op is None or satisfies(v, op, bound):
                        reasons = None
                        break
                    reasons.append("%s %s is picked" % (name, v))
                    continue
                why = self._base_meets(name, op, bound)
                if why is None:
                    reasons = None
                    break
                # Not met by the base suite: a package of the same suite may (a library of the
                # same source, or a newer one the base has too old).
                pulled = None
                nested = None
                for cand in index.versions(name):
                    if op is not None and not satisfies(cand["Version"], op, bound):
                        continue
                    trial = dict(chosen)
                    trial[name] = (index, cand)
                    nested = self.installable(index, cand, trial, trail + (key,))
                    if nested is None:
                        pulled = trial
                        break
                if pulled is not None:
                    self.pulled_by.setdefault(name, stanza["Package"])
                    chosen.clear()
                    chosen.update(pulled)
                    reasons = None
                    break
                rel = name if op is None else "%s (%s %s)" % (name, op, bound)
                # The deepest reason is the useful one (a library of the same source that needs a
                # newer libc6 than the base has).
                reasons.append(nested if nested else "needs %s; %s" % (rel, why))
            if reasons:
                return "; or ".join(reasons)
        return None

    def resolve_group(self, group):
        """(picks, None) or (None, [reasons]): picks is [(index, stanza, range text)]."""
        chosen = {}
        ranges = {}
        errors = []
        for suite, name, bounds, text in group.packages:
            index = self.indexes.get(suite)
            if index is None:
                errors.append("%s: suite %s has no index" % (name, suite))
                continue
            offered = index.versions(name)
            in_range = [s for s in offered if all(satisfies(s["Version"], op, b) for op, b in bounds)]
            why_not = []
            for s in in_range:
                trial = dict(chosen)
                trial[name] = (index, s)
                why = self.installable(index, s, trial)
                if why is None:
                    chosen = trial
                    ranges[name] = text
                    break
                why_not.append("%s needs what %s lacks (%s)" % (s["Version"], self.base.suite, why))
            else:
                offers = ", ".join(s["Version"] for s in offered) or "no version"
                msg = "%s %s from %s: the mirror offers %s" % (name, text, suite, offers)
                if why_not:
                    msg += "; " + "; ".join(why_not)
                errors.append(msg)
        # Packages of one source in one group move together (gtest/gmock, the Trilinos parts).
        by_source = {}
        for name, (index, s) in chosen.items():
            if name in ranges:
                by_source.setdefault(_source(s), set()).add(s["Version"])
        for src, versions in sorted(by_source.items()):
            if len(versions) > 1:
                errors.append("source %s: its packages resolve to different versions (%s)"
                              % (src, ", ".join(sorted(versions))))
        if errors:
            return None, errors
        picks = [(index, s, ranges.get(name, "(for %s)" % self.pulled_by.get(name, "the group")))
                 for name, (index, s) in chosen.items()]
        return picks, None


def cmd_plan(args):
    indexes = {}
    for item in args.index:
        suite, _, path = item.partition("=")
        if not os.path.isfile(path):
            sys.exit("resolve.py: no index file for %s: %s" % (suite, path))
        indexes[suite] = Index(suite, path)
    if args.base not in indexes:
        sys.exit("resolve.py: no index for the base suite %s" % args.base)
    resolver = Resolver(indexes, args.base)
    failed = False
    for group in read_spec(args.spec):
        picks, errors = resolver.resolve_group(group)
        if picks is not None:
            order = {name: i for i, (_, name, _, _) in enumerate(group.packages)}
            picks.sort(key=lambda p: (order.get(p[1]["Package"], len(order)), p[1]["Package"]))
            for index, s, text in picks:
                print("\t".join(("pick", group.name, group.need, group.method, index.suite, s["Package"],
                                 s["Version"], text)))
            continue
        for e in errors:
            if group.need == "required":
                print("error: required %s" % e, file=sys.stderr)
            else:
                print("\t".join(("skip", group.name, group.need, group.method, "-", "-", "-",
                                 "%s; without it: %s" % (e, group.lost))))
        failed = failed or group.need == "required"
    if args.record:
        os.makedirs(args.record, exist_ok=True)
        for suite, index in indexes.items():
            index.record(os.path.join(args.record, suite + ".Packages"))
    return 1 if failed else 0


def cmd_table(args):
    installed = {}
    if args.installed:
        with open(args.installed, encoding="utf-8") as f:
            for line in f:
                parts = line.rstrip("\n").split("\t")
                if len(parts) >= 2 and parts[1]:
                    installed[parts[0]] = parts[1]
    rows = [("package", "supported", "installed", "suite")]
    skipped = []
    mismatch = []
    with open(args.plan, encoding="utf-8") as f:
        for line in f:
            kind, group, need, method, suite, name, version, text = line.rstrip("\n").split("\t", 7)
            if kind == "skip":
                skipped.append("%s (%s): not installed: %s" % (group, need, text))
                continue
            if method.startswith("extract:"):
                got = version + " (in " + method[len("extract:"):] + ")"
            else:
                got = installed.get(name, version if not args.installed else "MISSING")
                if args.installed and got != version:
                    mismatch.append("%s: planned %s, installed %s" % (name, version, got))
            rows.append((name, text, got, suite))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for i, r in enumerate(rows):
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))
    for s in skipped:
        print("optional " + s)
    for m in mismatch:
        print("error: " + m, file=sys.stderr)
    return 1 if mismatch else 0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    plan = sub.add_parser("plan")
    plan.add_argument("--spec", required=True)
    plan.add_argument("--base", required=True)
    plan.add_argument("--index", action="append", default=[], metavar="SUITE=FILE")
    plan.add_argument("--record", metavar="DIR")
    table = sub.add_parser("table")
    table.add_argument("plan")
    table.add_argument("--installed")
    args = p.parse_args(argv)
    return cmd_plan(args) if args.cmd == "plan" else cmd_table(args)


if __name__ == "__main__":
    sys.exit(main())
