#!/usr/bin/env python3
"""Assembles the DIFFender Table 1 analogue from several `lustra eval run` folders.

Usage: scripts/table1.py FOLDER   (prints Markdown; FOLDER holds table1.json and the run folders it names)

Why several run folders: the harness keeps one image count per run and refuses a changed config in an existing folder,
so adaptive cells (256 images), non-adaptive cells (512), the costly black-box / GDPA cells (fewer images) and rows
added later (the diffusion defences, once their model is trained) each live in their own run folder. This script only
reads their report.json and samples.jsonl; it computes nothing the harness did not record, except the per-image worst
case over a defence's adaptive attacks (an image counts as robust only if it survived every one of them).

table1.json: {"title", "classifier", "runs": [folder, ...], "columns": [{"attack", "label", "seedKey", "seedMode",
"modes"}...], "rows": [{"defense", "label", "seed": {"clean", "advp", "lavan", "gdpa", "rhde"}}...], "seedModel",
"worstOf": [attack ids], "worstOfIfRun": [attack ids]}

A column's optional "modes" (default both) lists the sub-columns it has: an attack that exists only adaptively (the
detector-aware evade-lavan) has no NA column. "worstOf" attacks must all have been run for a defence to get a worst
case; "worstOfIfRun" attacks join a defence's worst case when its cell exists (evade-lavan exists only against
defences with a detector, so requiring it would blank every other row).
"""
import json
import math
import sys
from collections import defaultdict
from pathlib import Path


def load(folder):
    spec = json.loads((folder / "table1.json").read_text())
    cells, records, checks = {}, defaultdict(dict), []
    for run in spec["runs"]:
        d = folder / run
        if not (d / "report.json").exists():
            if (d / "manifest.json").exists() and (d / "samples.jsonl").exists():
                partial(d, run, cells, records, checks)
            else:
                checks.append(f"`{run}`: not run yet")
            continue
        rep = json.loads((d / "report.json").read_text())
        failed = [c for c in rep["checks"] if not c["passed"]]
        checks.append(f"`{run}`: {rep['evaluated']} of {rep['expected']} image evaluations, "
                      + ("all sanity checks passed" if not failed else
                         "FAILED: " + "; ".join(c["relation"] + " (" + c["detail"] + ")" for c in failed)))
        for c in rep["cells"]:
            if c["cell"] in cells:
                raise SystemExit(f"cell {c['cell']} appears in two run folders; list each cell once")
            cells[c["cell"]] = dict(c, run=run)
        for line in (d / "samples.jsonl").read_text().splitlines():
            if line.strip():
                r = json.loads(line)
                if r.get("nonFinite"):
                    raise SystemExit(f"non-finite record in {run}: {r['cell']} image {r['index']}: an error to find")
                records[r["cell"]][(r["seed"], r["index"])] = r
    return spec, cells, records, checks


def esc(text):
    """A Markdown table cell: pipes (in cell ids and worst-of route lists) escaped."""
    return str(text).replace("|", "\\|")


