"""422 problems for rules that FastAPI's own validation cannot express, in the same shape
(a list of field errors) as its validation errors."""

from wayfare_common.problems import Problem


def invalid(errors: list[tuple[str, str]]) -> Problem:
    return Problem(
        "The request is not valid.",
        status=422,
        code="validation_error",
        errors=[
            {"field": field, "message": message, "type": "value_error"} for field, message in errors
        ],
    )
