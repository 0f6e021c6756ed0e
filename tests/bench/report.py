#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn mni_bench's raw CSV into a Markdown table and an SVG plot.

usage: report.py RAW.csv [--md OUT.md] [--svg OUT.svg] [--date TEXT]
       report.py RAW.csv --check [--run-ok STATUS]

RAW.csv holds mni_bench's "meta,..." and "csv,..." lines (other lines are
ignored). Per figure, case, K, metric and configuration the repetitions give
a median and a min-max spread. "ours/in-kernel" is the median, over the
repetitions, of the ratio within one repetition (the three configurations
of a repetition ran back to back), which cancels drift of the machine.
"- floor" is the difference of the medians.

The storm figure (6) has no floor and a table of its own: its samples
(METRIC "<op>_sample_ns") are pooled over the repetitions, and each cell
gives the pooled median, p90 or max, with the range of the repetitions'
own values; its ratio is the pooled ours over the pooled in-kernel value.

--check prints TAP: one line per expected figure (present, finite, every
configuration), one for run.sh's verdict if --run-ok is given, then
"N passed, N failed"; exit status 1 on any failure.
Python 3 standard library only.
"""

import argparse
import collections
import math
import statistics
import sys

CFGS = ("floor", "kern", "mni")

# (figure, case, metric): issue-5 figure number (7: issue 12, 8: issue 11),
# label, unit,
# target ratio (ours/in-kernel: at most, or at least where larger is better),
# whether larger is better. A None target means "reported, no target".
ROWS = [
    ("inval", "madvise-none", "ns_per_op", 1, "madvise, page overlaps none", "ns/op", 1.05, False),
    ("inval", "madvise-one", "ns_per_op", 1, "madvise, page overlaps one", "ns/op", 1.05, False),
    ("inval", "munmap-none", "ns_per_op", 1, "munmap+mmap, overlaps none", "ns/op", 1.05, False),
    ("inval", "munmap-one", "ns_per_op", 1, "munmap+mmap, overlaps one", "ns/op", 1.05, False),
    ("wide", "mprotect", "ns_per_op", 2, "mprotect over K subscriptions", "ns/op", 1.20, False),
    ("read", "read_begin+retry", "ns_per_op", 3, "read_begin + read_retry (in-kernel loop)", "ns/op", 1.05, False),
    ("insrem", "insert+remove", "ns_per_op", 4, "insert + remove with K present (in-kernel loop)", "ns/op", 1.20, False),
    ("first", "first-insert", "insert_ns", 4, "first insert in a fresh mm", "ns", 1.20, False),
    ("first", "first-insert", "remove_ns", 4, "its remove (the last one of the mm)", "ns", None, False),
    ("contend", "fault-vs-2-invalidators", "fault_p50_ns", 5, "device fault under 2 invalidators, median", "ns", None, False),
    ("contend", "fault-vs-2-invalidators", "fault_p99_ns", 5, "device fault under 2 invalidators, p99", "ns", 1.00, False),
    ("contend", "fault-vs-2-invalidators", "fault_ops_s", 5, "fault thread throughput", "ops/s", None, True),
    ("contend", "fault-vs-2-invalidators", "inval_ops_s", 5, "invalidator throughput (2 threads)", "ops/s", None, True),
    ("parallel", "2proc-insert+remove", "ns_per_op", 7,
     "insert + remove, 2 processes (own mms) at once, aggregate (in-kernel loops)", "ns/op", None, False),
    ("parallel", "2proc-insert+remove", "ops_s", 7,
     "its aggregate throughput (issue 12)", "ops/s", 0.90, True),
    ("first-prereg", "first-insert-prereg", "insert_ns", 8,
     "first insert on a pre-registered mm (the kernel's: __mmu_notifier_register(NULL) first)", "ns", 1.00, False),
    ("first-prereg", "first-insert-prereg", "remove_ns", 8,
     "its remove (the mm stays registered)", "ns", None, False),
    ("twopass", "mprotect-device", "ns_per_op", 8,
     "mprotect over K subscriptions whose device takes 20 µs (ours: two-pass; the kernel's on 6.1: one pass)", "ns/op", None, False),
    ("update", "update", "ns_per_op", 8,
     "move one subscription in place (in-kernel loop; the kernel's: remove + insert)", "ns/op", 1.00, False),
]

# K values each figure must have; the smoke check insists on all of them.
EXPECTED_K = {
    "inval": (1, 1000, 100000),
    "wide": (1, 64, 4096),
    "read": (1,),
    "insrem": (1, 1000, 100000),
    "first": (0,),
    "contend": (1,),
    "parallel": (1, 1000),
    "update": (1, 1000, 100000),
    "first-prereg": (0,),
    "twopass": (1, 16, 64),
}

LOG_CASES = ("madvise-none", "madvise-one", "munmap-none", "munmap-one")

# The storm (figure 6): (op, label, target for ours' p90 in ns).
STORM_CASE = ("storm", "2-slow-invalidators", 1)
STORM_OPS = [
    ("read_begin", "read_begin after its own invalidation", 100e3),
    ("insert_fault", "insert + first fault of a new subscription", 1e6),
    ("remove", "remove of a subscription outside the storm", 1e6),
]
STORM_STATS = [("p50", "median", 50), ("p90", "p90", 90), ("max", "max", 100)]
STORM_CFGS = ("kern", "mni")
SAMPLE_SUFFIX = "_sample_ns"


def parse(path):
    meta = {}
    data = collections.defaultdict(dict)  # (fig, case, k, metric) -> {cfg: {rep: v}}
    # (fig, case, k, op) -> {cfg: {rep: [sample, ...]}}
    samples = collections.defaultdict(dict)
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.strip()
            if line.startswith("meta,"):
                _, key, val = line.split(",", 2)
                meta[key] = val
            elif line.startswith("csv,"):
                parts = line.split(",")
                if len(parts) != 9:
                    continue
                _, fig, case, k, cfg, rep, metric, val, _iters = parts
                try:
                    v = float(val)
                except ValueError:
                    v = float("nan")
                if metric.endswith(SAMPLE_SUFFIX):
                    key = (fig, case, int(k), metric[:-len(SAMPLE_SUFFIX)])
                    samples[key].setdefault(cfg, {}).setdefault(int(rep), []).append(v)
                    continue
                key = (fig, case, int(k), metric)
                data[key].setdefault(cfg, {})[int(rep)] = v
    return meta, data, samples


class Stat:
    def __init__(self, reps):
        self.reps = reps
        vals = list(reps.values())
        self.n = len(vals)
        self.med = statistics.median(vals) if vals else float("nan")
        self.min = min(vals) if vals else float("nan")
        self.max = max(vals) if vals else float("nan")
        if len(vals) >= 4:
            q = statistics.quantiles(vals, n=4, method="inclusive")
            self.q1, self.q3 = q[0], q[2]
        else:
            self.q1, self.q3 = self.min, self.max


def ratio(a, b):
    """Median over shared repetitions of a[rep] / b[rep], and its range."""
    rs = [a.reps[r] / b.reps[r] for r in a.reps if r in b.reps and b.reps[r]]
    if not rs:
        return float("nan"), float("nan"), float("nan")
    return statistics.median(rs), min(rs), max(rs)


def overhead(cfg, floor):
    """Overhead of @cfg over the floor, from the repetitions' own floors.

    The host slows whole repetitions down by a factor (another guest on the
    same core), so the overhead is taken within each repetition, as the
    ratio cfg/floor, and its median is turned back into nanoseconds with
    the floor's fastest repetition, the one the host disturbed least. Where the floor is next to nothing (loops with the
    engine left out) the median of the per-repetition differences is used.
    Returns (ns, fraction or None).
    """
    if not (cfg and floor and cfg.n and floor.n):
        return None, None
    shared = [r for r in cfg.reps if r in floor.reps]
    if not shared:
        return None, None
    if floor.med < 0.05 * cfg.med:
        return statistics.median(cfg.reps[r] - floor.reps[r] for r in shared), None
    rel = statistics.median(cfg.reps[r] / floor.reps[r] - 1 for r in shared if floor.reps[r])
    return rel * floor.min, rel


def fmt_ovh(ns, rel):
    if ns is None:
        return "—"
    if rel is None:
        return f"{'+' if ns >= 0 else ''}{fmt(ns)}"
    return f"{'+' if ns >= 0 else ''}{fmt(ns)} ({rel * 100:+.0f} %)"


def fmt(v):
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "—"
    a = abs(v)
    if a >= 1e6:
        return f"{v / 1e6:.2f} M"
    if a >= 1e4:
        return f"{v / 1e3:.1f} k"
    if a >= 100:
        return f"{v:.0f}"
    return f"{v:.1f}"


def cell(st):
    if st is None or not st.n:
        return "—"
    return f"{fmt(st.med)} ({fmt(st.min)}–{fmt(st.max)})"


def stats_of(data, key):
    by_cfg = data.get(key, {})
    return {c: Stat(by_cfg[c]) if c in by_cfg else None for c in CFGS}


def pct(vals, p):
    """Nearest-rank percentile, as mni_bench computes it; p=100 is the max."""
    v = sorted(vals)
    if not v:
        return float("nan")
    i = min(max(math.ceil(p / 100.0 * len(v) - 1e-6), 1), len(v))
    return v[i - 1]


def fmt_time(ns):
    if ns is None or not math.isfinite(ns):
        return "—"
    if ns >= 1e6:
        return f"{ns / 1e6:.1f} ms" if ns < 1e8 else f"{ns / 1e6:.0f} ms"
    if ns >= 1e5:
        return f"{ns / 1e3:.0f} µs"
    return f"{ns / 1e3:.1f} µs"


def fmt_ratio(r):
    return f"{r:.2f}" if r >= 0.095 else f"{r:.2g}"


def storm_pooled(samples, op):
    """{cfg: (all samples, {rep: samples})} of one storm operation."""
    by_cfg = samples.get(STORM_CASE + (op,), {})
    out = {}
    for cfg in STORM_CFGS:
        reps = by_cfg.get(cfg, {})
        out[cfg] = ([v for r in sorted(reps) for v in reps[r]], reps)
    return out


def storm_table(meta, data, samples):
    out = []
    fig, case, k = STORM_CASE
    per_rep = meta.get("storm_samples", "?")
    nrep = {cfg: len(storm_pooled(samples, STORM_OPS[0][0])[cfg][1]) for cfg in STORM_CFGS}
    think = float(meta.get("storm_think_us", "nan")) / 1e3
    out.append(f"Storm (figure 6, DESIGN.md 3.11): two threads on the second vCPU invalidate (MADV_DONTNEED) "
               f"a page each of a stormed subscription whose blockable callback sleeps "
               f"{meta.get('storm_slow_ms', '?')} ms (`msleep()`) with its lock held, each thread pausing "
               f"a random 0–{2 * think:g} ms between its invalidations; "
               f"on the first vCPU, after a random pause of up to "
               f"{float(meta.get('storm_pause_max_us', 'nan')) / 1e3:g} ms before each, three ioctls are timed in "
               "userspace: `read_begin` of a subscription whose own (quick) invalidation has just ended, "
               "insert of a new subscription disjoint from the storm together with its first fault "
               "(ADD + FAULT), and the remove of that subscription (DEL). "
               f"Samples: {per_rep} per repetition, pooled over "
               f"{nrep['kern']} (in-kernel) and {nrep['mni']} (ours) repetitions. Each cell: the pooled value "
               "(the range of the repetitions' own values); ours/in-kernel: pooled over pooled (range of the "
               "per-repetition ratios).")
    out.append("")
    out.append("| # | operation under the storm | statistic | in-kernel | ours | ours/in-kernel | target (ours) | met |")
    out.append("|---|---|---|---:|---:|---:|---:|:---:|")
    verdicts = []
    for op, label, target in STORM_OPS:
        pooled = storm_pooled(samples, op)
        for stat, sname, p in STORM_STATS:
            vals = {}
            for cfg in STORM_CFGS:
                allv, reps = pooled[cfg]
                rv = {r: pct(v, p) for r, v in reps.items()}
                vals[cfg] = (pct(allv, p), rv)
            (kv, krep), (mv, mrep) = vals["kern"], vals["mni"]

            def c(v, rv):
                if not rv:
                    return "—"
                return f"{fmt_time(v)} ({fmt_time(min(rv.values()))}–{fmt_time(max(rv.values()))})"
            r = mv / kv if kv and math.isfinite(kv) and math.isfinite(mv) else float("nan")
            rs = [mrep[x] / krep[x] for x in mrep if x in krep and krep[x]]
            rr = f"{fmt_ratio(min(rs))}–{fmt_ratio(max(rs))}" if rs else ""
            ratio_s = "—" if not math.isfinite(r) else f"{fmt_ratio(r)} ({rr})"
            tgt = met = ""
            if stat == "p90":
                tgt = f"≤ {fmt_time(target)}"
                ok = math.isfinite(mv) and mv <= target
                met = "yes" if ok else "**no**"
                verdicts.append((6, f"storm {op} p90", k, mv, target, ok))
            out.append(f"| 6 | {label} | {sname} | {c(kv, krep)} | {c(mv, mrep)} | {ratio_s} | {tgt} | {met} |")
    out.append("")
    # What the storm itself did, per engine: median over the repetitions.
    parts = []
    for cfg, name in (("kern", "in-kernel"), ("mni", "ours")):
        st = stats_of(data, (fig, case, k, "storm_inval_ns"))[cfg]
        rate = stats_of(data, (fig, case, k, "storm_inval_ops_s"))[cfg]
        hit = stats_of(data, (fig, case, k, "limit_hit"))[cfg]
        if not (st and st.n and rate and rate.n):
            continue
        hits = sum(1 for v in hit.reps.values() if v) if hit else 0
        parts.append(f"{name}: {fmt_time(st.med)} per storm invalidation, {rate.med:.0f} invalidations/s"
                     + (f", storm time limit reached in {hits} of {hit.n} repetitions (those waits were cut short)"
                        if hits else ""))
    if parts:
        out.append("The storm (medians over the repetitions): " + "; ".join(parts) + ".")
        out.append("")
    return "\n".join(out), verdicts


def table(meta, data, date, samples=None):
    out = []
    out.append(f"Kernel {meta.get('kernel', '?')}, QEMU TCG (no KVM), "
               f"{meta.get('cpus', '?')} vCPUs on 2 shared host cores, "
               f"{meta.get('reps', '?')} repetitions per figure after a warm-up, "
               f"{meta.get('mode', '?')} run, {date}.")
    out.append("")
    out.append("Each cell: median (min–max) over the repetitions; a loop's repetition is the fastest "
               f"of {meta.get('batches', '?')} batches of about {meta.get('batch_ms', '?')} ms. "
               "ours/in-kernel: median of the per-repetition ratios (their range). "
               "− floor: median of the per-repetition overhead over the floor, in % of the floor and in ns "
               "of the floor's fastest repetition (ns only where the floor is an empty loop).")
    out.append("")
    out.append("| # | measurement | K | floor | in-kernel | ours | ours/in-kernel | in-kernel − floor | ours − floor | target | met |")
    out.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|:---:|")
    verdicts = []
    for fig, case, metric, num, label, unit, target, higher in ROWS:
        ks = sorted({k for (f, c, k, m) in data if (f, c, m) == (fig, case, metric)})
        for k in ks:
            st = stats_of(data, (fig, case, k, metric))
            kern, mni, floor = st["kern"], st["mni"], st["floor"]
            r = rr_lo = rr_hi = float("nan")
            if kern and mni:
                r, rr_lo, rr_hi = ratio(mni, kern)
            # Over the floor only for costs: a rate's floor is no base.
            ov_k = overhead(kern, floor) if not higher else (None, None)
            ov_m = overhead(mni, floor) if not higher else (None, None)
            tgt = "—"
            met = ""
            if target is not None:
                tgt = f"{'≥' if higher else '≤'} {target:.2f}"
                ok = math.isfinite(r) and (r >= target if higher else r <= target)
                met = "yes" if ok else "**no**"
                verdicts.append((num, label, k, r, target, ok))
            kk = "—" if fig == "first" else str(k)
            out.append(f"| {num} | {label} [{unit}] | {kk} | {cell(floor)} | {cell(kern)} | {cell(mni)} | "
                       f"{fmt(r) if not math.isfinite(r) else f'{r:.3f}'} "
                       f"({'' if not math.isfinite(rr_lo) else f'{rr_lo:.2f}–{rr_hi:.2f}'}) | "
                       f"{fmt_ovh(*ov_k)} | {fmt_ovh(*ov_m)} | {tgt} | {met} |")
    out.append("")
    out.append("Growth with K of the invalidation overhead over the floor "
               "(target: no faster than log K, i.e. overhead(100000) / "
               f"overhead(1000) ≤ log(100000)/log(1000) = {math.log(1e5) / math.log(1e3):.2f}):")
    out.append("")
    out.append("| case | engine | − floor at K=1 | K=1000 | K=100000 | 100000 / 1000 | met |")
    out.append("|---|---|---:|---:|---:|---:|:---:|")
    bound = math.log(1e5) / math.log(1e3)
    for case in LOG_CASES:
        for cfg, name in (("kern", "in-kernel"), ("mni", "ours")):
            ov = {}
            for k in (1, 1000, 100000):
                st = stats_of(data, ("inval", case, k, "ns_per_op"))
                ns, rel = overhead(st[cfg], st["floor"])
                if ns is not None:
                    ov[k] = (ns, rel)
            if 1000 in ov and 100000 in ov:
                # Relative overheads: the floor does not depend on K, and a
                # repetition the host slowed down scales cfg and floor alike.
                # Below 1 % of the floor the ratio is noise; clamp it there.
                r3 = max(ov[1000][1] if ov[1000][1] is not None else ov[1000][0], 0.01)
                r5 = max(ov[100000][1] if ov[100000][1] is not None else ov[100000][0], 0.01)
                g = r5 / r3
                ok = g <= bound
                verdicts.append(("log", f"{case} {name}", 0, g, bound, ok))
                out.append(f"| {case} | {name} | {fmt_ovh(*ov[1]) if 1 in ov else '—'} | {fmt_ovh(*ov[1000])} | "
                           f"{fmt_ovh(*ov[100000])} | {g:.2f} | {'yes' if ok else '**no**'} |")
    out.append("")
    if samples:
        text, v = storm_table(meta, data, samples)
        out.append(text)
        verdicts += v
    return "\n".join(out), verdicts


# ------------------------------------------------------------------ SVG

COLORS = {"floor": "#7f7f7f", "kern": "#1f77b4", "mni": "#d62728"}
NAMES = {"floor": "floor (no subscription)", "kern": "in-kernel engine",
         "mni": "mmu_interval_notifier.ko"}
PANELS = [
    ("inval", "madvise-none", "madvise(DONTNEED) 1 page, overlaps none", "K subscriptions in the mm", False),
    ("inval", "madvise-one", "madvise(DONTNEED) 1 page, overlaps one", "K subscriptions in the mm", False),
    ("insrem", "insert+remove", "insert + remove, K present (in-kernel)", "K subscriptions in the mm", False),
    ("inval", "munmap-none", "munmap + mmap 1 page, overlaps none", "K subscriptions in the mm", False),
    ("inval", "munmap-one", "munmap + mmap 1 page, overlaps one", "K subscriptions in the mm", False),
    ("wide", "mprotect", "mprotect over K subscriptions", "K subscriptions overlapped", True),
]


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def nice_ticks(lo, hi, n=5):
    if hi <= lo:
        hi = lo + 1
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = min((m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw), default=10 * mag)
    t = math.floor(lo / step) * step
    ticks = [t]
    while ticks[-1] < hi - step * 1e-9:
        ticks.append(ticks[-1] + step)
    return ticks


def log_axis(vals, h):
    """Whole decades around vals, and the y of a value on a panel h high."""
    ly0 = math.floor(math.log10(min(vals)))
    ly1 = math.ceil(math.log10(max(vals)))
    if ly1 == ly0:
        ly1 += 1

    def Y(v):
        return h - (math.log10(max(v, 1e-9)) - ly0) / (ly1 - ly0) * h
    return ly0, ly1, Y


def panel(data, x0, y0, w, h, fig, case, title, xlabel, ylog):
    key_ks = sorted({k for (f, c, k, m) in data if (f, c, m) == (fig, case, "ns_per_op")})
    s = [f'<g transform="translate({x0},{y0})">']
    s.append(f'<text x="{w / 2}" y="-12" text-anchor="middle" font-size="13" font-weight="bold">{esc(title)}</text>')
    series = {}
    for cfg in CFGS:
        pts = []
        for k in key_ks:
            st = stats_of(data, (fig, case, k, "ns_per_op"))[cfg]
            if st and st.n and math.isfinite(st.med):
                pts.append((k, st))
        series[cfg] = pts
    allv = [v for pts in series.values() for _, st in pts for v in (st.q1, st.q3, st.med) if math.isfinite(v) and v > 0]
    if not key_ks or not allv:
        s.append(f'<text x="{w / 2}" y="{h / 2}" text-anchor="middle">no data</text></g>')
        return "\n".join(s)
    kmin, kmax = min(key_ks), max(key_ks)
    lx0, lx1 = math.log10(max(kmin, 1)), math.log10(max(kmax, 10))
    if lx1 - lx0 < 1:
        lx1 = lx0 + 1
    pad = 0.06 * (lx1 - lx0)
    lx0 -= pad
    lx1 += pad

    def X(k):
        return (math.log10(max(k, 1)) - lx0) / (lx1 - lx0) * w

    if ylog:
        ly0, ly1, Y = log_axis(allv, h)
        yt = [10 ** e for e in range(ly0, ly1 + 1)]
    else:
        yt = nice_ticks(0, max(allv) * 1.05)
        ymax = yt[-1]

        def Y(v):
            return h - v / ymax * h
    s.append(f'<rect x="0" y="0" width="{w}" height="{h}" fill="white" stroke="#333"/>')
    for t in yt:
        y = Y(t)
        s.append(f'<line x1="0" y1="{y:.1f}" x2="{w}" y2="{y:.1f}" stroke="#ddd"/>')
        s.append(f'<text x="-6" y="{y + 4:.1f}" text-anchor="end" font-size="11">{esc(fmt(t))}</text>')
    for e in range(math.ceil(lx0), math.floor(lx1) + 1):
        x = (e - lx0) / (lx1 - lx0) * w
        s.append(f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{h}" stroke="#eee"/>')
        s.append(f'<text x="{x:.1f}" y="{h + 16}" text-anchor="middle" font-size="11">10<tspan dy="-5" font-size="8">{e}</tspan></text>')
    for k in key_ks:
        s.append(f'<line x1="{X(k):.1f}" y1="{h}" x2="{X(k):.1f}" y2="{h + 4}" stroke="#333"/>')
    s.append(f'<text x="{w / 2}" y="{h + 34}" text-anchor="middle" font-size="11">{esc(xlabel)} (log)</text>')
    s.append(f'<text transform="translate(-48,{h / 2}) rotate(-90)" text-anchor="middle" font-size="11">ns per operation{" (log)" if ylog else ""}</text>')
    for i, cfg in enumerate(CFGS):
        pts = series[cfg]
        if not pts:
            continue
        col = COLORS[cfg]
        dash = ' stroke-dasharray="5,3"' if cfg == "floor" else ""
        d = " ".join(f"{'M' if j == 0 else 'L'}{X(k):.1f},{Y(st.med):.1f}" for j, (k, st) in enumerate(pts))
        s.append(f'<path d="{d}" fill="none" stroke="{col}" stroke-width="2"{dash}/>')
        off = (i - 1) * 4
        for k, st in pts:
            x = X(k) + off
            s.append(f'<line x1="{x:.1f}" y1="{Y(st.q1):.1f}" x2="{x:.1f}" y2="{Y(st.q3):.1f}" stroke="{col}" stroke-width="1.2"/>')
            s.append(f'<circle cx="{x:.1f}" cy="{Y(st.med):.1f}" r="3.2" fill="{col}"><title>{esc(NAMES[cfg])}, K={k}: '
                     f'{st.med:.0f} ns (min {st.min:.0f}, max {st.max:.0f})</title></circle>')
    s.append("</g>")
    return "\n".join(s)


def fmt_decade_us(e):
    """10**e microseconds, as an axis label."""
    if e >= 6:
        return f"{10 ** (e - 6):g} s"
    if e >= 3:
        return f"{10 ** (e - 3):g} ms"
    return f"{10 ** e:g} µs"


def storm_panel(samples, x0, y0, w, h):
    """Figure 6: per operation and engine, the pooled samples' median
    (dot), p90 (bar) and max (tick), on a log scale of microseconds."""
    s = [f'<g transform="translate({x0},{y0})">']
    s.append(f'<text x="{w / 2}" y="-12" text-anchor="middle" font-size="13" font-weight="bold">'
             f'{esc("storm: 2 threads invalidating a subscription whose callback sleeps (figure 6)")}</text>')
    pts = {}
    for op, label, target in STORM_OPS:
        pooled = storm_pooled(samples, op)
        for cfg in STORM_CFGS:
            allv = pooled[cfg][0]
            if allv:
                pts[(op, cfg)] = [pct(allv, p) / 1e3 for _, _, p in STORM_STATS]
    allv = [v for vs in pts.values() for v in vs if v > 0]
    allv += [t / 1e3 for _, _, t in STORM_OPS]
    if not pts:
        s.append(f'<text x="{w / 2}" y="{h / 2}" text-anchor="middle">no data</text></g>')
        return "\n".join(s)
    ly0, ly1, Y = log_axis(allv, h)
    s.append(f'<rect x="0" y="0" width="{w}" height="{h}" fill="white" stroke="#333"/>')
    for e in range(ly0, ly1 + 1):
        y = Y(10 ** e)
        s.append(f'<line x1="0" y1="{y:.1f}" x2="{w}" y2="{y:.1f}" stroke="#ddd"/>')
        s.append(f'<text x="-6" y="{y + 4:.1f}" text-anchor="end" font-size="11">{esc(fmt_decade_us(e))}</text>')
    s.append(f'<text transform="translate(-58,{h / 2}) rotate(-90)" text-anchor="middle" font-size="11">'
             'time per operation (log)</text>')
    gw = w / len(STORM_OPS)
    for i, (op, label, target) in enumerate(STORM_OPS):
        gx0 = i * gw
        s.append(f'<text x="{gx0 + gw / 2:.1f}" y="{h + 16}" text-anchor="middle" font-size="11">{esc(label)}</text>')
        ty = Y(target / 1e3)
        s.append(f'<line x1="{gx0 + gw * 0.15:.1f}" y1="{ty:.1f}" x2="{gx0 + gw * 0.85:.1f}" y2="{ty:.1f}" '
                 f'stroke="#2ca02c" stroke-dasharray="4,3"><title>target for ours\' p90: {esc(fmt_time(target))}</title></line>')
        for j, cfg in enumerate(STORM_CFGS):
            if (op, cfg) not in pts:
                continue
            p50, p90, mx = pts[(op, cfg)]
            x = gx0 + gw * (0.38 + 0.24 * j)
            col = COLORS[cfg]
            s.append(f'<line x1="{x:.1f}" y1="{Y(p50):.1f}" x2="{x:.1f}" y2="{Y(mx):.1f}" stroke="{col}" stroke-width="1.2"/>')
            s.append(f'<line x1="{x - 7:.1f}" y1="{Y(p90):.1f}" x2="{x + 7:.1f}" y2="{Y(p90):.1f}" stroke="{col}" stroke-width="3"/>')
            s.append(f'<line x1="{x - 4:.1f}" y1="{Y(mx):.1f}" x2="{x + 4:.1f}" y2="{Y(mx):.1f}" stroke="{col}" stroke-width="1.2"/>')
            s.append(f'<circle cx="{x:.1f}" cy="{Y(p50):.1f}" r="3.2" fill="{col}"><title>{esc(NAMES[cfg])}, {esc(op)}: '
                     f'median {esc(fmt_time(p50 * 1e3))}, p90 {esc(fmt_time(p90 * 1e3))}, max {esc(fmt_time(mx * 1e3))}</title></circle>')
    s.append(f'<text x="{w - 6}" y="14" text-anchor="end" font-size="10" fill="#555">dot: median, bar: p90, '
             'tick: max of the pooled samples; dashed: target for ours\' p90</text>')
    s.append("</g>")
    return "\n".join(s)


def svg(meta, data, date, samples=None):
    cols, rows = 3, 2
    pw, ph = 300, 210
    ml, mt, gx, gy = 70, 80, 95, 85
    W = ml + cols * pw + (cols - 1) * gx + 30
    if samples:
        rows += 1
    H = mt + rows * ph + (rows - 1) * gy + 60
    s = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
         f'font-family="DejaVu Sans, Arial, sans-serif">']
    s.append(f'<rect width="{W}" height="{H}" fill="white"/>')
    s.append(f'<text x="{W / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">'
             f'Interval notifier engines side by side: {esc(meta.get("kernel", "?"))}, QEMU TCG, '
             f'{esc(meta.get("cpus", "?"))} vCPUs, {esc(date)}</text>')
    lx = ml
    for cfg in CFGS:
        dash = ' stroke-dasharray="5,3"' if cfg == "floor" else ""
        s.append(f'<line x1="{lx}" y1="46" x2="{lx + 28}" y2="46" stroke="{COLORS[cfg]}" stroke-width="2"{dash}/>')
        s.append(f'<circle cx="{lx + 14}" cy="46" r="3.2" fill="{COLORS[cfg]}"/>')
        s.append(f'<text x="{lx + 34}" y="50" font-size="12">{esc(NAMES[cfg])}</text>')
        lx += 250
    s.append(f'<text x="{lx}" y="50" font-size="11" fill="#555">dot: median, bar: quartiles of '
             f'{esc(meta.get("reps", "?"))} repetitions (min–max: see the table)</text>')
    for i, (fig, case, title, xlabel, ylog) in enumerate(PANELS):
        r, c = divmod(i, cols)
        s.append(panel(data, ml + c * (pw + gx), mt + r * (ph + gy), pw, ph, fig, case, title, xlabel, ylog))
    if samples:
        s.append(storm_panel(samples, ml, mt + 2 * (ph + gy), cols * pw + (cols - 1) * gx, ph))
    s.append("</svg>")
    return "\n".join(s) + "\n"


# ---------------------------------------------------------------- check

def check(data, samples, run_ok):
    n = npass = 0
    lines = []
    if run_ok is not None:
        n += 1
        if run_ok == 0:
            npass += 1
            lines.append(f"ok {n} - qemu run clean (run.sh verdict)")
        else:
            lines.append(f"not ok {n} - qemu run clean # run.sh exit {run_ok}, see its log")
    wanted = collections.OrderedDict()
    for fig, case, metric, *_ in ROWS:
        for k in EXPECTED_K[fig]:
            wanted[(fig, case, k, metric)] = None
    for key in wanted:
        n += 1
        fig, case, k, metric = key
        by_cfg = data.get(key, {})
        bad = []
        for cfg in CFGS:
            vals = list(by_cfg.get(cfg, {}).values())
            if not vals:
                bad.append(f"{cfg}: missing")
            elif not all(math.isfinite(v) and v >= 0 for v in vals):
                bad.append(f"{cfg}: not finite")
        name = f"{fig}/{case}/K={k}/{metric}"
        if bad:
            lines.append(f"not ok {n} - {name} # {'; '.join(bad)}")
        else:
            npass += 1
            st = stats_of(data, key)
            lines.append(f"ok {n} - {name} # floor {fmt(st['floor'].med)}, in-kernel {fmt(st['kern'].med)}, "
                         f"ours {fmt(st['mni'].med)}")
    # The storm: no floor; every statistic and the samples of both engines.
    fig, case, k = STORM_CASE
    for op, _label, _target in STORM_OPS:
        for stat, _sname, _p in STORM_STATS:
            n += 1
            metric = f"{op}_{stat}_ns"
            by_cfg = data.get((fig, case, k, metric), {})
            bad = []
            for cfg in STORM_CFGS:
                vals = list(by_cfg.get(cfg, {}).values())
                if not vals:
                    bad.append(f"{cfg}: missing")
                elif not all(math.isfinite(v) and v > 0 for v in vals):
                    bad.append(f"{cfg}: not finite")
            name = f"{fig}/{case}/{metric}"
            if bad:
                lines.append(f"not ok {n} - {name} # {'; '.join(bad)}")
            else:
                npass += 1
                st = stats_of(data, (fig, case, k, metric))
                lines.append(f"ok {n} - {name} # in-kernel {fmt_time(st['kern'].med)}, ours {fmt_time(st['mni'].med)}")
        n += 1
        pooled = storm_pooled(samples, op)
        counts = {cfg: len(pooled[cfg][0]) for cfg in STORM_CFGS}
        name = f"{fig}/{case}/{op} samples"
        if all(counts.values()) and all(math.isfinite(v) and v > 0 for cfg in STORM_CFGS for v in pooled[cfg][0]):
            npass += 1
            lines.append(f"ok {n} - {name} # in-kernel {counts['kern']}, ours {counts['mni']}")
        else:
            lines.append(f"not ok {n} - {name} # in-kernel {counts['kern']}, ours {counts['mni']}")
    print("TAP version 13")
    print("\n".join(lines))
    print(f"1..{n}")
    print(f"{npass} passed, {n - npass} failed")
    return npass == n


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("raw")
    ap.add_argument("--md")
    ap.add_argument("--svg")
    ap.add_argument("--date", default="")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--run-ok", type=int, help="with --check: run.sh's exit status, one more test")
    a = ap.parse_args()
    meta, data, samples = parse(a.raw)
    if a.check:
        sys.exit(0 if check(data, samples, a.run_ok) else 1)
    text, _ = table(meta, data, a.date, samples)
    if a.md:
        with open(a.md, "w", encoding="utf-8") as f:
            f.write(text)
    if a.svg:
        with open(a.svg, "w", encoding="utf-8") as f:
            f.write(svg(meta, data, a.date, samples))
    print(text)


if __name__ == "__main__":
    main()