def partial(d, run, cells, records, checks):
    """An unfinished run: the cells whose every image is in the journal, scored from their records (no report yet)."""
    man = json.loads((d / "manifest.json").read_text())
    n = man["images"] * len(man["experiment"]["seeds"])
    by = defaultdict(dict)
    for line in (d / "samples.jsonl").read_text().splitlines():
        try:
            r = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut by a kill; the harness redoes its chunk
        by[r["cell"]][(r["seed"], r["index"])] = r
    done = [c for c in man["cells"] if len(by.get(c, {})) == n]
    for cid in done:
        rs = list(by[cid].values())
        if any(r.get("nonFinite") for r in rs):
            raise SystemExit(f"non-finite record in {run}: {cid}: an error to find")
        single, major, anyk = scores(rs)
        lo, hi = wilson(sum(r["robust"] for r in rs), len(rs))
        info = man["cells"][cid]
        cells[cid] = dict(info, cell=cid, run=run + " (unfinished run: scored from its journal)", images=len(rs),
                          cleanAccuracy=sum(r["cleanCorrect"] for r in rs) / len(rs), robustMean=major,
                          singleRobust=single, ciLow=lo, ciHigh=hi,
                          msPerImage=sorted(r["msPerImage"] for r in rs)[len(rs) // 2])
        if any("anyCopyFooled" in r for r in rs):
            cells[cid]["anyCopyRobust"] = anyk
        records[cid] = by[cid]
    checks.append(f"`{run}`: UNFINISHED — {len(done)} of {len(man['cells'])} cells complete in the journal, scored "
                  "from samples.jsonl (no report.json, so the harness's sanity checks have not run on it)")


def pct(x):
    return "–" if x is None else f"{100 * x:.1f}"


def scores(rs):
    """single, majority, any-of-K over records rs."""
    n = len(rs)
    single = sum(r["singleRobust"] for r in rs) / n
    major = sum(r["robust"] for r in rs) / n
    anyk = sum(r["robust"] and not r.get("anyCopyFooled", False) for r in rs) / n
    return single, major, anyk


def wilson(k, n, z=1.96):
    if n == 0:
        return (math.nan, math.nan)
    p = k / n
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return mid - half, mid + half


def cell_id(defense, attack, mode):
    return f"{defense}|{attack}|{'none' if defense == 'none' else mode}"


def main():
    folder = Path(sys.argv[1])
    spec, cells, records, checks = load(folder)
    cols = spec["columns"]
    out = [f"# {spec['title']}", ""]
    out.append("Generated by `scripts/table1.py " + str(folder) + "` from the run folders listed in `table1.json`; "
               "do not edit by hand. Robust accuracy in % (majority of K votes; K = 1 for deterministic defences, "
               "where single, majority and any-of-K coincide). NA = non-adaptive (attack on the bare classifier, "
               "output then defended), A = adaptive (attack through the defence, worst of every gradient route the "
               "defence declares, per image; RHDE is black-box: queries through the defence). "
               f"Seed = the seed paper's Table 1 on ImageNet ({spec['seedModel']}): AdvP and LaVAN adaptive (BPDA), "
               "GDPA and RHDE non-adaptive, 5 % patches, 100 iterations; our budgets are in the cell list below.")
    out.append("")
    head = ["defence", "clean (seed)"]
    counts = {}
    for c in cols:
        tag = f" (seed {c['seedKey']})" if c.get("seedKey") else ""
        na, a = (tag, "") if c.get("seedMode") == "nonadaptive" else ("", tag)
        for mode, t in (("nonadaptive", na), ("adaptive", a)):
            if mode not in c.get("modes", ["nonadaptive", "adaptive"]):
                continue
            ns = {x["images"] for x in cells.values() if x["attack"] == c["attack"] and "@" not in x["cell"]
                  and (x["mode"] == mode or (x["mode"] == "none" and mode == "nonadaptive"))}
            counts[(c["attack"], mode)] = ns
            n = f", n={next(iter(ns))}" if len(ns) == 1 else ""
            head.append(f"{c['label']} {'NA' if mode == 'nonadaptive' else 'A'}{n}{t}")
    optional = spec.get("worstOfIfRun", [])
    head += ["worst adaptive (" + ", ".join(spec["worstOf"]) + ("; and where run: " + ", ".join(optional)
                                                               if optional else "") + ")"]
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "---|" * len(head))
    details = []
    for row in spec["rows"]:
        d = row["defense"]
        seed = row.get("seed", {})
        clean = None
        for c in cells.values():
            if c["defense"] == d:
                clean = c["cleanAccuracy"] if clean is None else clean
        line = [f"{row['label']} (`{d}`)", f"{pct(clean)} ({seed.get('clean', '–')})"]
        for c in cols:
            for mode in c.get("modes", ["nonadaptive", "adaptive"]):
                cid = cell_id(d, c["attack"], mode)
                txt = "–"
                if d == "none" and mode == "adaptive" and "nonadaptive" in c.get("modes", ["nonadaptive"]):
                    txt = "= NA"
                elif cid in cells:
                    x = cells[cid]
                    txt = f"{pct(x['robustMean'])}"
                    if "anyCopyRobust" in x:
                        txt += f" ({pct(x['singleRobust'])}/{pct(x['anyCopyRobust'])})"
                    if len(counts[(c["attack"], mode)]) > 1:
                        txt += f" n={x['images']}"
                    details.append(x)
                if mode == c.get("seedMode", "adaptive") and seed.get(c.get("seedKey")) is not None:
                    txt += f" ({seed[c['seedKey']]})"
                line.append(txt)
        line.append(worst(d, spec["worstOf"], optional, records))
        out.append("| " + " | ".join(line) + " |")
    out.append("")
    out.append("Randomised defences show `majority (single/any-of-K)`. Missing cells (–) were not run; see "
               "\"What remains\" in README.md.")
    out += ["", "## Every cell", "",
            "| cell | run folder | threat model | budget | gradient route (EOT, scoring) | images | clean | single | "
            "majority | any-of-K | 95 % CI | ms/img |", "|" + "---|" * 12]
    for x in sorted(details, key=lambda x: x["cell"]):
        out.append("| " + " | ".join(esc(t) for t in [
            f"`{x['cell']}`", x["run"], x.get("threatModel", ""), x.get("budget", ""), x["gradientMode"],
            str(x["images"]), pct(x["cleanAccuracy"]), pct(x["singleRobust"]), pct(x["robustMean"]),
            pct(x.get("anyCopyRobust", x["robustMean"])), f"{pct(x['ciLow'])}–{pct(x['ciHigh'])}",
            f"{x['msPerImage']:.0f}"]) + " |")
    routes = sorted(k for k in cells if "@" in k)
    if routes:
        out += ["", "## Adaptive cells route by route (the worst-of cell keeps the worst per image)", "",
                "| route cell | gradient route | images | majority |", "|---|---|---|---|"]
        for k in routes:
            x = cells[k]
            out.append(f"| {esc('`' + k + '`')} | {esc(x['gradientMode'])} | {x['images']} | {pct(x['robustMean'])} |")
    out += ["", "## Run folders", ""] + ["- " + c for c in checks]
    print("\n".join(out))


def worst(defense, attacks, optional, records):
    """Per image, robust only if robust under every adaptive cell of `attacks`, and of `optional` where that cell was
    run (on the images all of them share)."""
    mode = "none" if defense == "none" else "adaptive"
    ids = [cell_id(defense, a, mode) for a in attacks]
    if not all(i in records for i in ids):
        return "–"
    ids += [i for i in (cell_id(defense, a, mode) for a in optional) if i in records]
    common = set.intersection(*(set(records[i]) for i in ids))
    if not common:
        return "–"
    per = []
    for key in sorted(common):
        rs = [records[i][key] for i in ids]
        per.append({"singleRobust": all(r["singleRobust"] for r in rs), "robust": all(r["robust"] for r in rs),
                    "anyCopyFooled": any(r.get("anyCopyFooled", False) or not r["robust"] for r in rs)})
    s, m, a = scores(per)
    lo, hi = wilson(round(m * len(per)), len(per))
    txt = f"{pct(m)} n={len(per)} [{pct(lo)}–{pct(hi)}]"
    if s != m or a != m:
        txt += f" ({pct(s)}/{pct(a)})"
    return txt


if __name__ == "__main__":
    main()
