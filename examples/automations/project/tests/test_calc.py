from calc import add, sub


def test_add():
    assert add(2, 2) == 4


def test_sub():
    assert sub(5, 3) == 2, f"sub(5, 3) == {sub(5, 3)}"
