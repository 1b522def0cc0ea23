"""A layered drawing of a DAG in text: boxes in columns, edges as box-drawing characters.

Pure Python, no UI: the Tasks pane's graph view and `magray tasks graph` can both draw
from it, and the tests check its geometry directly.

The drawing runs left to right (work flows the way text is read): a node's column is the
length of the longest dependency chain before it, so every edge points right. Edges that
skip columns get a placeholder node in each column they cross (the Sugiyama method), so
they are routed like short ones and count in the crossing reduction. Within a column the
order comes from barycentre sweeps (each node moves to the mean position of its
neighbours in the column before, then after), keeping the order with the fewest
crossings seen. Rows follow the neighbours too: a node sits level with the mean of its
predecessors where there is room, so chains draw as straight lines.

Columns rather than rows because a terminal scrolls vertically well and horizontally
badly: wide DAGs (many independent tasks) become tall, and only long chains get wide.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

BOX_HEIGHT = 3
NODE_GAP = 1  # empty rows between stacked items in a column
MIN_GAP = 6  # columns between two layers of boxes
MAX_BOX_WIDTH = 48  # a box grown to fit the view (wider reads worse than a cut title)
ARROW = "▶"
CROSSING = "│"  # where lines cross without joining, the vertical one is drawn on top

# Line cells are bit masks of the directions a line leaves them in.
N, S, E, W = 1, 2, 4, 8
LINE_CHARS = {
    0: " ",
    N: "│",
    S: "│",
    N | S: "│",
    E: "─",
    W: "─",
    E | W: "─",
    S | E: "╭",
    S | W: "╮",
    N | E: "╰",
    N | W: "╯",
    N | S | E: "├",
    N | S | W: "┤",
    E | W | S: "┬",
    E | W | N: "┴",
    N | S | E | W: "┼",
}


@dataclass(frozen=True)
class Box:
    node: str
    layer: int
    x: int
    y: int
    width: int
    height: int = BOX_HEIGHT

    @property
    def port_row(self) -> int:
        """The row edges leave from and arrive at (the label row)."""
        return self.y + self.height // 2

    def contains(self, x: int, y: int) -> bool:
        return self.x <= x < self.x + self.width and self.y <= y < self.y + self.height


@dataclass
class GraphLayout:
    """Where everything goes. `lines` is the drawing; `edge_cells` says which edges (by
    index into `edges`) pass through each line cell, so a view can colour some of them."""

    width: int
    height: int
    boxes: dict[str, Box]
    layers: list[list[str]]
    edges: list[tuple[str, str]]
    lines: list[str]
    crossings: int
    edge_cells: dict[int, dict[int, frozenset[int]]] = field(default_factory=dict)
    row_boxes: dict[int, list[Box]] = field(default_factory=dict)

    def box_at(self, x: int, y: int) -> str | None:
        return next((b.node for b in self.row_boxes.get(y, ()) if b.contains(x, y)), None)


@dataclass
class _Item:
    """A node or a placeholder for an edge crossing a column."""

    key: int
    node: str | None  # None for a placeholder
    layer: int
    edge: int = -1  # the original edge a placeholder belongs to
    height: int = BOX_HEIGHT
    y: int = 0
    preds: list[int] = field(default_factory=list)
    succs: list[int] = field(default_factory=list)

    @property
    def port(self) -> int:
        return self.y + self.height // 2


def longest_path_layers(nodes: Sequence[str], edges: Iterable[tuple[str, str]]) -> dict[str, int]:
    """Column of each node: 0 without dependencies, else 1 + the deepest dependency's.
    Edges are (before, after). Nodes caught in a cycle (which a valid DAG never has) go
    after the ones that are not, so a bad input still draws."""
    preds: dict[str, list[str]] = defaultdict(list)
    succs: dict[str, list[str]] = defaultdict(list)
    indeg = dict.fromkeys(nodes, 0)
    for a, b in edges:
        if a in indeg and b in indeg and a != b:
            preds[b].append(a)
            succs[a].append(b)
            indeg[b] += 1
    layer: dict[str, int] = {}
    queue = deque(n for n in nodes if indeg[n] == 0)
    while queue:
        n = queue.popleft()
        layer[n] = 1 + max((layer[p] for p in preds[n]), default=-1)
        for m in succs[n]:
            indeg[m] -= 1
            if indeg[m] == 0:
                queue.append(m)
    for n in nodes:  # only in a cycle
        if n not in layer:
            layer[n] = 1 + max((layer.get(p, 0) for p in preds[n]), default=-1)
    return layer


def related(edges: Iterable[tuple[str, str]], node: str) -> tuple[set[str], set[str]]:
    """(ancestors, descendants) of `node`: everything it waits for, and everything that
    waits for it, transitively."""
    preds: dict[str, list[str]] = defaultdict(list)
    succs: dict[str, list[str]] = defaultdict(list)
    for a, b in edges:
        preds[b].append(a)
        succs[a].append(b)
    return _reach(preds, node), _reach(succs, node)


def _reach(adj: dict[str, list[str]], start: str) -> set[str]:
    seen: set[str] = set()
    stack = list(adj.get(start, ()))
    while stack:
        n = stack.pop()
        if n not in seen:
            seen.add(n)
            stack.extend(adj.get(n, ()))
    seen.discard(start)
    return seen


def layout(
    nodes: Sequence[tuple[str, str]],
    edges: Iterable[tuple[str, str]],
    *,
    box_width: int = 20,
    sweeps: int = 6,
    fit_width: int | None = None,
    max_box_width: int = MAX_BOX_WIDTH,
) -> GraphLayout:
    """Lay out `nodes` ((id, label) in the order to start from, e.g. topological) and
    `edges` ((before, after): after depends on before). Edges to unknown ids are ignored.
    With `fit_width` (the columns the view has) boxes grow from `box_width` up to
    `max_box_width` to use them, so labels are cut less; they never shrink below
    `box_width` (a graph wider than the view scrolls)."""
    labels = dict(nodes)
    order = [n for n, _ in nodes]
    edge_list = [(a, b) for a, b in dict.fromkeys(edges) if a in labels and b in labels and a != b]
    layer_of = longest_path_layers(order, edge_list)
    items, layers = _build_items(order, edge_list, layer_of)
    crossings = _order_layers(items, layers, sweeps)
    _place_rows(items, layers)
    gaps = [_route_gap(items, layers[i]) for i in range(len(layers) - 1)]
    if fit_width is not None and layers:
        spare = fit_width - sum(g.width for g in gaps)
        box_width = max(box_width, min(max_box_width, spare // len(layers)))
    return _draw(items, layers, gaps, edge_list, labels, box_width, crossings)


# ---- structure ---------------------------------------------------------------------------
def _build_items(
    order: list[str], edges: list[tuple[str, str]], layer_of: dict[str, int]
) -> tuple[list[_Item], list[list[int]]]:
    items = [_Item(i, n, layer_of[n]) for i, n in enumerate(order)]
    index = {n: i for i, n in enumerate(order)}
    for e, (a, b) in enumerate(edges):
        prev = index[a]
        if layer_of[b] <= layer_of[a]:  # only in a cycle: draw nothing for it
            continue
        for layer in range(layer_of[a] + 1, layer_of[b]):
            dummy = _Item(len(items), None, layer, edge=e, height=1)
            items.append(dummy)
            _link(items, prev, dummy.key)
            prev = dummy.key
        _link(items, prev, index[b])
    depth = 1 + max((it.layer for it in items), default=-1)
    layers: list[list[int]] = [[] for _ in range(depth)]
    for it in items:
        layers[it.layer].append(it.key)
    return items, layers


def _link(items: list[_Item], a: int, b: int) -> None:
    items[a].succs.append(b)
    items[b].preds.append(a)


# ---- order within columns ----------------------------------------------------------------
def _order_layers(items: list[_Item], layers: list[list[int]], sweeps: int) -> int:
    best = [list(layer) for layer in layers]
    best_count = _count_crossings(items, layers)
    for sweep in range(sweeps):
        down = sweep % 2 == 0
        indices = range(1, len(layers)) if down else range(len(layers) - 2, -1, -1)
        for i in indices:
            ref = layers[i - 1] if down else layers[i + 1]
            pos = {k: p for p, k in enumerate(ref)}
            keys: dict[int, float] = {}
            for p, k in enumerate(layers[i]):
                near = [pos[n] for n in (items[k].preds if down else items[k].succs)]
                keys[k] = sum(near) / len(near) if near else float(p)
            layers[i].sort(key=lambda k: keys[k])  # stable: ties keep their order
        count = _count_crossings(items, layers)
        if count < best_count:
            best, best_count = [list(layer) for layer in layers], count
    layers[:] = best
    return best_count


def _count_crossings(items: list[_Item], layers: list[list[int]]) -> int:
    """Edge crossings between adjacent columns: inversions of the target positions when
    the edges are sorted by source position (a Fenwick tree, O(E log V) per column)."""
    total = 0
    for i in range(len(layers) - 1):
        src = {k: p for p, k in enumerate(layers[i])}
        dst = {k: p for p, k in enumerate(layers[i + 1])}
        pairs = sorted((src[k], dst[s]) for k in layers[i] for s in items[k].succs)
        tree = [0] * (len(layers[i + 1]) + 1)
        for seen, (_, t) in enumerate(pairs):
            # edges seen so far that end strictly after t cross this one
            j, below = t + 1, 0
            while j > 0:
                below += tree[j]
                j -= j & -j
            total += seen - below
            j = t + 1
            while j < len(tree):
                tree[j] += 1
                j += j & -j
    return total


# ---- rows ----------------------------------------------------------------------------------
def _place_rows(items: list[_Item], layers: list[list[int]]) -> None:
    """Stack each column in its order; an item moves down to level its port with the mean
    of its predecessors' ports when there is room (never up, never out of order).

    An item's port row must not be the port row of an item in the column before that has
    edges but none to it: that item's line out and the lines in would share the row and
    look joined, so the item moves down a row instead."""
    for i, layer in enumerate(layers):
        left = {items[k].port: items[k] for k in layers[i - 1]} if i else {}
        bottom = 0
        for k in layer:
            it = items[k]
            want = bottom
            if i and it.preds:
                mean = sum(items[p].port for p in it.preds) / len(it.preds)
                want = max(bottom, round(mean) - it.height // 2)
                while (other := left.get(want + it.height // 2)) and _clash(other, k):
                    want += 1
            it.y = want
            bottom = it.y + it.height + NODE_GAP


def _clash(left: _Item, k: int) -> bool:
    return bool(left.succs) and k not in left.succs


# ---- edges between two columns --------------------------------------------------------------
@dataclass
class _Gap:
    width: int
    # (source port row, target port rows, channel or -1 for a straight line, source item)
    trunks: list[tuple[int, list[tuple[int, int]], int, int]]


def _route_gap(items: list[_Item], layer: list[int]) -> _Gap:
    """One vertical trunk per source item (its edges share it); trunks whose row spans
    overlap get different channels (greedy interval colouring)."""
    trunks = []
    for k in layer:
        it = items[k]
        if not it.succs:
            continue
        targets = sorted((items[s].port, s) for s in it.succs)
        rows = [it.port, *(r for r, _ in targets)]
        trunks.append((min(rows), max(rows), it.port, targets, k))
    trunks.sort()
    ends: list[int] = []  # last row used by each channel
    routed = []
    for lo, hi, port, targets, k in trunks:
        if lo == hi:
            routed.append((port, targets, -1, k))
            continue
        ch = next((c for c, end in enumerate(ends) if end < lo - 1), len(ends))
        if ch == len(ends):
            ends.append(hi)
        else:
            ends[ch] = hi
        routed.append((port, targets, ch, k))
    return _Gap(max(MIN_GAP, len(ends) + 4), routed)


# ---- drawing -------------------------------------------------------------------------------
def _draw(
    items: list[_Item],
    layers: list[list[int]],
    gaps: list[_Gap],
    edges: list[tuple[str, str]],
    labels: dict[str, str],
    box_width: int,
    crossings: int,
) -> GraphLayout:
    xs, x = [], 0
    for i in range(len(layers)):
        xs.append(x)
        x += box_width + (gaps[i].width if i < len(gaps) else 0)
    width = x
    height = max((it.y + it.height for it in items), default=0)
    mask: dict[tuple[int, int], int] = defaultdict(int)
    owners: dict[tuple[int, int], set[int]] = defaultdict(set)
    across: dict[tuple[int, int], set[int]] = defaultdict(set)  # horizontal owners
    down: dict[tuple[int, int], set[int]] = defaultdict(set)  # vertical owners
    arrows: set[tuple[int, int]] = set()

    index = {e: n for n, e in enumerate(edges)}

    def edge_of(k: int, s: int) -> int:
        """The original edge the segment from item k to item s belongs to."""
        a, b = items[k], items[s]
        if a.node is None:
            return a.edge
        return b.edge if b.node is None else index[a.node, b.node]

    def line(x0: int, x1: int, y: int, who: set[int]) -> None:
        lo, hi = min(x0, x1), max(x0, x1)
        for cx in range(lo, hi + 1):
            if cx > lo:
                mask[cx, y] |= W
            if cx < hi:
                mask[cx, y] |= E
            owners[cx, y] |= who
            across[cx, y] |= who

    def column(x: int, y0: int, y1: int, who: set[int]) -> None:
        lo, hi = min(y0, y1), max(y0, y1)
        for cy in range(lo, hi + 1):
            if cy > lo:
                mask[x, cy] |= N
            if cy < hi:
                mask[x, cy] |= S
            owners[x, cy] |= who
            down[x, cy] |= who

    boxes: dict[str, Box] = {}
    for i, layer in enumerate(layers):
        for k in layer:
            it = items[k]
            if it.node is not None:
                boxes[it.node] = Box(it.node, i, xs[i], it.y, box_width, it.height)
            else:  # a placeholder: the edge runs straight through the column
                line(xs[i] - 1, xs[i] + box_width, it.port, {it.edge})
    for i, gap in enumerate(gaps):
        x0, x1 = xs[i] + box_width, xs[i + 1] - 1  # first gap column, arrow column
        for port, targets, ch, k in gap.trunks:
            out = {edge_of(k, s) for _, s in targets}
            tx = x1 if ch < 0 else x0 + 2 + ch
            line(x0, tx, port, out)
            if ch >= 0:
                column(tx, min(port, targets[0][0]), max(port, targets[-1][0]), out)
            for row, s in targets:
                line(tx, x1, row, {edge_of(k, s)})
                if items[s].node is not None:
                    arrows.add((x1, row))
    grid = [[" "] * width for _ in range(height)]
    edge_cells: dict[int, dict[int, frozenset[int]]] = defaultdict(dict)
    for (cx, cy), bits in mask.items():
        if (cx, cy) in arrows:
            grid[cy][cx] = ARROW
        elif bits == N | S | E | W and not across[cx, cy] & down[cx, cy]:
            grid[cy][cx] = CROSSING  # two lines that do not meet: the vertical hops over
        else:
            grid[cy][cx] = LINE_CHARS[bits]
        edge_cells[cy][cx] = frozenset(owners[cx, cy])
    row_boxes: dict[int, list[Box]] = defaultdict(list)
    for box in boxes.values():
        _draw_box(grid, box, labels[box.node])
        for cy in range(box.y, box.y + box.height):
            row_boxes[cy].append(box)
    return GraphLayout(
        width=width,
        height=height,
        boxes=boxes,
        layers=[[items[k].node for k in layer if items[k].node is not None] for layer in layers],
        edges=edges,
        lines=["".join(row) for row in grid],
        crossings=crossings,
        edge_cells=dict(edge_cells),
        row_boxes=dict(row_boxes),
    )


def _draw_box(grid: list[list[str]], box: Box, label: str) -> None:
    inner = box.width - 2
    text = " ".join(label.split())
    text = text if len(text) <= inner - 2 else text[: inner - 3] + "…"
    rows = ["╭" + "─" * inner + "╮", "│ " + text.ljust(inner - 1) + "│", "╰" + "─" * inner + "╯"]
    for dy, row in enumerate(rows):
        grid[box.y + dy][box.x : box.x + box.width] = list(row)
