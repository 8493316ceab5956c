from tests.disclosure_attacker import Solver


def test_solver_pins_a_small_cell_of_an_unprotected_table():
    solver = Solver()
    solver.exact("total", 20)
    solver.exact("zone.a", 12)
    solver.exact("zone.b", 6)
    solver.cell("zone.c", 0, 4)
    solver.equal_sum("total", ["zone.a", "zone.b", "zone.c"])
    assert solver.pinned(5) == [("zone.c", 2)]


def test_solver_pins_nothing_when_two_small_cells_stay_hidden():
    solver = Solver()
    solver.exact("total", 20)
    solver.exact("zone.a", 12)
    solver.cell("zone.b", 0, 4)
    solver.cell("zone.c", 0, 4)
    solver.cell("zone.d", 0, 4)
    solver.equal_sum("total", ["zone.a", "zone.b", "zone.c", "zone.d"])
    assert solver.pinned(5) == []
