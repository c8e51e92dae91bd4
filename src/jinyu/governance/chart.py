"""The anomaly-rate trend as a chart (SVG or PNG), one line per provider; drawn offline with matplotlib."""

from __future__ import annotations

import io
from collections import defaultdict

from jinyu.governance.schemas import TrendPoint


def trend_chart(points: list[TrendPoint], fmt: str = "svg") -> bytes:
    """Percent anomalous records per month and provider (log scale: 0.7 % and 0.03 % on one chart)."""
    import matplotlib

    matplotlib.use("Agg")  # no display; the hub runs headless
    from matplotlib import pyplot as plt

    series: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for p in points:
        if p.anomaly_rate_pct is not None:
            series[p.provider].append((p.period, float(p.anomaly_rate_pct)))
    fig, ax = plt.subplots(figsize=(10, 4.5), dpi=100)
    try:
        for provider, values in sorted(series.items()):
            ax.plot([v[0] for v in values], [max(v[1], 0.001) for v in values], marker=".", label=provider)
        ax.set_yscale("log")
        ax.set_ylabel("anomaly rate, % (log)")
        ax.set_title("Data anomaly rate by provider and month")
        ax.tick_params(axis="x", labelrotation=90, labelsize=7)
        if series:
            ax.legend(fontsize=7)
        fig.tight_layout()
        buffer = io.BytesIO()
        # A fixed date in the metadata: the same figures give the same file.
        meta = {"Date": None} if fmt == "svg" else {}
        fig.savefig(buffer, format=fmt, metadata=meta)
        return buffer.getvalue()
    finally:
        plt.close(fig)
