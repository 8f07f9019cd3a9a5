"""Charts of the published indices, for people: the headline PNG `groundswell summary` writes and the figures of
the trend explorer notebook. A suppressed cell is drawn as a gap, never as a value; a band is the 95% range of
the chained index, from each period's growth standard error (log growth errors of successive periods taken as
independent, so their variances add up the chain)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt  # headless (no display), pyplot draws with Agg; in Jupyter, inline
import numpy as np
import pandas as pd

Z95 = 1.96


def series(cells: pd.DataFrame, value: str = "revenue_index_cc", *, lag: int | None = None) -> pd.DataFrame:
    """One sector × region's cells by period: `value`, its 95% band (`low`, `high`), gaps where suppressed.

    An index's band spans the whole chain up to each period; a growth over `lag` periods (year over year:
    52 weeks, 12 months) spans only the links of that stretch."""
    frame = cells.sort_values("period").set_index("period")
    shown = frame["suppressed"].isna()
    variance = frame["growth_se"].fillna(0.0).pow(2)
    spread = np.sqrt(variance.cumsum() if lag is None else variance.rolling(lag, min_periods=1).sum())
    level = frame[value].where(shown) if lag is None else 1 + frame[value].where(shown)
    shift = 0 if lag is None else 1
    return pd.DataFrame({value: level - shift, "low": level * np.exp(-Z95 * spread) - shift, "high": level * np.exp(Z95 * spread) - shift})


def draw(axes, cells: pd.DataFrame, value: str, label: str, *, lag: int | None = None) -> None:
    line = series(cells, value, lag=lag)
    (drawn,) = axes.plot(line.index, line[value], label=label, linewidth=1.4, marker=".", markersize=4)  # a lone period shows too
    axes.fill_between(line.index, line["low"], line["high"], color=drawn.get_color(), alpha=0.15, linewidth=0)


def by_region(cells: pd.DataFrame, value: str, title: str, *, lag: int | None = None):
    """A panel per region, a line (with its band) per sector: the figure every view of the indices shares."""
    regions = sorted(cells["region"].unique())
    columns = 2 if len(regions) > 1 else 1
    rows = -(-len(regions) // columns)
    figure, grid = plt.subplots(rows, columns, figsize=(6.5 * columns, 3.6 * rows), sharex=True, squeeze=False)
    for axes, region in zip(grid.flat, regions):
        for sector, sector_cells in sorted(cells[cells["region"] == region].groupby("sector")):
            draw(axes, sector_cells, value, sector, lag=lag)
        axes.set_title(f"region {region}")
        axes.grid(alpha=0.3)
        axes.legend(fontsize=8, loc="upper left")
    for axes in grid.flat[len(regions):]:
        axes.set_visible(False)
    figure.suptitle(title)
    figure.autofmt_xdate()
    figure.tight_layout()
    return figure


def headline(weekly: pd.DataFrame, path: Path, title: str) -> Path:
    """The revenue index (constant currency, 100 = each cell's first period) per sector and region, as a PNG."""
    figure = by_region(weekly, "revenue_index_cc", title)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
