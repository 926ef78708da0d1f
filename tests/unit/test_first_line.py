from alpha_migrate.errors import first_line


def test_an_exception_without_text_is_named_by_its_type():
    assert first_line(ValueError()) == "ValueError"
    assert first_line(ValueError("\n  \n")) == "ValueError"


def test_an_exception_with_text_gives_its_first_line():
    assert first_line(ValueError("Database Error\n  relation does not exist")) == "Database Error"
