"""Auto-layout of a network graph: plain data in (node ids, edges, card heights), positions out.

Nodes go into columns by their longest path from an input; a long chain wraps into up to
:data:`MAX_BANDS` bands, like text, when wrapping shows the graph a lot larger in the view. No
widgets here: the editor hands in the view's size and the cards' heights.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence

COLUMN_GAP = 72.0
ROW_GAP = 34.0
MAX_BANDS = 4
BAND_GAP = 70.0
DEFAULT_VIEW = (800.0, 600.0)  # the view size assumed before the canvas is shown


def balanced_bands(n_columns: int, breaks: set[int], bands: int) -> list[int] | None:
    """Each column's band when a chain of columns wraps into ``bands`` rows at allowed breaks.

    Picks the breaks that make the widest band narrowest (then the most even), so a chain such as
    Input → [repeat block] → Output wraps around its block rather than leaving one card behind.
    None when there are too few allowed breaks.
    """
    allowed = sorted(b for b in breaks if 0 < b < n_columns)
    if bands - 1 > len(allowed):
        return None
    if math.comb(len(allowed), bands - 1) > 5000:  # a long graph: wrap greedily at even widths
        chosen: list[int] = []
        width, per_band = 0, math.ceil(n_columns / bands)
        for d in range(n_columns):
            if width >= per_band and d in breaks and len(chosen) < bands - 1:
                chosen.append(d)
                width = 0
            width += 1
    else:
        def cost(cuts: Iterable[int]) -> tuple[int, int]:
            edges = (0, *cuts, n_columns)
            widths = [b - a for a, b in zip(edges, edges[1:], strict=False)]
            return max(widths), sum(w * w for w in widths)

        chosen = list(min(itertools.combinations(allowed, bands - 1), key=cost))
    band_of, band = [], 0
    for d in range(n_columns):
        if band < len(chosen) and d == chosen[band]:
            band += 1
        band_of.append(band)
    return band_of


def fit_zoom(band_of: Sequence[int], columns: Mapping[int, list[str]], slot: float, node_width: float,
             view: tuple[float, float]) -> float:
    """The scale at which a banded layout fits a view of ``view`` pixels (at most 1)."""
    width_px, height_px = view if view[0] > 200 else DEFAULT_VIEW
    bands = max(band_of) + 1 if band_of else 1
    widths = [list(band_of).count(b) for b in range(bands)]
    slots = [max((len(columns.get(d, [])) for d in range(len(band_of)) if band_of[d] == b), default=1)
             for b in range(bands)]
    width = max(widths) * (node_width + COLUMN_GAP) + 80
    height = sum(slots) * slot + BAND_GAP * (bands - 1) + 80
    return min(1.0, width_px / width, height_px / height)


def layout_positions(ids: Sequence[str], edges: Iterable[Sequence[str]], heights: Mapping[str, float],
                     node_width: float, *, repeats: Iterable[Sequence[str]] = (),
                     view: tuple[float, float] = DEFAULT_VIEW) -> dict[str, tuple[float, float]]:
    """Scene positions (top-left corners) for a graph's nodes.

    Args:
        ids: the node ids, in the spec's order (ties keep it).
        edges: ``(source, dest)`` pairs; pairs naming unknown ids are ignored.
        heights: each node's card height.
        node_width: a card's width.
        repeats: the node ids of each repeat block (a block is never split across bands).
        view: the canvas viewport's size in pixels, to judge whether wrapping shows more.
    """
    ids = list(ids)
    if not ids:
        return {}
    edge_list = [(str(e[0]), str(e[1])) for e in edges]
    parents: dict[str, list[str]] = {n: [] for n in ids}
    for a, b in edge_list:
        if a in parents and b in parents:
            parents[b].append(a)
    depth: dict[str, int] = {}

    def depth_of(node_id: str, trail: frozenset[str] = frozenset()) -> int:
        if node_id in depth:
            return depth[node_id]
        if node_id in trail:  # a cycle: lay it out anyway
            return 0
        d = 1 + max((depth_of(p, trail | {node_id}) for p in parents[node_id]), default=-1)
        depth[node_id] = d
        return d

    for n in ids:
        depth_of(n)
    columns: dict[int, list[str]] = {}
    for n in ids:
        columns.setdefault(depth[n], []).append(n)
    n_columns = max(columns) + 1 if columns else 0
    slot = max(heights.get(n, 0.0) for n in ids) + ROW_GAP
    order: dict[str, float] = {}
    for d in range(n_columns):
        members = columns.get(d, [])
        # Order a column by its parents' places, so edges cross as little as they can.
        members.sort(key=lambda n: (sum(order.get(p, 0) for p in parents[n]) / max(1, len(parents[n])),
                                    ids.index(n)))
        for i, n in enumerate(members):
            order[n] = i - (len(members) - 1) / 2
    # Wrap only where one edge crosses (it becomes a "carriage return"), never inside a repeat
    # block (its frame must hold one row of cards).
    crossing = [0] * (n_columns + 1)
    for a, b in edge_list:
        if a in depth and b in depth:
            for d in range(depth[a] + 1, depth[b] + 1):
                crossing[d] += 1
    breaks = {d for d in range(1, n_columns) if crossing[d] == 1}
    for block in repeats:
        depths = [depth[n] for n in block if n in depth]
        if depths:
            breaks -= set(range(min(depths) + 1, max(depths) + 1))
    best: tuple[float, list[int]] | None = None
    for bands in range(1, min(n_columns, MAX_BANDS) + 1):
        band_of = balanced_bands(n_columns, breaks, bands)
        if band_of is None:
            continue
        zoom = fit_zoom(band_of, columns, slot, node_width, view)
        if best is None or zoom > best[0] * 1.3:  # wrap only when it shows a lot more
            best = (zoom, band_of)
    band_of = best[1] if best else []
    first_col = {b: band_of.index(b) for b in set(band_of)}
    band_slots: dict[int, int] = {}
    for d in range(n_columns):
        band_slots[band_of[d]] = max(band_slots.get(band_of[d], 0), len(columns.get(d, [])))
    positions: dict[str, tuple[float, float]] = {}
    centre, centres = 0.0, {}
    for band in sorted(band_slots):
        centres[band] = centre + band_slots[band] * slot / 2
        centre += band_slots[band] * slot + BAND_GAP
    for d in range(n_columns):
        band = band_of[d]
        col = d - first_col[band]
        for n in columns.get(d, []):
            # Slots centred on the band's middle line: a chain is straight, a fork symmetric.
            positions[n] = (col * (node_width + COLUMN_GAP), round(centres[band] + order[n] * slot, 1))
    return positions


__all__ = ["COLUMN_GAP", "balanced_bands", "fit_zoom", "layout_positions"]
