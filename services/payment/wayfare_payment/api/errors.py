"""Domain refusals as RFC 9457 problems, with their stable codes."""

from fastapi import FastAPI, Request

from wayfare_common.problems import problem_response
from wayfare_payment.domain.errors import PaymentError


def install(app: FastAPI) -> None:
    @app.exception_handler(PaymentError)
    async def _payment_error(request: Request, exc: PaymentError):
        return problem_response(
            exc.status,
            exc.code,
            detail=exc.detail,
            instance=request.url.path,
            headers=exc.headers,
            **exc.extra,
        )
