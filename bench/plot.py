#!/usr/bin/env python3
"""Line chart of scan time against corpus size, as a hand-written SVG (standard library only).

Usage: plot.py bench/results/scaling.csv bench/results/scaling.svg

Reads the columns factor, bytes, access_audit_s, rg_s written by bench/report.py.
"""
import csv
import sys

W, H = 640, 400
ML, MR, MT, MB = 70, 150, 40, 60  # margins: left, right, top, bottom
SERIES = [("access_audit_s", "access-audit", "#1f77b4"), ("rg_s", "ripgrep", "#ff7f0e")]


def nice_max(v):
    for step in (0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5, 10, 20, 25, 50, 100, 200, 500, 1000):
        if v <= step * 5:
            return step * 5, step
    return v, v / 5


def main():
    src, out = sys.argv[1], sys.argv[2]
    rows = list(csv.DictReader(open(src, encoding="utf-8")))
    if not rows:
        print("plot.py: no rows", file=sys.stderr)
        return 1
    xs = [float(r["bytes"]) / 1e6 for r in rows]
    ymax_data = max(float(r[k]) for r in rows for k, _, _ in SERIES if r.get(k))
    xmax, xstep = nice_max(max(xs) * 1.05)
    ymax, ystep = nice_max(ymax_data * 1.1)
    pw, ph = W - ML - MR, H - MT - MB

    def px(x):
        return ML + x / xmax * pw

    def py(y):
        return MT + ph - y / ymax * ph

    o = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
         'font-family="sans-serif" font-size="12">',
         f'<rect width="{W}" height="{H}" fill="white"/>',
         f'<text x="{ML + pw / 2}" y="22" text-anchor="middle" font-size="14">'
         'Whole-corpus scan time against corpus size (1×, 2×, 4×)</text>']
    # grid and axes
    i = 0
    while i * ystep <= ymax + 1e-9:
        y = i * ystep
        o.append(f'<line x1="{ML}" y1="{py(y):.1f}" x2="{ML + pw}" y2="{py(y):.1f}" stroke="#ddd"/>')
        o.append(f'<text x="{ML - 8}" y="{py(y) + 4:.1f}" text-anchor="end">{y:g}</text>')
        i += 1
    i = 0
    while i * xstep <= xmax + 1e-9:
        x = i * xstep
        o.append(f'<line x1="{px(x):.1f}" y1="{MT}" x2="{px(x):.1f}" y2="{MT + ph}" stroke="#eee"/>')
        o.append(f'<text x="{px(x):.1f}" y="{MT + ph + 18}" text-anchor="middle">{x:g}</text>')
        i += 1
    o.append(f'<line x1="{ML}" y1="{MT + ph}" x2="{ML + pw}" y2="{MT + ph}" stroke="black"/>')
    o.append(f'<line x1="{ML}" y1="{MT}" x2="{ML}" y2="{MT + ph}" stroke="black"/>')
    o.append(f'<text x="{ML + pw / 2}" y="{H - 15}" text-anchor="middle">corpus size (MB of .py/.rs)</text>')
    o.append(f'<text x="18" y="{MT + ph / 2}" text-anchor="middle" '
             f'transform="rotate(-90 18 {MT + ph / 2})">wall time (s, mean of runs)</text>')
    # series
    for n, (key, label, color) in enumerate(SERIES):
        pts = [(px(x), py(float(r[key])), r) for x, r in zip(xs, rows) if r.get(key)]
        if not pts:
            continue
        path = " ".join(f"{a:.1f},{b:.1f}" for a, b, _ in pts)
        o.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
        for a, b, r in pts:
            o.append(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="4" fill="{color}"/>')
            o.append(f'<text x="{a + 6:.1f}" y="{b - 6:.1f}" fill="{color}">{float(r[key]):.2f} s</text>')
        ly = MT + 20 + n * 22
        o.append(f'<line x1="{ML + pw + 15}" y1="{ly}" x2="{ML + pw + 40}" y2="{ly}" stroke="{color}" stroke-width="2"/>')
        o.append(f'<text x="{ML + pw + 46}" y="{ly + 4}">{label}</text>')
    # ideal linear line for access-audit from the 1x point
    base = next((r for r in rows if r.get("access_audit_s") and r["factor"] == "1"), None)
    if base:
        k = float(base["access_audit_s"]) / (float(base["bytes"]) / 1e6)
        o.append(f'<line x1="{px(0):.1f}" y1="{py(0):.1f}" x2="{px(xmax):.1f}" y2="{py(min(ymax, k * xmax)):.1f}" '
                 'stroke="#1f77b4" stroke-dasharray="4 4" stroke-opacity="0.5"/>')
        ly = MT + 20 + len(SERIES) * 22
        o.append(f'<line x1="{ML + pw + 15}" y1="{ly}" x2="{ML + pw + 40}" y2="{ly}" stroke="#1f77b4" '
                 'stroke-dasharray="4 4" stroke-opacity="0.5"/>')
        o.append(f'<text x="{ML + pw + 46}" y="{ly + 4}">linear from 1×</text>')
    o.append("</svg>")
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join(o) + "\n")
    print(f"    wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
