"""The text DAG layout: columns by longest path, crossing reduction, and a drawing whose
edges really connect the boxes they claim to connect."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from magray_tui.todo.graph_layout import (
    ARROW,
    CROSSING,
    E,
    N,
    S,
    W,
    layout,
    longest_path_layers,
    related,
)

NODES = [("a", "Design"), ("b", "Migrations"), ("c", "Service"), ("d", "CLI"), ("e", "Pane")]
EDGES = [("a", "b"), ("b", "c"), ("c", "d"), ("c", "e"), ("a", "e")]

DIRS = {N: (0, -1), S: (0, 1), E: (1, 0), W: (-1, 0)}
CHAR_DIRS = {
    "│": N | S,
    "─": E | W,
    "╭": S | E,
    "╮": S | W,
    "╰": N | E,
    "╯": N | W,
    "├": N | S | E,
    "┤": N | S | W,
    "┬": E | W | S,
    "┴": E | W | N,
    "┼": N | S | E | W,
    ARROW: E | W,
}


def test_layers_are_the_longest_dependency_chain():
    layers = longest_path_layers([n for n, _ in NODES], EDGES)
    # e depends on a directly, but also on c (depth 2): the longest chain wins.
    assert layers == {"a": 0, "b": 1, "c": 2, "d": 3, "e": 3}


def test_every_edge_points_right_and_boxes_do_not_overlap():
    lay = layout(NODES, EDGES, box_width=16)
    for a, b in EDGES:
        assert lay.boxes[a].x + lay.boxes[a].width <= lay.boxes[b].x
    boxes = list(lay.boxes.values())
    for i, one in enumerate(boxes):
        for two in boxes[i + 1 :]:
            apart_x = one.x + one.width <= two.x or two.x + two.width <= one.x
            apart_y = one.y + one.height <= two.y or two.y + two.height <= one.y
            assert apart_x or apart_y, (one, two)
    assert lay.lines and all(len(line) == lay.width for line in lay.lines)
    assert len(lay.lines) == lay.height


def test_labels_are_drawn_and_cut_to_the_box():
    lay = layout([("x", "A very long task title that cannot fit")], [], box_width=16)
    assert lay.lines == [
        "╭──────────────╮",
        "│ A very long… │",
        "╰──────────────╯",
    ]


def test_a_chain_draws_as_one_straight_line():
    lay = layout([("a", "one"), ("b", "two"), ("c", "three")], [("a", "b"), ("b", "c")])
    row = lay.boxes["a"].port_row
    assert {box.port_row for box in lay.boxes.values()} == {row}
    assert lay.lines[row].count(ARROW) == 2
    assert len(lay.lines) == 3  # nothing bends


def test_barycentre_ordering_removes_avoidable_crossings():
    # Input order puts the children of a2 above those of a1: a naive order crosses.
    nodes = [("a1", "a1"), ("a2", "a2"), ("b2", "b2"), ("b1", "b1"), ("c2", "c2"), ("c1", "c1")]
    edges = [("a1", "b1"), ("a2", "b2"), ("b1", "c1"), ("b2", "c2")]
    lay = layout(nodes, edges, sweeps=0)
    assert lay.crossings == 1
    lay = layout(nodes, edges)
    assert lay.crossings == 0
    assert lay.layers[1] == ["b1", "b2"] and lay.layers[2] == ["c1", "c2"]


def _trace(lay, start_box):
    """Follow the lines leaving `start_box` on its right (never westwards, hopping over
    crossings): the boxes their arrows reach."""
    y = start_box.port_row
    x = start_box.x + start_box.width
    reached, seen = set(), set()
    if x >= lay.width or lay.lines[y][x] == " ":
        return reached  # nothing leaves this box
    stack = [(x, y, W)]
    while stack:
        cx, cy, came_from = stack.pop()
        if (cx, cy, came_from) in seen:  # a crossing is passed once each way
            continue
        seen.add((cx, cy, came_from))
        char = lay.lines[cy][cx]
        if char == ARROW:
            target = lay.box_at(cx + 1, cy)
            assert target is not None, f"an arrow at {(cx, cy)} points at no box"
            reached.add(target)
            continue
        if lay.box_at(cx, cy) is not None:
            continue
        if char == CROSSING and came_from in (E, W):  # the horizontal passes under
            stack.append((cx + (1 if came_from == W else -1), cy, came_from))
            continue
        dirs = CHAR_DIRS.get(char)
        assert dirs is not None and dirs & came_from, f"broken line at {(cx, cy)}: {char!r}"
        for bit, (dx, dy) in DIRS.items():
            # Edges run left to right: going west would walk up another edge.
            if dirs & bit and bit not in (came_from, W):
                back = {N: S, S: N, E: W, W: E}[bit]
                stack.append((cx + dx, cy + dy, back))
    return reached


def test_lines_from_a_box_reach_its_dependents_and_only_point_right():
    lay = layout(NODES, EDGES)
    for node, box in lay.boxes.items():
        dependents = {b for a, b in EDGES if a == node}
        reached = _trace(lay, box)
        assert dependents <= reached
        # Merged trunks may lead on to other boxes, but only in later columns.
        assert all(lay.boxes[r].layer > box.layer for r in reached)


def test_edge_cells_name_the_edges_through_them():
    lay = layout(NODES, EDGES)
    long_edge = lay.edges.index(("a", "e"))
    cells = [(x, y) for y, row in lay.edge_cells.items() for x, who in row.items()]
    on_long = [(x, y) for x, y in cells if long_edge in lay.edge_cells[y][x]]
    # The edge a→e crosses the columns of b and c: it has cells inside them.
    xs = {x for x, _ in on_long}
    assert any(lay.boxes["b"].x <= x < lay.boxes["b"].x + lay.boxes["b"].width for x in xs)
    assert any(lay.boxes["c"].x <= x < lay.boxes["c"].x + lay.boxes["c"].width for x in xs)
    for x, y in cells:
        assert lay.lines[y][x] != " "


def test_related_finds_ancestors_and_descendants():
    ancestors, descendants = related(EDGES, "c")
    assert ancestors == {"a", "b"}
    assert descendants == {"d", "e"}
    assert related(EDGES, "a") == (set(), {"b", "c", "d", "e"})


def test_unknown_ids_self_loops_and_cycles_do_not_break_the_drawing():
    lay = layout([("a", "A"), ("b", "B")], [("a", "zz"), ("a", "a"), ("a", "b"), ("b", "a")])
    assert set(lay.boxes) == {"a", "b"}
    assert lay.height >= 3


def test_two_hundred_tasks_lay_out_in_a_bounded_width():
    rng = random.Random(7)
    nodes = [(f"t{i}", f"task {i}") for i in range(240)]
    edges = [
        (f"t{rng.randrange(i)}", f"t{i}") for i in range(1, 240) for _ in range(rng.randint(0, 2))
    ]
    lay = layout(nodes, edges, box_width=20)
    assert len(lay.boxes) == 240
    depth = 1 + max(longest_path_layers([n for n, _ in nodes], edges).values())
    assert len(lay.layers) == depth
    for a, b in set(edges):
        assert b in _trace(lay, lay.boxes[a]), (a, b)


@st.composite
def dags(draw):
    n = draw(st.integers(1, 14))
    edges = draw(
        st.lists(
            st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda e: e[0] < e[1]),
            max_size=30,
        )
    )
    order = draw(st.permutations(range(n)))
    return [(f"n{i}", f"node {i}") for i in order], [(f"n{a}", f"n{b}") for a, b in edges]


@settings(max_examples=60, deadline=None)
@given(dags())
def test_any_dag_draws_every_edge_as_a_connected_line(dag):
    nodes, edges = dag
    lay = layout(nodes, edges, box_width=12)
    for a, b in set(edges):
        assert lay.boxes[a].x < lay.boxes[b].x
        assert b in _trace(lay, lay.boxes[a]), (a, b, "\n".join(lay.lines))


@pytest.mark.parametrize("width", [12, 20, 28])
def test_box_width_is_respected(width):
    lay = layout(NODES, EDGES, box_width=width)
    assert {b.width for b in lay.boxes.values()} == {width}
