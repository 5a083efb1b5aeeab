"""The table and results.json. Each row: Tandem's figure, each peer's from the same run, and the
ratio as Tandem's advantage (>1: Tandem better), never across native and Wine."""
import json


def row(figure, where, unit, tandem, peers, better="lower", note=""):
    ratios = {}
    for name, value in peers.items():
        if tandem and value:
            ratios[name] = value / tandem if better == "lower" else tandem / value
    return {"figure": figure, "where": where, "unit": unit, "tandem": tandem, "peers": peers,
            "better": better, "tandem_advantage": ratios, "note": note}


def fmt(value):
    if value is None:
        return "-"
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def table(rows):
    lines = [f"{'figure':<58} {'where':<8} {'unit':<6} {'Tandem':>10}  peers (Tandem's advantage)",
             "-" * 130]
    for r in rows:
        peers = "  ".join(
            f"{name} {fmt(v)}" + (f" ({r['tandem_advantage'][name]:.2f}x)"
                                  if name in r["tandem_advantage"] else "")
            for name, v in r["peers"].items())
        lines.append(f"{r['figure']:<58} {r['where']:<8} {r['unit']:<6} {fmt(r['tandem']):>10}  "
                     f"{peers}" + (f"  [{r['note']}]" if r["note"] else ""))
    return "\n".join(lines)


def write(path, rows, raw, meta):
    with open(path, "w") as f:
        json.dump({"meta": meta, "rows": rows, "raw": raw}, f, indent=2)
